package collect

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/calctl/calctl/checks"
)

func collectHost(ctx context.Context, f *checks.Facts) error {
	h := &checks.HostFacts{}
	f.Host = h
	ls, err := Listeners("/proc")
	if err != nil {
		h.ListenersError = err.Error()
	}
	h.Listeners = ls
	dataPath := "/"
	for _, p := range []string{"/var/lib/docker", "/var/lib/postgresql"} {
		if _, err := os.Stat(p); err == nil {
			dataPath = p
			break
		}
	}
	h.DataPath = dataPath
	if dev, enc, err := deviceEncrypted(dataPath); err == nil {
		h.DataDevice, h.DataEncrypted = dev, enc
	}
	h.Swaps = swaps()
	if b, err := os.ReadFile("/sys/class/dmi/id/sys_vendor"); err == nil {
		h.SysVendor = strings.TrimSpace(string(b))
		for _, c := range []string{"Amazon", "Google", "Microsoft", "DigitalOcean", "Hetzner", "Linode", "Akamai", "OpenStack", "Scaleway", "OVH", "Vultr", "Oracle"} {
			if strings.Contains(h.SysVendor, c) {
				h.CloudVM = true
			}
		}
	}
	var tx unix.Timex
	if state, err := unix.Adjtimex(&tx); err != nil {
		h.TimeError = "adjtimex: " + err.Error()
	} else {
		synced := state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0
		h.TimeSynced, h.TimeMaxErrorUS = &synced, int64(tx.Maxerror)
	}
	sshd(ctx, h)
	h.AutoUpdates = autoUpdates()
	if st, err := os.Stat("/var/run/reboot-required"); err == nil {
		t := st.ModTime().UTC()
		h.RebootRequired = &t
	}
	if st, err := os.Stat("/var/run/docker.sock"); err == nil {
		fs := &checks.FileStat{Path: "/var/run/docker.sock", Kind: "socket", Exists: true, Mode: uint32(st.Mode().Perm())}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			fs.UID, h.DockerSockGID = int(sys.Uid), int(sys.Gid)
		}
		h.DockerSock = fs
	}
	h.DockerGroupMembers = groupMembers("/etc/group", "docker")
	h.BackupJobs = backupJobs()
	collectAudit(ctx, h)
	return ctx.Err()
}

// Listeners reads TCP sockets in LISTEN state from procRoot/net/tcp{,6}.
func Listeners(procRoot string) ([]checks.Listener, error) {
	var out []checks.Listener
	var firstErr error
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(filepath.Join(procRoot, "net", name))
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		ls, err := ParseProcNetTCP(string(b), name == "tcp6")
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	if len(out) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// ParseProcNetTCP parses /proc/net/tcp content, keeping LISTEN (0A) sockets.
func ParseProcNetTCP(s string, v6 bool) ([]checks.Listener, error) {
	var out []checks.Listener
	for i, line := range strings.Split(s, "\n") {
		fs := strings.Fields(line)
		if i == 0 || len(fs) < 4 || fs[3] != "0A" {
			continue
		}
		host, port, ok := strings.Cut(fs[1], ":")
		if !ok {
			return nil, fmt.Errorf("bad local address %q", fs[1])
		}
		p, err := strconv.ParseUint(port, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("bad port %q", port)
		}
		addr := "other"
		switch {
		case !v6 && host == "00000000":
			addr = "0.0.0.0"
		case v6 && host == "00000000000000000000000000000000":
			addr = "::"
		case !v6 && strings.HasSuffix(host, "7F"):
			addr = "127.0.0.1"
		case v6 && host == "00000000000000000000000001000000":
			addr = "::1"
		}
		out = append(out, checks.Listener{Addr: addr, Port: int(p)})
	}
	return out, nil
}

// deviceEncrypted finds the device under path and whether it is dm-crypt.
func deviceEncrypted(path string) (string, *bool, error) {
	fh, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", nil, err
	}
	defer fh.Close()
	best, dev, src := "", "", ""
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 {
			continue
		}
		mp := fs[4]
		if (path == mp || strings.HasPrefix(path, strings.TrimRight(mp, "/")+"/")) && len(mp) >= len(best) {
			best, dev = mp, fs[2]
			for i, x := range fs {
				if x == "-" && i+2 < len(fs) {
					src = fs[i+2]
				}
			}
		}
	}
	if dev == "" {
		return "", nil, fmt.Errorf("no mount for %s", path)
	}
	b, err := os.ReadFile("/sys/dev/block/" + dev + "/dm/uuid")
	if err != nil {
		if _, e := os.Stat("/sys/dev/block/" + dev); e != nil {
			return src, nil, nil // overlay or a virtual fs: unknown
		}
		no := false
		return src, &no, nil
	}
	enc := strings.HasPrefix(string(b), "CRYPT-")
	return src, &enc, nil
}

func swaps() []checks.Swap {
	b, err := os.ReadFile("/proc/swaps")
	if err != nil {
		return nil
	}
	var out []checks.Swap
	for i, l := range strings.Split(string(b), "\n") {
		fs := strings.Fields(l)
		if i == 0 || len(fs) == 0 {
			continue
		}
		s := checks.Swap{Name: fs[0]}
		if strings.Contains(fs[0], "zram") {
			s.Encrypted = true // in RAM
		} else if strings.HasPrefix(fs[0], "/dev/dm-") {
			u, _ := os.ReadFile("/sys/block/" + strings.TrimPrefix(fs[0], "/dev/") + "/dm/uuid")
			s.Encrypted = strings.HasPrefix(string(u), "CRYPT-")
		}
		out = append(out, s)
	}
	return out
}

func sshd(ctx context.Context, h *checks.HostFacts) {
	if p, err := exec.LookPath("sshd"); err == nil {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, p, "-T").Output(); err == nil {
			h.SSHFound = true
			for _, l := range strings.Split(string(out), "\n") {
				k, v, _ := strings.Cut(l, " ")
				switch k {
				case "passwordauthentication":
					h.SSHPasswordAuth = v
				case "permitrootlogin":
					h.SSHPermitRoot = v
				}
			}
			return
		}
	}
	files := []string{"/etc/ssh/sshd_config"}
	more, _ := filepath.Glob("/etc/ssh/sshd_config.d/*.conf")
	files = append(more, files...) // Include comes first in Debian's file; first value wins
	for _, fn := range files {
		b, err := readRegular(fn, 1<<20)
		if err != nil {
			continue
		}
		h.SSHFound = true
		for _, l := range strings.Split(string(b), "\n") {
			fs := strings.Fields(l)
			if len(fs) < 2 || strings.HasPrefix(fs[0], "#") {
				continue
			}
			switch strings.ToLower(fs[0]) {
			case "passwordauthentication":
				if h.SSHPasswordAuth == "" {
					h.SSHPasswordAuth = strings.ToLower(fs[1])
				}
			case "permitrootlogin":
				if h.SSHPermitRoot == "" {
					h.SSHPermitRoot = strings.ToLower(fs[1])
				}
			}
		}
	}
	if h.SSHFound {
		if h.SSHPasswordAuth == "" {
			h.SSHPasswordAuth = "yes"
		}
		if h.SSHPermitRoot == "" {
			h.SSHPermitRoot = "prohibit-password"
		}
	}
}

func autoUpdates() *bool {
	t, f := true, false
	if b, err := readRegular("/etc/apt/apt.conf.d/20auto-upgrades", 1<<20); err == nil {
		if strings.Contains(string(b), `Unattended-Upgrade "1"`) {
			return &t
		}
		return &f
	}
	if m, _ := filepath.Glob("/etc/systemd/system/timers.target.wants/dnf-automatic*.timer"); len(m) > 0 {
		return &t
	}
	if _, err := os.Stat("/etc/apt"); err == nil {
		return &f
	}
	return nil
}

func groupMembers(file, group string) []string {
	b, err := readRegular(file, 4<<20)
	if err != nil {
		return nil
	}
	for _, l := range strings.Split(string(b), "\n") {
		fs := strings.Split(l, ":")
		if len(fs) == 4 && fs[0] == group && fs[3] != "" {
			return strings.Split(fs[3], ",")
		}
	}
	return nil
}

var backupTools = []string{"pg_dump", "pg_dumpall", "pgbackrest", "wal-g", "barman", "restic", "borg"}

func backupJobs() []string {
	var files []string
	for _, g := range []string{"/etc/crontab", "/etc/cron.d/*", "/etc/cron.daily/*", "/etc/cron.hourly/*", "/var/spool/cron/crontabs/*", "/var/spool/cron/*", "/etc/systemd/system/*.service"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	var out []string
	for _, fn := range files {
		b, err := readRegular(fn, 1<<20) // a FIFO in /etc/cron.d must not hang check
		if err != nil {
			continue
		}
		for _, t := range backupTools {
			if strings.Contains(string(b), t) {
				out = append(out, fn+" runs "+t)
				break
			}
		}
	}
	return out
}
