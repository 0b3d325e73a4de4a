package gitsource

import (
	"bytes"
	"path/filepath"

	"errors"
	"fmt"
	"github.com/calctl/calctl/installer/gitsource/packindex"
	"io"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/config"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// module is one vetted .gitmodules entry.
type module struct {
	name, path string
	rawURL     string // as written in .gitmodules
	url        string // resolved against the parent
	pinned     plumbing.Hash
	// missing says why the entry has no usable gitlink ("" when it has one).
	missing string
}

// readModules reads and vets .gitmodules from the cloned commit (before
// checkout) and checks the commit's tree against Limits. Any unsafe entry
// fails the clone, naming the entry.
// maxGitmodules caps .gitmodules: Cal.com's is under 2 KiB.
const maxGitmodules = 1 << 20

func (c *cloner) readModules() ([]*module, error) {
	commit, err := c.repo.CommitObject(plumbing.NewHash(c.res.Commit))
	if err != nil {
		return nil, err
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, err
	}
	entries, err := scanTree(tree, c.sizer(filepath.Join(c.tmp, ".git"), c.repo.Storer.EncodedObjectSize), c.o.Limits, 0, 0)
	if err != nil {
		return nil, err
	}
	c.tree = entries
	// Flattened files count against the same totals as the parent's.
	c.flatFiles, c.flatBytes = entries.files, entries.bytes
	gm, ok := entries.byPath[".gitmodules"]
	if !ok {
		return nil, nil
	}
	if gm.mode != filemode.Regular && gm.mode != filemode.Executable && gm.mode != filemode.Deprecated {
		return nil, fmt.Errorf("%w: .gitmodules is not a regular file (mode %v)", ErrUnsafeRepository, gm.mode)
	}
	blob, err := c.repo.BlobObject(gm.hash)
	if err != nil {
		return nil, err
	}
	rd, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	data, err := io.ReadAll(io.LimitReader(rd, maxGitmodules+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxGitmodules {
		return nil, fmt.Errorf(".gitmodules in %s at %s is over %d bytes; calctl refuses it rather than cut it off", c.url, short(c.res.Commit), maxGitmodules)
	}
	mods, err := parseModules(data)
	if err != nil {
		return nil, fmt.Errorf(".gitmodules in %s at %s is malformed: %w; fix it in the repository (or its fork) and clone again", c.url, short(c.res.Commit), err)
	}
	if err := vetModules(mods, entries); err != nil {
		return nil, err
	}
	for _, m := range mods {
		u, err := resolveURL(c.url, m.rawURL)
		if err == nil {
			u, err = c.auth.addEmbedded(u)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: submodule %q: %v", ErrUnsafeRepository, m.name, err)
		}
		m.url = u
	}
	return mods, nil
}

// sizer returns a size lookup for scanTree: straight from the packs of
// gitdir (packindex.Objects reads only an entry's header), or through
// fallback for an object that is not packed. The packs stay open until
// the clone ends (c.close).
func (c *cloner) sizer(gitdir string, fallback func(plumbing.Hash) (int64, error)) func(plumbing.Hash) (int64, error) {
	objs, err := packindex.OpenObjects(gitdir, 0)
	if err != nil {
		return fallback
	}
	c.closers = append(c.closers, objs.Close)
	return func(h plumbing.Hash) (int64, error) {
		if n, err := objs.Size(h); err == nil {
			return n, nil
		}
		return fallback(h)
	}
}

// parseModules decodes .gitmodules into entries sorted by path.
func parseModules(data []byte) ([]*module, error) {
	cfg := config.New()
	if err := config.NewDecoder(bytes.NewReader(data)).Decode(cfg); err != nil {
		return nil, err
	}
	var mods []*module
	seen := map[string]bool{}
	for _, sec := range cfg.Sections {
		if !strings.EqualFold(sec.Name, "submodule") {
			continue
		}
		for _, sub := range sec.Subsections {
			if seen[sub.Name] {
				continue // git merges repeated sections; the first path/url win below
			}
			seen[sub.Name] = true
			m := &module{name: sub.Name, path: sub.Option("path"), rawURL: sub.Option("url")}
			if m.path == "" {
				return nil, fmt.Errorf("submodule %q has no path", sub.Name)
			}
			if m.rawURL == "" {
				return nil, fmt.Errorf("submodule %q has no url", sub.Name)
			}
			mods = append(mods, m)
		}
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].path < mods[j].path })
	return mods, nil
}

// vetModules refuses unsafe names, paths and URLs and case-insensitive
// collisions, and finds each entry's pinned commit.
func vetModules(mods []*module, t *treeIndex) error {
	names := map[string]string{}
	paths := map[string]string{}
	for _, m := range mods {
		if err := checkRepoPath(m.name); err != nil {
			return fmt.Errorf("%w: submodule name %q: %v", ErrUnsafeRepository, m.name, err)
		}
		if err := checkRepoPath(m.path); err != nil {
			return fmt.Errorf("%w: submodule %q path: %v", ErrUnsafeRepository, m.name, err)
		}
		// git refuses a path that could pass for an option of a command
		// (looks_like_command_line_option in git's submodule-config.c).
		if strings.HasPrefix(m.path, "-") || strings.Contains(m.path, "/-") {
			return fmt.Errorf("%w: submodule %q path %q: a component starts with '-'", ErrUnsafeRepository, m.name, m.path)
		}
		if err := checkURL(m.rawURL); err != nil {
			return fmt.Errorf("%w: submodule %q url: %v", ErrUnsafeRepository, m.name, err)
		}
		if other, dup := names[strings.ToLower(m.name)]; dup {
			return fmt.Errorf("%w: submodule names %q and %q collide on case-insensitive file systems", ErrUnsafeRepository, other, m.name)
		}
		names[strings.ToLower(m.name)] = m.name
		if other, dup := paths[strings.ToLower(m.path)]; dup {
			return fmt.Errorf("%w: submodule paths %q and %q collide on case-insensitive file systems", ErrUnsafeRepository, other, m.path)
		}
		paths[strings.ToLower(m.path)] = m.path
		// Every prefix of the path must match the tree's own spelling.
		parts := strings.Split(m.path, "/")
		for i := range parts {
			prefix := strings.Join(parts[:i+1], "/")
			if both, ok := t.collide[strings.ToLower(prefix)]; ok {
				return fmt.Errorf("%w: submodule %q path: the tree has both \"%s\", which collide on case-insensitive file systems", ErrUnsafeRepository, m.name, both)
			}
			if exact, ok := t.lower[strings.ToLower(prefix)]; ok && exact != prefix {
				return fmt.Errorf("%w: submodule %q path %q collides with %q in the tree on case-insensitive file systems", ErrUnsafeRepository, m.name, prefix, exact)
			}
		}
		e, ok := t.byPath[m.path]
		switch {
		case !ok:
			m.missing = "no gitlink at " + m.path + " in the cloned commit (stale .gitmodules entry)"
		case e.mode != filemode.Submodule:
			m.missing = m.path + " is not a submodule in the cloned commit (it is a " + modeName(e.mode) + ")"
		default:
			m.pinned = e.hash
		}
	}
	for i, a := range mods {
		for _, b := range mods[i+1:] {
			la, lb := strings.ToLower(a.path)+"/", strings.ToLower(b.path)+"/"
			if strings.HasPrefix(lb, la) || strings.HasPrefix(la, lb) {
				return fmt.Errorf("%w: submodule paths %q and %q are nested", ErrUnsafeRepository, a.path, b.path)
			}
			// Names are the git directories under .git/modules: one inside
			// another would let a fetch write into the other's (git refuses
			// this too: validate_submodule_git_dir).
			na, nb := strings.ToLower(a.name)+"/", strings.ToLower(b.name)+"/"
			if strings.HasPrefix(nb, na) || strings.HasPrefix(na, nb) {
				return fmt.Errorf("%w: submodules %q and %q: their git directories nest (.git/modules/%s)", ErrUnsafeRepository, a.name, b.name, b.name)
			}
		}
	}
	return nil
}

func modeName(m filemode.FileMode) string {
	switch m {
	case filemode.Dir:
		return "directory"
	case filemode.Symlink:
		return "symlink"
	case filemode.Submodule:
		return "submodule"
	}
	return "file"
}

// treeEntry is one entry of a recursive tree walk.
type treeEntry struct {
	mode filemode.FileMode
	hash plumbing.Hash
	size int64
}

// treeIndex is a walked tree: entries by path, and by lower-cased path.
type treeIndex struct {
	byPath map[string]treeEntry
	lower  map[string]string // lower-cased path -> path as in the tree
	// collide maps lower-cased paths that the tree spells in two ways to
	// those spellings.
	collide map[string]string
	order   []string // paths in walk order
	files   int
	bytes   int64
}

// scanTree walks a tree once, enforcing Limits on files and bytes. The
// counts start from files and bytes already in the checkout, so the limits
// apply to the parent and its submodules together.
func scanTree(tree *object.Tree, size func(plumbing.Hash) (int64, error), lim Limits, files int, bytes int64) (*treeIndex, error) {
	t := &treeIndex{files: files, bytes: bytes, byPath: map[string]treeEntry{}, lower: map[string]string{}, collide: map[string]string{}}
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		te := treeEntry{mode: e.Mode, hash: e.Hash}
		if e.Mode.IsFile() {
			t.files++
			if sz, err := size(e.Hash); err == nil {
				te.size = sz
				t.bytes += sz
			}
			if t.files > lim.MaxFiles {
				return nil, fmt.Errorf("%w: more than %d files (raise --max-files if this repository is really that large)", ErrTooLarge, lim.MaxFiles)
			}
			if t.bytes > lim.MaxBytes {
				return nil, fmt.Errorf("%w: more than %d bytes of files (raise --max-bytes if this repository is really that large)", ErrTooLarge, lim.MaxBytes)
			}
		}
		t.byPath[name] = te
		if other, ok := t.lower[strings.ToLower(name)]; !ok {
			t.lower[strings.ToLower(name)] = name
		} else if other != name {
			t.collide[strings.ToLower(name)] = other + `" and "` + name
		}
		t.order = append(t.order, name)
	}
	return t, nil
}

// removeModuleSections rewrites .gitmodules without the named sections.
// It returns nil data when nothing is left.
func removeModuleSections(data []byte, names map[string]bool) ([]byte, error) {
	cfg := config.New()
	if err := config.NewDecoder(bytes.NewReader(data)).Decode(cfg); err != nil {
		return nil, err
	}
	for _, sec := range cfg.Sections {
		if !strings.EqualFold(sec.Name, "submodule") {
			continue
		}
		var keep config.Subsections
		for _, sub := range sec.Subsections {
			if !names[sub.Name] {
				keep = append(keep, sub)
			}
		}
		sec.Subsections = keep
	}
	var secs config.Sections
	for _, sec := range cfg.Sections {
		if len(sec.Subsections) > 0 || len(sec.Options) > 0 {
			secs = append(secs, sec)
		}
	}
	cfg.Sections = secs
	if len(secs) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := config.NewEncoder(&buf).Encode(cfg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
