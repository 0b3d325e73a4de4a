package gitsource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

func TestUpdate(t *testing.T) {
	fx := newMonorepo(t)
	dir := filepath.Join(t.TempDir(), "cal")
	ctx := context.Background()
	first, err := Clone(ctx, Options{URL: fx.parentURL, Dir: dir, Ref: "v1.0.0", Token: apiToken})
	if err != nil {
		t.Fatal(err)
	}

	// Same ref again: nothing changes.
	again, err := Update(ctx, Options{Dir: dir, Ref: "v1.0.0", Token: apiToken})
	if err != nil {
		t.Fatal(err)
	}
	if again.Head != first.Head || !strings.Contains(strings.Join(again.Notes, " "), "nothing changed") {
		t.Fatalf("re-run should change nothing: %+v", again)
	}

	// An untracked file is not a local change and survives the move.
	if err := os.WriteFile(filepath.Join(dir, "local-notes.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	moved, err := Update(ctx, Options{Dir: dir, Ref: "main", Token: apiToken})
	if err != nil {
		t.Fatal(err)
	}
	mainHead := testenv.Git(t, fx.parent.Dir, "rev-parse", "HEAD")
	if moved.Commit != mainHead {
		t.Fatalf("moved to %s, want %s", moved.Commit, mainHead)
	}
	if _, err := os.Stat(filepath.Join(dir, "CHANGELOG.md")); err != nil {
		t.Errorf("file of the new ref missing: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "local-notes.txt")); string(b) != "mine\n" {
		t.Error("untracked file lost")
	}
	if got := testenv.Git(t, filepath.Join(dir, "apps/api"), "rev-parse", "HEAD"); got != fx.apiPinned {
		t.Errorf("apps/api at %s after update, want %s", got, fx.apiPinned)
	}

	// A local change to a tracked file is refused, and kept.
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Update(ctx, Options{Dir: dir, Ref: "v1.0.0", Token: apiToken})
	if !errors.Is(err, ErrDirty) || !strings.Contains(err.Error(), "README.md") {
		t.Fatalf("err = %v, want ErrDirty naming README.md", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(b) != "edited\n" {
		t.Fatal("local change lost")
	}
	assertNoToken(t, dir, apiToken)

	// A different origin is refused.
	if _, err := Update(ctx, Options{Dir: dir, URL: fx.srv.RepoURL("calcom/other.git")}); !errors.Is(err, ErrDestination) {
		t.Fatalf("err = %v, want ErrDestination", err)
	}
}

// TestUpdateKeepsSubmoduleWork: re-running an update (as `calctl install`
// does) must never lose local work inside a resolved submodule: edits to
// its tracked files and files it does not track are refused by name, in
// every submodule mode, and a clean update does not rewrite the
// submodule's files (issue 11, item 1).
func TestUpdateKeepsSubmoduleWork(t *testing.T) {
	fx := newMonorepo(t)
	dir := filepath.Join(t.TempDir(), "cal")
	ctx := context.Background()
	if _, err := Clone(ctx, Options{URL: fx.parentURL, Dir: dir, Ref: "v1.0.0", Token: apiToken}); err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(dir, "apps/api/README.md")
	notes := filepath.Join(dir, "apps/api/v1/notes.txt")
	for _, tc := range []struct {
		name, want string
		change     func()
	}{
		{"tracked edit", "apps/api/README.md", func() { writeFile(t, readme, "# my api edits\n") }},
		{"untracked file", "apps/api/v1/notes.txt", func() { writeFile(t, notes, "mine\n") }},
	} {
		tc.change()
		for _, mode := range []Mode{Resolve, Flatten, Skip} {
			_, err := Update(ctx, Options{Dir: dir, Ref: "main", Token: apiToken, Submodules: mode})
			if !errors.Is(err, ErrDirty) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s, --submodules %s: err = %v, want ErrDirty naming %s", tc.name, mode, err, tc.want)
			}
		}
	}
	if b, _ := os.ReadFile(readme); string(b) != "# my api edits\n" {
		t.Fatalf("tracked edit lost: %q", b)
	}
	if b, _ := os.ReadFile(notes); string(b) != "mine\n" {
		t.Fatalf("untracked file lost: %q", b)
	}

	// Undone by hand (same content, new mtime): clean again, and the update
	// keeps the submodule's files where they are.
	writeFile(t, readme, "# api v1\n")
	if err := os.Remove(notes); err != nil {
		t.Fatal(err)
	}
	before := inode(t, filepath.Join(dir, "apps/api/v1/index.ts"))
	if _, err := Update(ctx, Options{Dir: dir, Ref: "main", Token: apiToken}); err != nil {
		t.Fatal(err)
	}
	if after := inode(t, filepath.Join(dir, "apps/api/v1/index.ts")); after != before {
		t.Errorf("apps/api was rewritten by an update that did not change its pinned commit")
	}
	if got := testenv.Git(t, filepath.Join(dir, "apps/api"), "status", "--porcelain"); got != "" {
		t.Errorf("apps/api not clean after the update: %s", got)
	}
	if got := testenv.Git(t, dir, "status", "--porcelain"); got != "" {
		t.Errorf("checkout not clean after the update: %s", got)
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// TestUpdateAbsoluteSymlinkIsNoChange: an absolute symlink in the tree
// (a dangling one too) is not a "local change" when the checkout is
// updated (issue 11, Low).
func TestUpdateAbsoluteSymlinkIsNoChange(t *testing.T) {
	srv := testenv.StartGitServer(t)
	p := testenv.NewWorkRepo(t).Write(map[string]string{"README.md": "x\n"})
	for name, target := range map[string]string{"etc-hosts": "/etc/hosts", "dangling": "/nonexistent/calctl"} {
		if err := os.Symlink(target, filepath.Join(p.Dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	p.Commit("links")
	testenv.Git(t, p.Dir, "tag", "v1")
	p.Write(map[string]string{"CHANGELOG.md": "next\n"})
	p.Commit("next")
	url := p.Publish(srv, "links.git")
	dir := filepath.Join(t.TempDir(), "cal")
	ctx := context.Background()
	if _, err := Clone(ctx, Options{URL: url, Dir: dir, Ref: "v1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Update(ctx, Options{Dir: dir, Ref: "main"}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if got, _ := os.Readlink(filepath.Join(dir, "etc-hosts")); got != "/etc/hosts" {
		t.Errorf("symlink now %q", got)
	}
}

// TestUpdateMovesLikeGit: an update across kind changes (a symlink that
// becomes a directory, a file that becomes a symlink, an executable bit
// dropped), removed directories and edits leaves the work tree exactly as
// a fresh git checkout of the new commit, keeps an untracked file, and
// refuses an untracked file in the way of a new one before changing
// anything.
func TestUpdateMovesLikeGit(t *testing.T) {
	srv := testenv.StartGitServer(t)
	p := testenv.NewWorkRepo(t).Write(map[string]string{"src/a.ts": "a1\n", "old/deep/x.txt": "x\n", "run.sh": "#!/bin/sh\n", "conf": "c1\n", "keep.md": "k\n"})
	if err := os.Chmod(filepath.Join(p.Dir, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("src", filepath.Join(p.Dir, "lib")); err != nil {
		t.Fatal(err)
	}
	p.Commit("v1")
	testenv.Git(t, p.Dir, "tag", "v1")
	for _, rm := range []string{"lib", "old", "conf"} {
		if err := os.RemoveAll(filepath.Join(p.Dir, rm)); err != nil {
			t.Fatal(err)
		}
	}
	p.Write(map[string]string{"lib/a.ts": "lib a\n", "src/a.ts": "a2\n", "run.sh": "#!/bin/sh\necho 2\n", "new/file.txt": "n\n"})
	if err := os.Chmod(filepath.Join(p.Dir, "run.sh"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("keep.md", filepath.Join(p.Dir, "conf")); err != nil {
		t.Fatal(err)
	}
	p.Commit("v2")
	url := p.Publish(srv, "kinds.git")

	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "cal")
	if _, err := Clone(ctx, Options{URL: url, Dir: dir, Ref: "v1"}); err != nil {
		t.Fatal(err)
	}
	// An untracked file where v2 puts one: refused, nothing changed.
	writeFile(t, filepath.Join(dir, "new"), "mine\n")
	before := workTreeHash(t, dir)
	if _, err := Update(ctx, Options{Dir: dir, Ref: "main"}); !errors.Is(err, ErrDirty) || !strings.Contains(err.Error(), "new") {
		t.Fatalf("err = %v, want ErrDirty naming new", err)
	}
	if workTreeHash(t, dir) != before {
		t.Fatal("a refused update changed the work tree")
	}
	if out := testenv.Git(t, dir, "status", "--porcelain"); out != "?? new" {
		t.Fatalf("a refused update moved HEAD or the index:\n%s", out)
	}
	if err := os.Remove(filepath.Join(dir, "new")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "notes.txt"), "mine\n")
	if _, err := Update(ctx, Options{Dir: dir, Ref: "main"}); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(t.TempDir(), "ref")
	testenv.Git(t, filepath.Dir(ref), "clone", "-q", url, ref)
	if err := os.RemoveAll(filepath.Join(ref, ".git")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(ref, "notes.txt"), "mine\n")
	if workTreeHash(t, dir) != testenv.TreeHash(t, ref) {
		t.Fatalf("work tree differs from git's checkout of main:\n%s", testenv.Git(t, dir, "status", "--porcelain", "--ignored"))
	}
	if out := testenv.Git(t, dir, "status", "--porcelain"); out != "?? notes.txt" {
		t.Fatalf("git status after the update:\n%s", out)
	}
}

// workTreeHash is testenv.TreeHash of dir without its .git.
func workTreeHash(t *testing.T, dir string) string {
	t.Helper()
	aside := filepath.Join(t.TempDir(), "git")
	if err := os.Rename(filepath.Join(dir, ".git"), aside); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := os.Rename(aside, filepath.Join(dir, ".git")); err != nil {
			t.Fatal(err)
		}
	}()
	return testenv.TreeHash(t, dir)
}
