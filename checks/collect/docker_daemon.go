package collect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/calctl/calctl/checks"
)

// daemonJSON is where dockerd reads its configuration (dockerd
// --config-file, default /etc/docker/daemon.json; Docker docs "daemon
// configuration file"). A variable for tests.
var daemonJSON = "/etc/docker/daemon.json"

// procRoot is /proc (a variable for tests).
var procRoot = "/proc"

// daemonPosture reads what the Engine API does not tell: whether dockerd
// runs the userland proxy (`userland-proxy` in daemon.json or
// --userland-proxy on its command line; default true, CIS Docker 2.16).
// Only for a daemon on this host (a unix socket).
func daemonPosture(host string, d *checks.DockerFacts) {
	if !strings.HasPrefix(host, "unix://") {
		return
	}
	args := dockerdArgs()
	cfg := daemonJSON
	for i, a := range args {
		switch {
		case a == "--config-file" && i+1 < len(args):
			cfg = args[i+1]
		case strings.HasPrefix(a, "--config-file="):
			cfg = strings.TrimPrefix(a, "--config-file=")
		}
	}
	proxy, known := true, args != nil
	if b, err := readRegular(cfg, 1<<20); err == nil {
		d.DaemonConfig = cfg
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			known = true
			if v, ok := m["userland-proxy"].(bool); ok {
				proxy = v
			}
		}
	} else if os.IsNotExist(err) {
		known = true // no daemon.json: the default applies unless a flag says otherwise
	}
	for _, a := range args {
		switch a {
		case "--userland-proxy=false":
			proxy = false
		case "--userland-proxy=true", "--userland-proxy":
			proxy = true
		}
	}
	if known {
		d.UserlandProxy = &proxy
	}
}

// dockerdArgs returns the command line of the running dockerd, or nil.
func dockerdArgs() []string {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if filepath.Base(args[0]) == "dockerd" {
			return args[1:]
		}
	}
	return nil
}
