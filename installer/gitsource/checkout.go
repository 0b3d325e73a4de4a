package gitsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/calctl/calctl/installer/gitsource/packindex"
	"github.com/calctl/calctl/internal/shutdown"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// checkoutTree writes a walked tree into the work tree dir, reading
// objects from gitdir, and returns the matching index, with one worker per
// CPU. Each worker reads the packs directly (packindex.Objects),
// directories are opened through os.Root, and every path is checked again
// before it is written, so a hostile tree cannot write outside dir or into
// a .git directory.
//
// With old nil, dir is empty (a fresh clone). Otherwise dir is a checkout
// of old, already found clean: like git checkout, files whose content and
// kind are unchanged stay as they are (their index entries are kept),
// tracked files the tree no longer has, or has changed, are removed and
// written anew, and an untracked file in the way of a new one is refused
// (ErrDirty) before anything is changed.
func checkoutTree(ctx context.Context, dir, gitdir string, t *treeIndex, old *index.Index, report func(Progress)) (*index.Index, error) {
	type file struct {
		i       int // index into entries
		name    string
		e       treeEntry
		replace bool // a tracked file of the old tree is there
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
	var kept map[string]*index.Entry
	var replaced map[string]bool
	if old != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if kept, replaced, err = prepareUpdate(root, t, old); err != nil {
			return nil, err
		}
		// Once files of the old commit are gone, the move is finished
		// even if interrupted (it is only the changed files): stopping
		// half-way would leave a work tree matching neither commit, which
		// the next run would refuse as local changes.
		ctx = context.WithoutCancel(ctx)
		defer shutdown.Hold()() // and calctl's exit after a signal waits for it
	}
	mkdir := func(p string) error {
		err := root.Mkdir(p, 0o755)
		if err != nil && old != nil && errors.Is(err, fs.ErrExist) {
			if fi, lerr := root.Lstat(p); lerr == nil && fi.IsDir() {
				return nil
			}
		}
		if err != nil {
			return fmt.Errorf("%w: cannot create %s: %v", ErrUnsafeRepository, p, err)
		}
		return nil
	}
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
			if err := mkdir(p); err != nil {
				return nil, err
			}
		case filemode.Submodule:
			if err := mkdir(p); err != nil {
				return nil, err
			}
			entries = append(entries, &index.Entry{Name: p, Hash: e.hash, Mode: filemode.Submodule})
		case filemode.Regular, filemode.Deprecated, filemode.Executable, filemode.Symlink:
			if ke := kept[p]; ke != nil {
				entries = append(entries, ke) // unchanged: not rewritten
				continue
			}
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
			j.files = append(j.files, file{i: len(entries) - 1, name: name, e: e, replace: replaced[p]})
		default:
			return nil, fmt.Errorf("%w: %s has unsupported mode %v", ErrUnsafeRepository, p, e.mode)
		}
	}
	total := int64(0)
	for _, j := range jobs {
		total += int64(len(j.files))
	}
	if total == 0 {
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
		return &index.Index{Version: 2, Entries: entries}, ctx.Err()
	}
	workers := min(max(runtime.GOMAXPROCS(0), 1), 8)
	ch := make(chan *job)
	var firstErr error
	var once sync.Once
	var failed atomic.Bool
	fail := func(err error) { once.Do(func() { firstErr = err; failed.Store(true) }) }
	var done atomic.Int64
	var wg sync.WaitGroup
	objs, err := packindex.OpenObjects(gitdir, checkoutCacheBytes/int64(workers))
	if err != nil {
		return nil, err
	}
	defer objs.Close()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		rd := &blobReader{objs: objs.Fork(), gitdir: gitdir}
		go func() {
			defer wg.Done()
			defer rd.close()
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
					if f.replace {
						if err := droot.Remove(f.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
							fail(fmt.Errorf("%s: remove %s: %w", j.dir, f.name, err))
							break
						}
					}
					if err := writeBlob(rd, droot, f.name, f.e, entries[f.i]); err != nil {
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

// prepareUpdate readies a clean checkout of old for tree t: it refuses an
// untracked file in the way of a new path, then removes the tracked files
// that t drops or turns into directories (and directories left empty by
// that). It returns old's entries that stay as they are, and the tracked
// files that t changes, which the writer removes just before writing them.
func prepareUpdate(root *os.Root, t *treeIndex, old *index.Index) (kept map[string]*index.Entry, replaced map[string]bool, err error) {
	oldBy := make(map[string]*index.Entry, len(old.Entries))
	for _, e := range old.Entries {
		oldBy[e.Name] = e
	}
	sameKind := func(a, b filemode.FileMode) bool {
		norm := func(m filemode.FileMode) filemode.FileMode {
			if m == filemode.Deprecated {
				return filemode.Regular
			}
			return m
		}
		return norm(a) == norm(b)
	}
	// underTracked reports whether a proper prefix of p is a tracked
	// file or symlink (to be removed): p's old state is that entry's.
	underTracked := func(p string) bool {
		for i := strings.IndexByte(p, '/'); i >= 0; i = next(p, i) {
			if e := oldBy[p[:i]]; e != nil && e.Mode != filemode.Submodule {
				return true
			}
		}
		return false
	}
	// Directories of the old tree exist already and are no conflict.
	oldDirs := map[string]bool{}
	for _, e := range old.Entries {
		for d := path.Dir(e.Name); d != "." && !oldDirs[d]; d = path.Dir(d) {
			oldDirs[d] = true
		}
	}
	var conflicts []string
	for _, p := range t.order {
		if oldBy[p] != nil || oldDirs[p] || underTracked(p) {
			continue
		}
		fi, err := root.Lstat(p)
		if err != nil {
			continue
		}
		if e := t.byPath[p]; (e.mode == filemode.Dir || e.mode == filemode.Submodule) && fi.IsDir() {
			continue
		}
		conflicts = append(conflicts, p)
	}
	if len(conflicts) > 0 {
		return nil, nil, fmt.Errorf("%w: %s would be overwritten by the new commit's files and git does not track them; move them away, then run again",
			ErrDirty, dirtyList(conflicts))
	}
	kept = map[string]*index.Entry{}
	replaced = map[string]bool{}
	var emptied []string
	for _, oe := range old.Entries {
		ne, inNew := t.byPath[oe.Name]
		if oe.Mode == filemode.Submodule {
			if !inNew || ne.mode != filemode.Submodule {
				_ = root.Remove(oe.Name) // only an empty placeholder goes
			}
			continue
		}
		if inNew && sameKind(ne.mode, oe.Mode) && ne.hash == oe.Hash {
			kept[oe.Name] = oe
			continue
		}
		if inNew && ne.mode != filemode.Dir && ne.mode != filemode.Submodule {
			replaced[oe.Name] = true // removed by the worker that writes it
			continue
		}
		if err := root.Remove(oe.Name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("remove %s: %w", oe.Name, err)
		}
		if i := strings.LastIndexByte(oe.Name, '/'); i > 0 {
			emptied = append(emptied, oe.Name[:i])
		}
	}
	// Directories the tree no longer has go when empty, deepest first.
	sort.Sort(sort.Reverse(sort.StringSlice(emptied)))
	for _, d := range emptied {
		for ; d != "" && d != "."; d = path.Dir(d) {
			if e, ok := t.byPath[d]; ok && e.mode == filemode.Dir {
				break
			}
			if root.Remove(d) != nil {
				break
			}
		}
	}
	return kept, replaced, nil
}

func next(p string, i int) int {
	j := strings.IndexByte(p[i+1:], '/')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// checkoutCacheBytes bounds the delta bases the checkout workers keep, in
// all. A shallow clone's pack has few deltas; a full clone's tip is mostly
// whole objects (git deltas older versions against newer ones).
const checkoutCacheBytes = 32 << 20

// blobReader reads blobs for one checkout worker: from the packs directly
// (packindex.Objects), or through go-git for an object that is not packed.
type blobReader struct {
	objs   *packindex.Objects
	gitdir string
	st     *packindex.Storage // opened on first use
}

func (b *blobReader) writeTo(h plumbing.Hash, w io.Writer) error {
	_, err := b.objs.WriteBlob(h, w)
	if !errors.Is(err, packindex.ErrNotFound) {
		return err
	}
	if b.st == nil {
		b.st = openStore(b.gitdir)
	}
	obj, err := b.st.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return err
	}
	rd, err := obj.Reader()
	if err != nil {
		return err
	}
	defer rd.Close()
	_, err = io.Copy(w, rd)
	return err
}

func (b *blobReader) close() {
	if b.st != nil {
		b.st.Close()
	}
}

// limitedBuffer keeps at most max bytes and fails past them.
type limitedBuffer struct {
	buf []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if len(l.buf)+len(p) > l.max {
		return 0, fmt.Errorf("longer than %d bytes", l.max)
	}
	l.buf = append(l.buf, p...)
	return len(p), nil
}

// writeBlob writes one file or symlink and fills its index entry.
func writeBlob(rd *blobReader, root *os.Root, path string, e treeEntry, ie *index.Entry) error {
	if e.mode == filemode.Symlink {
		lb := &limitedBuffer{max: 4096}
		if err := rd.writeTo(e.hash, lb); err != nil {
			return fmt.Errorf("read symlink %s: %w", path, err)
		}
		target := lb.buf
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
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%w: %s is written twice (a case or Unicode collision)", ErrUnsafeRepository, path)
			}
			return fmt.Errorf("%w: cannot write %s: %v", ErrUnsafeRepository, path, err)
		}
		if err := rd.writeTo(e.hash, f); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		fi, err := f.Stat() // the written file's stat data, without a path lookup
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return setStat(ie, fi)
	}
	fi, err := root.Lstat(path)
	if err != nil {
		return err
	}
	return setStat(ie, fi)
}

// setStat records a written file's stat data in its index entry, as git
// does, so that status and the next update see it unchanged unread.
func setStat(ie *index.Entry, fi os.FileInfo) error {
	ie.Size = uint32(fi.Size())
	ie.ModifiedAt = fi.ModTime()
	fillStat(ie, fi)
	return nil
}
