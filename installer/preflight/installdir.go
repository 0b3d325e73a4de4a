package preflight

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// installDirCheck: install_dir exists and is writable, or can be created.
var installDirCheck = Check{
	Name: "install-dir",
	Run: func(ctx context.Context, in *Input) []Finding {
		p := in.InstallDir
		for {
			st, err := os.Stat(p)
			if err == nil {
				if !st.IsDir() {
					return []Finding{{Severity: Error, Message: fmt.Sprintf("install_dir %s cannot be created: %s is not a directory", in.InstallDir, p),
						Remedy: "choose another install_dir"}}
				}
				if err := unix.Access(p, unix.W_OK); err != nil {
					return []Finding{{Severity: Error, Message: fmt.Sprintf("install_dir %s is not writable: %s: %v", in.InstallDir, p, err),
						Remedy: fmt.Sprintf("run calctl as a user who can write %s (e.g. with sudo), or choose another install_dir", p)}}
				}
				return nil
			}
			parent := filepath.Dir(p)
			if parent == p {
				return nil
			}
			p = parent
		}
	},
}
