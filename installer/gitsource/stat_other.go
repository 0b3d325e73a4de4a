//go:build !unix

package gitsource

import (
	"os"

	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// fillStat is a no-op where there is no unix stat data.
func fillStat(e *index.Entry, fi os.FileInfo) {}
