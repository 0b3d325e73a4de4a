package gitsource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
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
