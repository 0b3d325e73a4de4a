package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/calctl/calctl/internal/atomicfile"
)

// writeOut writes a report to --out. A regular file (or a new path) is
// replaced atomically (temp file + rename, mode 0600), through a symlink
// to its target; anything else — /dev/null, /dev/stdout, a FIFO, a
// terminal — is opened and written directly. A non-regular file is never
// replaced by a rename (`--out /dev/null` as root once turned the device
// into a regular file).
func writeOut(path string, data []byte) error {
	target := path
	st, err := os.Stat(path) // follows symlinks
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if lst, lerr := os.Lstat(path); lerr == nil && lst.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("--out %s is a dangling symlink; remove it or choose another path", path)
		}
	case err != nil:
		return fmt.Errorf("--out %s: %w", path, err)
	case st.IsDir():
		return fmt.Errorf("--out %s is a directory; give a file name", path)
	case !st.Mode().IsRegular():
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("--out %s: %w", path, err)
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		return f.Close()
	default:
		if t, err := filepath.EvalSymlinks(path); err == nil {
			target = t
		}
	}
	if err := atomicfile.WriteFile(target, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
