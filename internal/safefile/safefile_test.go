package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/testenv"
)

// TestRead: what an install may hold instead of a file is refused at once
// with a one-line reason (issue 11 item 6), a file over the cap is refused
// rather than cut off, and a regular file reads in full.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, ".env")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		testenv.Unavailable(t, "a file system with FIFOs", err)
	}
	regular := filepath.Join(dir, "regular")
	os.WriteFile(regular, []byte("A=1\n"), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(regular, link)
	loop := filepath.Join(dir, "loop")
	os.Symlink(loop, loop)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	big := filepath.Join(dir, "big")
	fh, _ := os.Create(big)
	fh.Truncate(1 << 30) // sparse: a cap must not read it
	fh.Close()

	for _, tc := range []struct {
		name, path string
		max        int64
		o          Options
		want       string // "" means success with "A=1\n"
		is         error
	}{
		{"regular", regular, 1 << 20, Options{}, "", nil},
		{"regular at the cap", regular, 4, Options{}, "", nil},
		{"symlink followed", link, 1 << 20, Options{}, "", nil},
		{"symlink refused", link, 1 << 20, Options{NoFollow: true}, "a symlink", ErrNotRegular},
		{"FIFO", fifo, 1 << 20, Options{}, "is not a regular file (a FIFO)", ErrNotRegular},
		{"FIFO no-follow", fifo, 1 << 20, Options{NoFollow: true}, "is not a regular file (a FIFO)", ErrNotRegular},
		{"device", "/dev/zero", 1 << 20, Options{}, "is not a regular file (a character device)", ErrNotRegular},
		{"procfs", "/proc/self/status", 1 << 20, Options{}, "a file of the kernel's procfs", ErrNotRegular},
		{"directory", dir, 1 << 20, Options{}, "is not a regular file (a directory)", ErrNotRegular},
		{"over the cap", regular, 3, Options{}, "too large (4 > 3 bytes)", ErrTooLarge},
		{"sparse giant", big, 1 << 20, Options{}, "too large (1073741824 > 1048576 bytes)", ErrTooLarge},
		{"missing", filepath.Join(dir, "missing"), 1 << 20, Options{}, "no such file", fs.ErrNotExist},
		{"dangling symlink", dangling, 1 << 20, Options{}, "no such file", fs.ErrNotExist},
		{"symlink loop", loop, 1 << 20, Options{}, "too many levels of symbolic links", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			b, err := Read(tc.path, tc.max, tc.o)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if tc.want == "" {
				if err != nil || string(b) != "A=1\n" {
					t.Fatalf("got %q, %v", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v does not wrap %v", err, tc.is)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("not one line: %q", err)
			}
		})
	}
}

// TestOpenLeavesBlockingReads: the file Open returns reads like any other
// (the O_NONBLOCK used to open it is cleared).
func TestOpenLeavesBlockingReads(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("hello"), 0o600)
	f, st, err := Open(p, Options{NoFollow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st.Size() != 5 {
		t.Errorf("size %d", st.Size())
	}
	rc, _ := f.SyscallConn()
	var flags int
	rc.Control(func(fd uintptr) {
		r, _, _ := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		flags = int(r)
	})
	if flags&syscall.O_NONBLOCK != 0 {
		t.Errorf("O_NONBLOCK still set: %#o", flags)
	}
}

// TestReadDir: a FIFO where a state directory should be is refused at once.
func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "a"), nil, 0o600)
	ents, err := ReadDir(dir)
	if err != nil || len(ents) != 2 || ents[0].Name() != "a" {
		t.Fatalf("%v %v", ents, err)
	}
	fifo := filepath.Join(dir, "counts")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		testenv.Unavailable(t, "a file system with FIFOs", err)
	}
	if _, err := ReadDir(fifo); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("FIFO: %v", err)
	}
	if _, err := ReadDir(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

// TestReadIn: inside an os.Root (render's install dir) a FIFO is refused
// at once and a regular file reads in full.
func TestReadIn(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "docker-compose.yml"), 0o600); err != nil {
		testenv.Unavailable(t, "a file system with FIFOs", err)
	}
	os.WriteFile(filepath.Join(dir, ".env"), []byte("A=1\n"), 0o600)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := ReadIn(root, "docker-compose.yml", 0); !errors.Is(err, ErrNotRegular) {
		t.Errorf("FIFO: %v", err)
	}
	if b, err := ReadIn(root, ".env", 4); err != nil || string(b) != "A=1\n" {
		t.Errorf(".env: %q %v", b, err)
	}
	if _, err := ReadIn(root, ".env", 3); !errors.Is(err, ErrTooLarge) {
		t.Errorf("cap: %v", err)
	}
}
