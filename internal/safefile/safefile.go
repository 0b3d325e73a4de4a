// Package safefile is calctl's one way to read a file it did not write
// itself: a file from an install (.env, the compose and pm2 files,
// agent.yaml, state files), from the user (answers, waivers, a bundle) or
// from a cloned repository. Such a file may be a FIFO, a device, a symlink
// loop or a 50 GB sparse file, and none of them may hang or exhaust calctl
// (issue 11 item 6: a FIFO named .env hung check, doctor, bundle and render
// until SIGKILL).
//
// Open opens without blocking (O_NONBLOCK: opening a FIFO with no writer
// returns at once), O_CLOEXEC, and with O_NOFOLLOW when asked; it then
// fstat()s the open file, refuses anything but a regular file (and the
// "regular" files of procfs, sysfs, debugfs and tracefs, some of whose
// reads block: /proc/kmsg), and clears
// the non-blocking flag again so reads behave as usual. Read and ReadFile
// add a size cap: a larger file is refused with "too large (N > cap)",
// never cut off.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"syscall"
)

// ErrNotRegular is wrapped by every error for a path that is not a regular
// file (a FIFO, device, socket or directory).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by every error for a file over its size cap.
var ErrTooLarge = errors.New("too large")

// Options says how to open a file.
type Options struct {
	// NoFollow refuses a symlink as the last path element (O_NOFOLLOW);
	// use it where calctl never expects one.
	NoFollow bool
}

// Open opens path for reading as a regular file without ever blocking on
// it. The caller closes the file. A missing file is an error wrapping
// fs.ErrNotExist; a symlink under NoFollow one wrapping ErrNotRegular.
func Open(path string, o Options) (*os.File, fs.FileInfo, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	if o.NoFollow {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		if o.NoFollow && errors.Is(err, syscall.ELOOP) {
			if st, lerr := os.Lstat(path); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
				return nil, nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (a symlink; calctl does not follow one here)", ErrNotRegular)}
			}
		}
		return nil, nil, err
	}
	return vet(f, path)
}

// OpenIn is Open for a name inside root (os.Root: no escape through ".."
// or a symlink); name is reported as it is given.
func OpenIn(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return vet(f, name)
}

// ReadIn is ReadFile for a name inside root.
func ReadIn(root *os.Root, name string, max int64) ([]byte, error) {
	f, st, err := OpenIn(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCapped(f, st, name, max)
}

// vet keeps f only when it is a regular file off the kernel's pseudo file
// systems, in blocking mode again.
func vet(f *os.File, path string) (*os.File, fs.FileInfo, error) {
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is %w (%s)", path, ErrNotRegular, describe(st.Mode()))
	}
	if fsName := pseudoFS(f); fsName != "" {
		f.Close()
		return nil, nil, fmt.Errorf("%s is %w (a file of the kernel's %s, whose reads may block)", path, ErrNotRegular, fsName)
	}
	if err := setBlocking(f); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, st, nil
}

// ReadFile reads the regular file at path, refusing one over max bytes
// (max <= 0 means no cap; avoid it for anything from outside).
func ReadFile(path string, max int64) ([]byte, error) {
	return Read(path, max, Options{})
}

// Read is ReadFile with Options.
func Read(path string, max int64, o Options) ([]byte, error) {
	f, st, err := Open(path, o)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCapped(f, st, path, max)
}

func readCapped(f *os.File, st fs.FileInfo, path string, max int64) ([]byte, error) {
	if max > 0 && st.Size() > max {
		return nil, TooLarge(path, st.Size(), max)
	}
	r := io.Reader(f)
	if max > 0 {
		r = io.LimitReader(f, max+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if max > 0 && int64(len(b)) > max {
		return nil, TooLarge(path, int64(len(b)), max) // it grew while being read
	}
	return b, nil
}

// TooLarge is the error for a file of n bytes over a cap of max bytes;
// n < 0 means "more than max" (a stream that was not read to its end).
func TooLarge(path string, n, max int64) error {
	if n < 0 {
		return fmt.Errorf("%s is %w (more than %d bytes): calctl refuses it rather than cut it off", path, ErrTooLarge, max)
	}
	return fmt.Errorf("%s is %w (%d > %d bytes): calctl refuses it rather than cut it off", path, ErrTooLarge, n, max)
}

// describe names a file type for an error message.
func describe(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	}
	return m.Type().String()
}

// pseudoFS names the kernel file system f lives on when it is one whose
// "regular" files may block a read or never end (/proc/kmsg,
// tracefs' trace_pipe), and "" otherwise. Magic numbers from
// include/uapi/linux/magic.h.
func pseudoFS(f *os.File) string {
	var sfs syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &sfs); err != nil {
		return ""
	}
	switch uint32(sfs.Type) {
	case 0x9fa0:
		return "procfs"
	case 0x62656572:
		return "sysfs"
	case 0x64626720:
		return "debugfs"
	case 0x74726163:
		return "tracefs"
	}
	return ""
}

// setBlocking clears O_NONBLOCK on f: it was only there so that opening a
// FIFO could not block, and a regular file reads the same either way.
func setBlocking(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}

// ReadDir is os.ReadDir for a directory from an install or a state dir:
// it is opened with O_DIRECTORY|O_NONBLOCK, so a FIFO in its place is
// refused at once (ENOTDIR) instead of blocking. Entries are sorted by name.
func ReadDir(path string) ([]fs.DirEntry, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	return ents, err
}
