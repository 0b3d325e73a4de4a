package installer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

// TestCloneStepFreshThenUpdateThenDirty runs the clone step against a real
// git smart-HTTP server: a fresh clone, a re-run that moves to a new ref,
// and a re-run over local changes, which must be refused and kept.
func TestCloneStepFreshThenUpdateThenDirty(t *testing.T) {
	srv := testenv.StartGitServer(t)
	r := testenv.NewWorkRepo(t)
	r.Write(map[string]string{"package.json": `{"engines": {"node": ">=15.x <17"}}`, "apps/api/package.json": "{}"})
	r.Commit("v1")
	url := r.Publish(srv, "calcom/cal.com.git")

	dir := t.TempDir()
	a := &Answers{InstallDir: dir, PublicURL: "https://cal.example.com", Source: Source{URL: url, Ref: "main", Submodules: "skip"}}
	if err := a.Finish(); err != nil {
		t.Fatal(err)
	}
	run := func() (*State, error) {
		s := &State{Answers: a}
		return s, (&Engine{}).Run(context.Background(), []Step{cloneStep{}}, s)
	}
	s, err := run()
	if err != nil {
		t.Fatal(err)
	}
	if s.Repo.NodeMajor != 16 || !s.Repo.HasAPI || s.Repo.APIDir != "apps/api" || s.Repo.Commit == "" {
		t.Errorf("repo after clone: %+v", s.Repo)
	}
	first := s.Repo.Commit

	r.Write(map[string]string{"package.json": `{"engines": {"node": ">=18.x"}}`})
	r.Commit("v2")
	r.Publish(srv, "calcom/cal.com.git")
	s, err = run()
	if err != nil {
		t.Fatal(err)
	}
	if s.Repo.Commit == first || s.Repo.NodeMajor != 18 {
		t.Errorf("re-run did not move to the new commit: %+v", s.Repo)
	}

	local := filepath.Join(a.Source.Dir, "package.json")
	if err := os.WriteFile(local, []byte("local edit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = run()
	if err == nil || !strings.Contains(RemedyOf(err), "commit or stash") {
		t.Fatalf("dirty tree: err = %v, remedy %q", err, RemedyOf(err))
	}
	if b, _ := os.ReadFile(local); string(b) != "local edit\n" {
		t.Errorf("local change lost: %q", b)
	}
}
