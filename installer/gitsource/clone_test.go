package gitsource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
)

func TestCloneModes(t *testing.T) {
	fx := newMonorepo(t)
	tests := []struct {
		name  string
		mode  Mode
		token string
		want  map[string]string // path -> action
		check func(t *testing.T, dir string, res *Result)
	}{
		{
			name: "resolve with token", mode: Resolve, token: apiToken,
			want: map[string]string{"apps/api": ActionResolved, "packages/ui": ActionResolved, "apps/website": ActionSkipped, "apps/missing": ActionSkipped},
			check: func(t *testing.T, dir string, res *Result) {
				// Pinned commit, not the branch tip.
				if got := testenv.Git(t, filepath.Join(dir, "apps/api"), "rev-parse", "HEAD"); got != fx.apiPinned {
					t.Errorf("apps/api at %s, want pinned %s (tip is %s)", got, fx.apiPinned, fx.apiTip)
				}
				b, err := os.ReadFile(filepath.Join(dir, "apps/api/README.md"))
				if err != nil || string(b) != "# api v1\n" {
					t.Errorf("apps/api/README.md = %q, %v", b, err)
				}
				status := testenv.Git(t, dir, "submodule", "status")
				for _, line := range strings.Split(status, "\n") {
					if line == "" || strings.ContainsAny(line[:1], "+-U") {
						t.Errorf("git submodule status not clean: %q", line)
					}
				}
				if !strings.Contains(status, fx.apiPinned+" apps/api") || !strings.Contains(status, fx.uiPinned+" packages/ui") {
					t.Errorf("git submodule status = %q", status)
				}
				if got := testenv.Git(t, dir, "status", "--porcelain"); got != "" {
					t.Errorf("git status not clean:\n%s", got)
				}
				gm, _ := os.ReadFile(filepath.Join(dir, ".gitmodules"))
				if strings.Contains(string(gm), "website") || strings.Contains(string(gm), "missing") || !strings.Contains(string(gm), "apps/api") {
					t.Errorf(".gitmodules after drop:\n%s", gm)
				}
				// A later plain git command must not fail on the dropped entries.
				testenv.Git(t, dir, "submodule", "update", "--init")
			},
		},
		{
			name: "resolve without token", mode: Resolve,
			want: map[string]string{"apps/api": ActionSkipped, "packages/ui": ActionResolved, "apps/website": ActionSkipped, "apps/missing": ActionSkipped},
			check: func(t *testing.T, dir string, res *Result) {
				api := subByPath(t, res, "apps/api")
				if !strings.Contains(api.Reason, "401") || !strings.Contains(api.Hint, "request API access") {
					t.Errorf("apps/api skip = %+v", api)
				}
			},
		},
		{
			name: "flatten with token", mode: Flatten, token: apiToken,
			want: map[string]string{"apps/api": ActionFlattened, "packages/ui": ActionFlattened, "apps/website": ActionSkipped, "apps/missing": ActionSkipped},
			check: func(t *testing.T, dir string, res *Result) {
				if _, err := os.Lstat(filepath.Join(dir, "apps/api/.git")); !os.IsNotExist(err) {
					t.Errorf("apps/api/.git exists after flatten: %v", err)
				}
				if _, err := os.Stat(filepath.Join(dir, ".gitmodules")); !os.IsNotExist(err) {
					t.Errorf(".gitmodules should be deleted when empty: %v", err)
				}
				if _, err := os.Stat(filepath.Join(dir, ".git/modules")); !os.IsNotExist(err) {
					t.Errorf(".git/modules exists after flatten")
				}
				ls := testenv.Git(t, dir, "ls-files", "-s", "apps/api")
				for _, want := range []string{"100755 ", "scripts/start.sh", "120000 ", "current.ts", "100644 ", "v1/index.ts"} {
					if !strings.Contains(ls, want) {
						t.Errorf("ls-files missing %q:\n%s", want, ls)
					}
				}
				if strings.Contains(ls, "160000") {
					t.Errorf("gitlink left in index:\n%s", ls)
				}
				if got := testenv.Git(t, dir, "status", "--porcelain"); got != "" {
					t.Errorf("git status not clean:\n%s", got)
				}
				testenv.Git(t, dir, "fsck", "--no-dangling")
				subject := testenv.Git(t, dir, "log", "-1", "--format=%s")
				if subject != "Flatten apps/api at "+fx.apiPinned[:12]+", packages/ui at "+fx.uiPinned[:12] {
					t.Errorf("commit subject = %q", subject)
				}
				if res.Head == res.Commit {
					t.Error("Head should move past the cloned commit after flatten")
				}
				if link, _ := os.Readlink(filepath.Join(dir, "apps/api/current.ts")); link != "v1/index.ts" {
					t.Errorf("symlink = %q", link)
				}
			},
		},
		{
			name: "skip", mode: Skip, token: apiToken,
			want: map[string]string{"apps/api": ActionSkipped, "packages/ui": ActionSkipped, "apps/website": ActionSkipped, "apps/missing": ActionSkipped},
			check: func(t *testing.T, dir string, res *Result) {
				if ents := listDir(t, filepath.Join(dir, "apps/api")); len(ents) != 0 {
					t.Errorf("apps/api should stay uninitialised, has %v", ents)
				}
				if r := subByPath(t, res, "apps/api"); !strings.Contains(r.Reason, "--submodules skip") {
					t.Errorf("apps/api reason = %q", r.Reason)
				}
				if got := testenv.Git(t, dir, "submodule", "status"); !strings.HasPrefix(got, "-"+fx.apiPinned+" apps/api") {
					t.Errorf("git submodule status = %q", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cal")
			res, err := Clone(context.Background(), Options{URL: fx.parentURL, Dir: dir, Submodules: tt.mode, Token: secret.Secret(tt.token)})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, s := range res.Submodules {
				got[s.Path] = s.Action
			}
			for p, a := range tt.want {
				if got[p] != a {
					t.Errorf("%s: action %q, want %q (all: %+v)", p, got[p], a, res.Submodules)
				}
			}
			web := subByPath(t, res, "apps/website")
			if !strings.Contains(web.Reason, "403") && !strings.Contains(web.Reason, "401") {
				t.Errorf("apps/website reason = %q", web.Reason)
			}
			if !strings.Contains(web.Hint, "not needed for self-hosting") {
				t.Errorf("apps/website hint = %q", web.Hint)
			}
			if m := subByPath(t, res, "apps/missing"); !strings.Contains(m.Reason, "404") {
				t.Errorf("apps/missing reason = %q", m.Reason)
			}
			if u := subByPath(t, res, "packages/ui").URL; u != fx.srv.RepoURL("calcom/packages-ui.git") {
				t.Errorf("relative URL resolved to %q", u)
			}
			if res.Commit != testenv.Git(t, fx.parent.Dir, "rev-parse", "HEAD") {
				t.Errorf("commit = %s", res.Commit)
			}
			tt.check(t, dir, res)
			assertNoToken(t, dir, apiToken)
			if ents := listDir(t, filepath.Dir(dir)); len(ents) != 1 {
				t.Errorf("working directories left beside DIR: %v", ents)
			}
		})
	}
}

func TestCloneRefs(t *testing.T) {
	fx := newMonorepo(t)
	tagCommit := testenv.Git(t, fx.parent.Dir, "rev-parse", "v1.0.0^{commit}")
	head := testenv.Git(t, fx.parent.Dir, "rev-parse", "HEAD")
	tests := []struct {
		name, ref  string
		depth      int
		wantCommit string
		wantErr    error
	}{
		{"default HEAD", "", 0, head, nil},
		{"branch", "main", 0, head, nil},
		{"tag", "v1.0.0", 0, tagCommit, nil},
		{"full commit", tagCommit, 0, tagCommit, nil},
		{"short commit", tagCommit[:10], 0, tagCommit, nil},
		{"shallow branch", "main", 1, head, nil},
		{"shallow commit", tagCommit, 1, tagCommit, nil},
		{"unknown ref", "no-such-branch", 0, "", ErrRef},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cal")
			res, err := Clone(context.Background(), Options{URL: fx.parentURL, Dir: dir, Ref: tt.ref, Depth: tt.depth, Submodules: Skip})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
					t.Errorf("DIR left behind after failure")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Commit != tt.wantCommit {
				t.Errorf("commit %s, want %s", res.Commit, tt.wantCommit)
			}
			// calctl commits the removal of unreachable submodules on top.
			if got := testenv.Git(t, dir, "rev-parse", "HEAD"); got != res.Head {
				t.Errorf("HEAD %s, want %s", got, res.Head)
			}
			if got := testenv.Git(t, dir, "rev-parse", "HEAD~1"); got != tt.wantCommit {
				t.Errorf("HEAD~1 %s, want the cloned commit %s", got, tt.wantCommit)
			}
			shallow := testenv.Git(t, dir, "rev-parse", "--is-shallow-repository")
			if (tt.depth > 0) != (shallow == "true") {
				t.Errorf("is-shallow = %s with depth %d", shallow, tt.depth)
			}
			if tt.depth > 0 {
				if tags := testenv.Git(t, dir, "tag"); tags != "" {
					t.Errorf("shallow clone fetched tags: %q", tags)
				}
			}
		})
	}
}

func TestShallowSubmoduleRetriesUnshallow(t *testing.T) {
	fx := newMonorepo(t)
	// Without allow*SHA1InWant the pinned commit (not a tip) cannot be
	// fetched by itself, and a depth-1 fetch of the branch misses it.
	bare := filepath.Join(fx.srv.Root, "calcom/api.git")
	testenv.Git(t, bare, "config", "uploadpack.allowReachableSHA1InWant", "false")
	testenv.Git(t, bare, "config", "uploadpack.allowAnySHA1InWant", "false")
	dir := filepath.Join(t.TempDir(), "cal")
	res, err := Clone(context.Background(), Options{URL: fx.parentURL, Dir: dir, Depth: 1, Submodules: Resolve, Token: apiToken})
	if err != nil {
		t.Fatal(err)
	}
	if got := testenv.Git(t, filepath.Join(dir, "apps/api"), "rev-parse", "HEAD"); got != fx.apiPinned {
		t.Fatalf("apps/api at %s, want %s", got, fx.apiPinned)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "apps/api") || !strings.Contains(strings.Join(res.Notes, "\n"), "full history") {
		t.Errorf("notes should say the submodule was fetched unshallow: %q", res.Notes)
	}
}

func TestRequiredAndStrict(t *testing.T) {
	fx := newMonorepo(t)
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"required api without token", Options{Require: []string{"apps/api"}}, "apps/api"},
		{"required path that is not a submodule", Options{Require: []string{"apps/nope"}, Token: apiToken}, "apps/nope (not a submodule"},
		{"strict with unreachable website", Options{Strict: true, Token: apiToken}, "apps/website"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cal")
			o := tt.opts
			o.URL, o.Dir = fx.parentURL, dir
			_, err := Clone(context.Background(), o)
			if !errors.Is(err, ErrRequiredSubmodule) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrRequiredSubmodule naming %q", err, tt.wantErr)
			}
			if ents := listDir(t, filepath.Dir(dir)); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
	// A required submodule that IS reachable passes.
	dir := filepath.Join(t.TempDir(), "cal")
	if _, err := Clone(context.Background(), Options{URL: fx.parentURL, Dir: dir, Require: []string{"apps/api"}, Token: apiToken}); err != nil {
		t.Fatal(err)
	}
}

func TestTokenStaysOnParentHost(t *testing.T) {
	fx := newMonorepo(t)
	// A second server (another host:port) protects a repo with the SAME
	// token. A .gitmodules pointing there must not receive the token.
	other := testenv.StartGitServer(t)
	evil := testenv.NewWorkRepo(t).Write(map[string]string{"x": "x\n"})
	evilPinned := evil.Commit("x")
	evil.Publish(other, "collector.git")
	other.Protect("collector.git", testenv.Credential{Password: apiToken})

	p := testenv.NewWorkRepo(t).Write(map[string]string{".gitmodules": "[submodule \"x\"]\n\tpath = x\n\turl = " + other.RepoURL("collector.git") + "\n"})
	p.AddGitlink("x", evilPinned)
	p.Commit("p")
	url := p.Publish(fx.srv, "calcom/other-parent.git")
	fx.srv.Protect("calcom/other-parent.git", testenv.Credential{Password: apiToken})

	dir := filepath.Join(t.TempDir(), "cal")
	res, err := Clone(context.Background(), Options{URL: url, Dir: dir, Token: apiToken})
	if err != nil {
		t.Fatal(err)
	}
	if x := subByPath(t, res, "x"); x.Action != ActionSkipped || !strings.Contains(x.Reason, "401") {
		t.Fatalf("submodule on another host: %+v (the token must not be sent there)", x)
	}
	for _, r := range other.Requests() {
		if strings.Contains(r, " 200") {
			t.Errorf("other host served %s", r)
		}
	}
}

func TestTokenInURLIsNotStored(t *testing.T) {
	fx := newMonorepo(t)
	url := strings.Replace(fx.parentURL, "http://", "http://x-access-token:"+apiToken+"@", 1)
	dir := filepath.Join(t.TempDir(), "cal")
	res, err := Clone(context.Background(), Options{URL: url, Dir: dir, Submodules: Resolve})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.URL, apiToken) {
		t.Errorf("result URL has the token: %s", res.URL)
	}
	if subByPath(t, res, "apps/api").Action != ActionResolved {
		t.Errorf("the token from the URL should reach apps/api: %+v", res.Submodules)
	}
	assertNoToken(t, dir, apiToken)
	if got := testenv.Git(t, dir, "remote", "get-url", "origin"); got != fx.parentURL {
		t.Errorf("origin = %q", got)
	}
}

func TestUnreachableParent(t *testing.T) {
	fx := newMonorepo(t)
	fx.srv.Protect("calcom/cal.com.git", testenv.Credential{Password: apiToken})
	closed := "http://127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) + "/x.git"
	tests := []struct {
		name, url string
		token     string
		want      string
	}{
		{"401 without token", fx.parentURL, "", "401"},
		{"wrong token", fx.parentURL, "wrong-token-123", "token does not grant access"},
		{"404", fx.srv.RepoURL("calcom/nope.git"), "", "404"},
		{"connection refused", closed, "", "connection refused"},
		{"unsupported scheme", "ext::sh -c touch% /tmp/pwned", "", "unsupported"},
		{"option injection", "--upload-pack=touch /tmp/pwned", "", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			_, err := Clone(context.Background(), Options{URL: tt.url, Dir: filepath.Join(base, "cal"), Token: secret.Secret(tt.token)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error leaks the token: %v", err)
			}
			if ents := listDir(t, base); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}

func TestDestination(t *testing.T) {
	fx := newMonorepo(t)
	base := t.TempDir()
	nonEmpty := filepath.Join(base, "full")
	if err := os.MkdirAll(nonEmpty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nonEmpty, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Clone(context.Background(), Options{URL: fx.parentURL, Dir: nonEmpty, Submodules: Skip})
	if !errors.Is(err, ErrDestination) {
		t.Fatalf("err = %v, want ErrDestination", err)
	}
	if b, _ := os.ReadFile(filepath.Join(nonEmpty, "keep.txt")); string(b) != "mine" {
		t.Fatal("existing file touched")
	}
	empty := filepath.Join(base, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Clone(context.Background(), Options{URL: fx.parentURL, Dir: empty, Submodules: Skip}); err != nil {
		t.Fatalf("empty existing dir should be accepted: %v", err)
	}
	if _, err := Clone(context.Background(), Options{URL: fx.parentURL, Dir: filepath.Join(base, "no/such/parent/cal")}); !errors.Is(err, ErrDestination) {
		t.Fatalf("missing parent: err = %v", err)
	}
}

func TestLimits(t *testing.T) {
	fx := newMonorepo(t)
	tests := []struct {
		name string
		lim  Limits
		mode Mode
	}{
		{"parent over file cap", Limits{MaxFiles: 3}, Skip},
		{"parent over byte cap", Limits{MaxBytes: 50}, Skip},
		{"flatten over file cap", Limits{MaxFiles: 6}, Flatten},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			_, err := Clone(context.Background(), Options{URL: fx.parentURL, Dir: filepath.Join(base, "cal"), Submodules: tt.mode, Token: apiToken, Limits: tt.lim})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if ents := listDir(t, base); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}

func TestCloneProgress(t *testing.T) {
	fx := newMonorepo(t)
	var phases []string
	_, err := Clone(context.Background(), Options{URL: fx.parentURL, Dir: filepath.Join(t.TempDir(), "cal"), Token: apiToken,
		Progress: func(p Progress) { phases = append(phases, p.Phase) }})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(phases, "|")
	for _, want := range []string{"connect", "checkout", "submodule apps/api", "done"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q progress in %s", want, all)
		}
	}
}

func TestCancelledCloneLeavesNothing(t *testing.T) {
	fx := newMonorepo(t)
	ctx, cancel := context.WithCancel(context.Background())
	base := t.TempDir()
	_, err := Clone(ctx, Options{URL: fx.parentURL, Dir: filepath.Join(base, "cal"), Token: apiToken,
		Progress: func(p Progress) {
			if p.Phase == "submodule apps/api" {
				cancel()
			}
		}})
	if err == nil {
		t.Fatal("expected an error after cancel")
	}
	if ents := listDir(t, base); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

// TestDestinationKeptAndStaleCleaned: cloning into an existing empty
// directory keeps that directory (mode, owner, inode: a mount point works
// the same), and hidden working directories left by killed clones are
// removed by a later run when they are calctl's, this user's, old and
// unlocked — and only then (issue 11, Low).
func TestDestinationKeptAndStaleCleaned(t *testing.T) {
	fx := newMonorepo(t)
	base := t.TempDir()
	dir := filepath.Join(base, "cal")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 4321, 4321); err != nil {
		testenv.Unavailable(t, "root (to chown a directory)", err)
	}
	before, _ := os.Stat(dir)
	old := time.Now().Add(-time.Hour)
	mk := func(p string, t0 time.Time, uid int) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(p, ".git"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, t0, t0); err != nil {
			t.Fatal(err)
		}
		return p
	}
	staleSibling := mk(filepath.Join(base, ".cal.calctl-clone-111"), old, os.Geteuid())
	staleInside := mk(filepath.Join(dir, ".calctl-clone-222"), old, os.Geteuid())
	young := mk(filepath.Join(base, ".cal.calctl-clone-333"), time.Now(), os.Geteuid())
	notMine := mk(filepath.Join(base, ".cal.calctl-clone-444"), old, 4321)
	otherName := mk(filepath.Join(base, ".other.calctl-clone-555"), old, os.Geteuid())
	locked := mk(filepath.Join(base, ".cal.calctl-clone-666"), old, os.Geteuid())
	unlock := lockDir(locked)
	defer unlock()

	if _, err := Clone(context.Background(), Options{URL: fx.parentURL, Dir: dir, Submodules: Skip}); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if after.Mode() != before.Mode() || !os.SameFile(before, after) || after.Sys().(*syscall.Stat_t).Uid != 4321 {
		t.Errorf("the directory was replaced: mode %v -> %v, same inode %v, uid %d", before.Mode(), after.Mode(), os.SameFile(before, after), after.Sys().(*syscall.Stat_t).Uid)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Errorf("clone not in place: %v", err)
	}
	for _, p := range []string{staleSibling, staleInside} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("stale %s not removed (%v)", p, err)
		}
	}
	for _, p := range []string{young, notMine, otherName, locked} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s should be kept: %v", p, err)
		}
	}
}
