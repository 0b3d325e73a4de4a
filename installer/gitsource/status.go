package gitsource

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"

	"github.com/calctl/calctl/internal/safefile"
)

// localChanges lists the paths of work tree dir that differ from its index
// idx: tracked files modified, deleted or changed in kind, and, when
// untracked is set, files the index does not know. Like git, a file whose
// size and modification time match its index entry is taken as unchanged;
// any other is hashed and compared. Gitlinks are skipped (a submodule is
// checked on its own). A symlink is compared by its target as written,
// absolute or not, so an absolute symlink is no false change.
func localChanges(dir string, idx *index.Index, untracked bool) ([]string, error) {
	var changed []string
	known := map[string]bool{}
	for _, e := range idx.Entries {
		known[e.Name] = true
		if e.Mode == filemode.Submodule {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(e.Name))
		fi, err := os.Lstat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				changed = append(changed, e.Name+" (deleted)")
				continue
			}
			return nil, err
		}
		same, err := sameAsEntry(p, fi, e)
		if err != nil {
			return nil, err
		}
		if !same {
			changed = append(changed, e.Name)
		}
	}
	if untracked {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			if rel == "." {
				return nil
			}
			if rel == ".git" {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if known[rel] {
				if d.IsDir() {
					return filepath.SkipDir // a gitlink: its own repository
				}
				return nil
			}
			if !d.IsDir() {
				changed = append(changed, rel+" (untracked)")
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(changed)
	return changed, nil
}

// sameAsEntry reports whether the file at p (with fi from Lstat) has the
// content and kind index entry e records.
func sameAsEntry(p string, fi os.FileInfo, e *index.Entry) (bool, error) {
	switch {
	case e.Mode == filemode.Symlink:
		if fi.Mode()&os.ModeSymlink == 0 {
			return false, nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			return false, err
		}
		return hashBytes([]byte(target)) == e.Hash, nil
	case fi.Mode()&os.ModeSymlink != 0 || !fi.Mode().IsRegular():
		return false, nil
	case (e.Mode == filemode.Executable) != (fi.Mode().Perm()&0o100 != 0):
		return false, nil
	}
	if int64(e.Size) == fi.Size()&0xffffffff && e.ModifiedAt.Equal(fi.ModTime()) {
		return true, nil
	}
	f, _, err := safefile.Open(p, safefile.Options{NoFollow: true})
	if errors.Is(err, safefile.ErrNotRegular) {
		return false, nil // no longer the regular file the Lstat saw: a change
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := plumbing.NewHasher(plumbing.BlobObject, fi.Size())
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return h.Sum() == e.Hash, nil
}

func hashBytes(b []byte) plumbing.Hash {
	h := plumbing.NewHasher(plumbing.BlobObject, int64(len(b)))
	h.Write(b)
	return h.Sum()
}

// dirtyList formats local changes for ErrDirty, naming at most five.
func dirtyList(changed []string) string {
	more := ""
	if len(changed) > 5 {
		more = " and " + strconv.Itoa(len(changed)-5) + " more"
		changed = changed[:5]
	}
	return strings.Join(changed, ", ") + more
}

// submoduleIndex reads the index of the submodule checked out at sub (a
// directory of the work tree root), whose ".git" file must point into
// root's .git/modules. ok is false when sub holds no submodule checkout.
func submoduleIndex(root, sub string) (idx *index.Index, ok bool, err error) {
	b, err := safefile.ReadFile(filepath.Join(sub, ".git"), 64<<10)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, false, nil
		}
		if st, serr := os.Stat(filepath.Join(sub, ".git")); serr == nil && st.IsDir() {
			return nil, false, nil // a repository of its own, not a submodule checkout
		}
		return nil, false, err
	}
	gitdir := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(b)), "gitdir:"))
	if !filepath.IsAbs(gitdir) {
		gitdir = filepath.Join(sub, gitdir)
	}
	modules := filepath.Join(root, ".git", "modules") + string(filepath.Separator)
	if !strings.HasPrefix(filepath.Clean(gitdir)+string(filepath.Separator), modules) {
		return nil, false, fmt.Errorf("%s/.git points outside %s", sub, modules)
	}
	f, _, err := safefile.Open(filepath.Join(gitdir, "index"), safefile.Options{})
	if errors.Is(err, fs.ErrNotExist) {
		return &index.Index{Version: 2}, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	idx = &index.Index{}
	if err := index.NewDecoder(f).Decode(idx); err != nil {
		return nil, false, fmt.Errorf("read the index of %s: %w", sub, err)
	}
	return idx, true, nil
}
