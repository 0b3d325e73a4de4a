//go:build unix

package gitsource

import (
	"os"
	"syscall"
)

// lockDir takes an exclusive lock on directory p for as long as this
// clone works in it, so that removeStale in another run leaves it alone;
// the kernel drops the lock when the process dies, however it dies.
func lockDir(p string) (unlock func()) {
	if u, ok := tryLockDir(p); ok {
		return u
	}
	return func() {}
}

// tryLockDir locks directory p if no one holds it.
func tryLockDir(p string) (unlock func(), ok bool) {
	f, err := os.Open(p)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}

// ownedByMe reports whether the file was made by this user.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}
