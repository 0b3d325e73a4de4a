//go:build !unix

package gitsource

import "os"

// lockDir is a no-op without flock; removeStale then removes nothing.
func lockDir(p string) (unlock func()) { return func() {} }

func tryLockDir(p string) (unlock func(), ok bool) { return nil, false }

func ownedByMe(fi os.FileInfo) bool { return false }
