package gitsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// flatten fetches a submodule's pinned commit into a scratch repository
// and copies its files into the parent's work tree and index at the
// submodule's path. Writes go through os.Root, so no symlink (in the parent
// or in the submodule) can redirect a write outside the checkout.
func (c *cloner) flatten(ctx context.Context, m *module) error {
	if err := noSymlinkBelow(c.tmp, m.path); err != nil {
		return err
	}
	if c.updating {
		// Resolved by an earlier run: its checkout (clean, as checkClean
		// made sure) makes way for the flattened files.
		if _, isCheckout, err := submoduleIndex(c.tmp, filepath.Join(c.tmp, filepath.FromSlash(m.path))); err != nil {
			return err
		} else if isCheckout {
			if err := c.resetModule(m); err != nil {
				return err
			}
		}
	}
	c.report(Progress{Phase: "submodule " + m.path, Percent: -1, Message: "fetching " + short(m.pinned.String()) + " to flatten"})
	scratch := filepath.Join(c.tmp, ".git", "calctl-flatten")
	if err := os.RemoveAll(scratch); err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	srcStore := openStore(scratch)
	defer srcStore.Close()
	src, err := git.Init(srcStore, nil)
	if err != nil {
		return err
	}
	if _, err := src.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{m.url}}); err != nil {
		return err
	}
	auth, err := c.auth.forURL(m.url)
	if err != nil {
		return err
	}
	// Only the pinned tree is needed: fetch that one commit, shallow.
	err = src.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", Auth: auth, Depth: 1, Tags: git.NoTags,
		RefSpecs: []config.RefSpec{config.RefSpec("+" + m.pinned.String() + ":" + pinnedRef.String())}})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.res.Notes = append(c.res.Notes, fmt.Sprintf("submodule %s: the server would not send commit %s by itself; fetched full history to flatten it", m.path, short(m.pinned.String())))
		err = src.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", Auth: auth, Tags: git.AllTags,
			RefSpecs: []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*"}})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return fmt.Errorf("fetch %s: %s", redactURL(m.url), describeRemoteError(err, c.auth, m.url))
		}
	}
	commit, err := src.CommitObject(m.pinned)
	if err != nil {
		return fmt.Errorf("pinned commit %s is not in %s", m.pinned, redactURL(m.url))
	}
	tree, err := commit.Tree()
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(c.tmp)
	if err != nil {
		return err
	}
	defer root.Close()
	idx, err := c.repo.Storer.Index()
	if err != nil {
		return err
	}
	if _, err := idx.Remove(m.path); err != nil {
		return fmt.Errorf("remove gitlink from the index: %w", err)
	}
	st := &flattenState{lim: c.o.Limits, files: c.flatFiles, bytes: c.flatBytes}
	if err := st.copyTree(ctx, src, c.repo, root, idx, tree, m.path); err != nil {
		return err
	}
	c.flatFiles, c.flatBytes = st.files, st.bytes
	for _, n := range st.notes {
		c.res.Notes = append(c.res.Notes, "submodule "+m.path+": "+n)
	}
	return c.repo.Storer.SetIndex(idx)
}

// flattenState carries the running totals of a flatten.
type flattenState struct {
	lim   Limits
	files int
	bytes int64
	notes []string
	lower map[string]string
}

// copyTree writes every entry of tree below prefix through root, copies
// the blobs into dst's object store and adds index entries.
func (s *flattenState) copyTree(ctx context.Context, src, dst *git.Repository, root *os.Root, idx *index.Index, tree *object.Tree, prefix string) error {
	s.lower = map[string]string{}
	if err := root.MkdirAll(prefix, 0o755); err != nil {
		return fmt.Errorf("%w: cannot create %s: %v", ErrUnsafeRepository, prefix, err)
	}
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		name, e, err := w.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := checkRepoPath(name); err != nil {
			return fmt.Errorf("%w: %v", ErrUnsafeRepository, err)
		}
		if other, dup := s.lower[strings.ToLower(name)]; dup {
			return fmt.Errorf("%w: %q and %q collide on case-insensitive file systems", ErrUnsafeRepository, other, name)
		}
		s.lower[strings.ToLower(name)] = name
		rel := path.Join(prefix, name)
		switch e.Mode {
		case filemode.Dir:
			if err := root.MkdirAll(rel, 0o755); err != nil {
				return fmt.Errorf("%w: cannot create %s: %v", ErrUnsafeRepository, rel, err)
			}
		case filemode.Regular, filemode.Deprecated, filemode.Executable, filemode.Symlink:
			if err := s.copyBlob(src, dst, root, idx, e, rel); err != nil {
				return err
			}
		case filemode.Submodule:
			s.notes = append(s.notes, fmt.Sprintf("nested submodule %s (pinned %s) was not flattened", name, short(e.Hash.String())))
		default:
			s.notes = append(s.notes, fmt.Sprintf("%s has unsupported mode %v and was left out", name, e.Mode))
		}
	}
}

func (s *flattenState) copyBlob(src, dst *git.Repository, root *os.Root, idx *index.Index, e object.TreeEntry, rel string) error {
	obj, err := src.Storer.EncodedObject(plumbing.BlobObject, e.Hash)
	if err != nil {
		return fmt.Errorf("read %s: %w", rel, err)
	}
	s.files++
	s.bytes += obj.Size()
	if s.files > s.lim.MaxFiles {
		return fmt.Errorf("%w: more than %d files (raise --max-files if this repository is really that large)", ErrTooLarge, s.lim.MaxFiles)
	}
	if s.bytes > s.lim.MaxBytes {
		return fmt.Errorf("%w: more than %d bytes of files (raise --max-bytes if this repository is really that large)", ErrTooLarge, s.lim.MaxBytes)
	}
	rd, err := obj.Reader()
	if err != nil {
		return err
	}
	data, err := io.ReadAll(rd)
	rd.Close()
	if err != nil {
		return err
	}
	if e.Mode == filemode.Symlink {
		if err := root.Symlink(string(data), rel); err != nil {
			return fmt.Errorf("%w: cannot create symlink %s: %v", ErrUnsafeRepository, rel, err)
		}
	} else {
		perm := os.FileMode(0o644)
		if e.Mode == filemode.Executable {
			perm = 0o755
		}
		if err := root.WriteFile(rel, data, perm); err != nil {
			return fmt.Errorf("%w: cannot write %s: %v", ErrUnsafeRepository, rel, err)
		}
	}
	if _, err := dst.Storer.SetEncodedObject(obj); err != nil {
		return err
	}
	fi, err := root.Lstat(rel)
	if err != nil {
		return err
	}
	ie := idx.Add(rel)
	ie.Hash = e.Hash
	ie.Mode = e.Mode
	if e.Mode == filemode.Deprecated {
		ie.Mode = filemode.Regular
	}
	ie.Size = uint32(fi.Size())
	ie.ModifiedAt = fi.ModTime()
	fillStat(ie, fi)
	return nil
}

// commitFlatten removes the flattened submodules from .gitmodules and
// commits everything as one commit.
func (c *cloner) commitFlatten(mods []*module) error {
	w, err := c.repo.Worktree()
	if err != nil {
		return err
	}
	names := map[string]bool{}
	var parts []string
	for _, m := range mods {
		names[m.name] = true
		parts = append(parts, m.path+" at "+short(m.pinned.String()))
	}
	if err := c.rewriteGitmodules(w, names); err != nil {
		return err
	}
	return c.commit(w, "Flatten "+strings.Join(parts, ", "),
		"calctl copied these submodules' files at the pinned commits into this repository,\nso it can be pushed to a private remote as a single repository:\n\n"+c.describe(mods))
}
