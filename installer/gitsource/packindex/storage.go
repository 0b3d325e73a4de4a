// Package packindex writes fetched git packs to disk and indexes them the
// way `git index-pack --fix-thin` does, for go-git's filesystem storage.
//
// go-git's own pack writer resolves deltas on one goroutine, resolves many
// objects more than once, and keeps up to 96 MB of resolved objects in an
// LRU cache; on a repository with git's usual delta chains (depth 50) a full
// clone spends most of its time and memory there. This package streams the
// pack to a file while a first pass records every object's offset, CRC and
// (for whole objects) hash; a second pass then resolves the delta trees in
// parallel, one worker per CPU, each object exactly once, holding only the
// bases that still have children to resolve, within a memory budget (bases
// over budget are dropped and rebuilt from their chain when needed again).
//
// It also completes thin packs (deltas against objects the repository
// already has), which lets a fetch into an existing checkout transfer only
// what changed: see EnableThinPacks.
package packindex

import (
	"io"
	"runtime"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Options tune a Storage.
type Options struct {
	// Workers resolve deltas in parallel (default: GOMAXPROCS, at most 8).
	Workers int
	// BaseBudget bounds the bytes of resolved delta bases held at once,
	// across workers (default DefaultBaseBudget).
	BaseBudget int64
	// MaxObjectSize refuses any object larger than this (default 1 GiB), so
	// a hostile pack cannot make the indexer allocate without bound.
	MaxObjectSize int64
	// CacheSize is the go-git object cache of the storage (default 16 MiB).
	CacheSize cache.FileSize
}

// Defaults.
const (
	DefaultBaseBudget    = 48 << 20
	DefaultMaxObjectSize = 1 << 30
	DefaultCacheSize     = 16 * cache.MiByte
)

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = min(max(runtime.GOMAXPROCS(0), 1), 8)
	}
	if o.BaseBudget <= 0 {
		o.BaseBudget = DefaultBaseBudget
	}
	if o.MaxObjectSize <= 0 {
		o.MaxObjectSize = DefaultMaxObjectSize
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	return o
}

// Storage is go-git's filesystem storage for a .git directory whose
// PackfileWriter is this package's indexer. Everything else is go-git's.
type Storage struct {
	*filesystem.Storage
	fs   billy.Filesystem
	opts Options
}

// Open returns the storage for the .git directory gitdir. Pack files are
// kept open (go-git otherwise reopens a pack for every object it reads);
// Close releases them.
func Open(gitdir string, o Options) *Storage {
	o = o.withDefaults()
	fs := osfs.New(gitdir)
	st := filesystem.NewStorageWithOptions(fs, cache.NewObjectLRU(o.CacheSize), filesystem.Options{KeepDescriptors: true})
	return &Storage{Storage: st, fs: fs, opts: o}
}

// PackfileWriter implements storer.PackfileWriter: go-git's fetch copies
// the pack into the returned writer and closes it; Close returns once the
// pack and its index are in place (or the error that stopped them).
func (s *Storage) PackfileWriter() (io.WriteCloser, error) {
	return newWriter(s)
}

// EnableThinPacks lets go-git ask servers for thin packs, which every
// Storage completes. go-git leaves thin-pack out of what it asks for
// (transport.UnsupportedCapabilities) because its own pack writer cannot
// resolve deltas against objects outside the pack; with thin packs a fetch
// of a new tag into a shallow checkout transfers only what changed (on a
// Cal.com-shaped repository 0.5 MB instead of 16 MB). Call it only when
// every go-git repository the process fetches into is backed by a Storage.
func EnableThinPacks() {
	var keep []capability.Capability
	for _, c := range transport.UnsupportedCapabilities {
		if c != capability.ThinPack {
			keep = append(keep, c)
		}
	}
	transport.UnsupportedCapabilities = keep
}
