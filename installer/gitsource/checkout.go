package gitsource

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/calctl/calctl/installer/gitsource/packindex"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// freshCheckout writes the cloned commit's tree into the parent's empty
// work tree and sets the parent's index.
func (c *cloner) freshCheckout(ctx context.Context, t *treeIndex) error {
	idx, err := checkoutTree(ctx, c.tmp, filepath.Join(c.tmp, ".git"), t, c.report)
	if err != nil {
		return err
	}
	return c.repo.Storer.SetIndex(idx)
}

// checkoutTree writes a walked tree into the empty work tree dir, reading
// objects from gitdir, and returns the matching index, with one worker per
// CPU. Each worker has its own object storage (go-git's storage is not safe
// for concurrent use), directories are opened through os.Root, and every
// path is checked again before it is written, so a hostile tree cannot
// write outside dir or into a .git directory.
func checkoutTree(ctx context.Context, dir, gitdir string, t *treeIndex, report func(Progress)) (*index.Index, error) {
	type file struct {
		i    int // index into entries
		name string
		e    treeEntry
	}
	// A job is one directory's files: a worker opens the directory once
	// (through root, refusing symlinks) and creates its files by name.
	type job struct {
		dir   string
		files []file
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	entries := make([]*index.Entry, 0, len(t.order))
	byDir := map[string]*job{}
	var jobs []*job
	for _, p := range t.order {
		e := t.byPath[p]
		if err := checkRepoPath(p); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnsafeRepository, err)
		}
		switch e.mode {
		case filemode.Dir:
			if err := root.Mkdir(p, 0o755); err != nil {
				return nil, fmt.Errorf("%w: cannot create %s: %v", ErrUnsafeRepository, p, err)
			}
		case filemode.Submodule:
			if err := root.Mkdir(p, 0o755); err != nil {
				return nil, fmt.Errorf("%w: cannot create %s: %v", ErrUnsafeRepository, p, err)
			}
			entries = append(entries, &index.Entry{Name: p, Hash: e.hash, Mode: filemode.Submodule})
		case filemode.Regular, filemode.Deprecated, filemode.Executable, filemode.Symlink:
			entries = append(entries, &index.Entry{Name: p, Hash: e.hash, Mode: e.mode})
			dir, name := ".", p
			if i := strings.LastIndexByte(p, '/'); i >= 0 {
				dir, name = p[:i], p[i+1:]
			}
			j := byDir[dir]
			if j == nil {
				j = &job{dir: dir}
				byDir[dir] = j
				jobs = append(jobs, j)
			}
			j.files = append(j.files, file{i: len(entries) - 1, name: name, e: e})
		default:
			return nil, fmt.Errorf("%w: %s has unsupported mode %v", ErrUnsafeRepository, p, e.mode)
		}
	}
	total := int64(0)
	for _, j := range jobs {
		total += int64(len(j.files))
	}
	workers := min(max(runtime.GOMAXPROCS(0), 1), 8)
	ch := make(chan *job)
	var firstErr error
	var once sync.Once
	var failed atomic.Bool
	fail := func(err error) { once.Do(func() { firstErr = err; failed.Store(true) }) }
	var done atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := packindex.Open(gitdir, packindex.Options{})
			defer st.Close()
			for j := range ch {
				if failed.Load() {
					continue
				}
				droot, err := root.OpenRoot(j.dir)
				if err != nil {
					fail(fmt.Errorf("%w: cannot open %s: %v", ErrUnsafeRepository, j.dir, err))
					continue
				}
				for _, f := range j.files {
					if err := writeBlob(st, droot, f.name, f.e, entries[f.i]); err != nil {
						fail(fmt.Errorf("%s: %w", j.dir, err))
						break
					}
					if n := done.Add(1); n%1000 == 0 || n == total {
						report(Progress{Phase: "Checking out files", Percent: int(n * 100 / total), Message: fmt.Sprintf("Checking out files: %d/%d", n, total)})
					}
				}
				droot.Close()
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil || failed.Load() {
			break
		}
		ch <- j
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Mode == filemode.Deprecated {
			e.Mode = filemode.Regular
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return &index.Index{Version: 2, Entries: entries}, nil
}

// writeBlob writes one file or symlink and fills its index entry.
func writeBlob(st *packindex.Storage, root *os.Root, path string, e treeEntry, ie *index.Entry) error {
	obj, err := st.EncodedObject(plumbing.BlobObject, e.hash)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	rd, err := obj.Reader()
	if err != nil {
		return err
	}
	defer rd.Close()
	if e.mode == filemode.Symlink {
		target, err := io.ReadAll(io.LimitReader(rd, 4096))
		if err != nil {
			return err
		}
		if err := root.Symlink(string(target), path); err != nil {
			return fmt.Errorf("%w: cannot create symlink %s: %v", ErrUnsafeRepository, path, err)
		}
	} else {
		perm := os.FileMode(0o644)
		if e.mode == filemode.Executable {
			perm = 0o755
		}
		f, err := root.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err != nil {
			if strings.Contains(err.Error(), "exists") {
				return fmt.Errorf("%w: %s is written twice (a case or Unicode collision)", ErrUnsafeRepository, path)
			}
			return fmt.Errorf("%w: cannot write %s: %v", ErrUnsafeRepository, path, err)
		}
		if _, err := io.Copy(f, rd); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	fi, err := root.Lstat(path)
	if err != nil {
		return err
	}
	ie.Size = uint32(fi.Size())
	ie.ModifiedAt = fi.ModTime()
	fillStat(ie, fi)
	return nil
}
