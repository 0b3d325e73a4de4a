package preflight

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// memoryCheck: enough RAM for `next build` (MinRAMBytes); a few percent
// short is a warning.
var memoryCheck = Check{
	Name: "memory",
	Run: func(ctx context.Context, in *Input) []Finding {
		total, err := memTotal("/proc/meminfo")
		if err != nil {
			return []Finding{{Severity: Warning, Message: "cannot read RAM size: " + err.Error()}}
		}
		if sev, short := belowThreshold(total, MinRAMBytes); short {
			return []Finding{{Severity: sev, Message: fmt.Sprintf("%s RAM, Cal.com's build needs %s", gib(total), gib(MinRAMBytes)),
				Remedy: "use a host with 4 GiB RAM or more, or add swap and lower web.memory"}}
		}
		return nil
	},
}

func memTotal(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no MemTotal in %s", path)
}

// diskCheck: enough free disk where install_dir lives (MinDiskBytes).
var diskCheck = Check{
	Name: "disk",
	Run: func(ctx context.Context, in *Input) []Finding {
		p := existingAncestor(in.InstallDir)
		var st unix.Statfs_t
		if err := unix.Statfs(p, &st); err != nil {
			return []Finding{{Severity: Warning, Message: fmt.Sprintf("cannot read free space of %s: %v", p, err)}}
		}
		free := st.Bavail * uint64(st.Bsize)
		if sev, short := belowThreshold(free, MinDiskBytes); short {
			return []Finding{{Severity: sev, Message: fmt.Sprintf("%s free on %s, an install needs %s", gib(free), p, gib(MinDiskBytes)),
				Remedy: "free disk space (docker system prune) or choose an install_dir on a larger disk"}}
		}
		return nil
	},
}

func existingAncestor(p string) string {
	for {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(p)
		if parent == p {
			return p
		}
		p = parent
	}
}
