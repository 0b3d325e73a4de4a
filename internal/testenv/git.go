package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitEnv is a deterministic environment for git commands run by tests: no
// user or system config, fixed identities and dates.
func gitEnv() []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=calctl test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=calctl test", "GIT_COMMITTER_EMAIL=test@example.com",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
		"GIT_TERMINAL_PROMPT=0",
	)
}

// Git runs the git CLI in dir and returns its trimmed stdout; it fails t on error.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := GitOutput(dir, args...)
	if err != nil {
		t.Fatalf("git %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return out
}

// GitOutput runs the git CLI in dir and returns its trimmed combined output.
func GitOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv()
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// WorkRepo is a non-bare repository used to build fixtures, pushed into a
// GitServer's root as a bare repository.
type WorkRepo struct {
	t testing.TB
	// Dir is the work tree (a test temp dir), on branch main.
	Dir string
	// gitlinks are re-staged after `git add -A`, which would otherwise
	// drop them since their directories are not checked out.
	gitlinks map[string]string
}

// NewWorkRepo creates an empty work repository on branch main.
func NewWorkRepo(t testing.TB) *WorkRepo {
	t.Helper()
	dir := t.TempDir()
	Git(t, dir, "init", "-q", "-b", "main")
	return &WorkRepo{t: t, Dir: dir}
}

// Write writes files (path -> content) into the work tree, creating directories.
func (r *WorkRepo) Write(files map[string]string) *WorkRepo {
	r.t.Helper()
	for p, c := range files {
		full := filepath.Join(r.Dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	return r
}

// Commit stages everything and commits; it returns the new commit hash.
func (r *WorkRepo) Commit(msg string) string {
	r.t.Helper()
	Git(r.t, r.Dir, "add", "-A")
	for path, commit := range r.gitlinks {
		Git(r.t, r.Dir, "update-index", "--add", "--cacheinfo", "160000,"+commit+","+path)
	}
	Git(r.t, r.Dir, "commit", "-q", "--allow-empty", "-m", msg)
	return Git(r.t, r.Dir, "rev-parse", "HEAD")
}

// AddGitlink records a submodule entry (gitlink at path pinned to commit)
// without fetching it. The .gitmodules file is written by the caller, which
// lets fixtures declare malicious or unreachable submodules.
func (r *WorkRepo) AddGitlink(path, commit string) {
	r.t.Helper()
	if r.gitlinks == nil {
		r.gitlinks = map[string]string{}
	}
	r.gitlinks[path] = commit
	Git(r.t, r.Dir, "update-index", "--add", "--cacheinfo", "160000,"+commit+","+path)
}

// RemoveGitlink forgets a gitlink recorded with AddGitlink.
func (r *WorkRepo) RemoveGitlink(path string) {
	r.t.Helper()
	delete(r.gitlinks, path)
	Git(r.t, r.Dir, "update-index", "--force-remove", path)
}

// Publish copies the work repository into the server as the bare repository
// name (e.g. "calcom/api.git") and returns its clone URL. Publishing again
// updates the refs.
func (r *WorkRepo) Publish(g *GitServer, name string) string {
	r.t.Helper()
	bare := filepath.Join(g.Root, filepath.FromSlash(name))
	if _, err := os.Stat(bare); os.IsNotExist(err) {
		if err := os.MkdirAll(filepath.Dir(bare), 0o755); err != nil {
			r.t.Fatal(err)
		}
		Git(r.t, filepath.Dir(bare), "init", "-q", "--bare", "-b", "main", bare)
		Git(r.t, bare, "config", "uploadpack.allowReachableSHA1InWant", "true")
		Git(r.t, bare, "config", "uploadpack.allowAnySHA1InWant", "true")
	}
	Git(r.t, r.Dir, "push", "-q", "--force", "--tags", bare, "HEAD:refs/heads/main")
	Git(r.t, r.Dir, "push", "-q", "--force", bare, "refs/heads/*:refs/heads/*")
	return g.RepoURL(name)
}
