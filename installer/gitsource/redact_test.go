package gitsource

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

// TestPasswordsInURLsNeverShown: a password written into a URL — of the
// parent (git://, ssh://, an https URL that does not parse) or of a
// submodule in .gitmodules — reaches no error, result, state file, commit
// message or .git/config (issue 11, item 7).
func TestPasswordsInURLsNeverShown(t *testing.T) {
	ctx := context.Background()
	closed := strconv.Itoa(testenv.FreePort(t))
	for _, raw := range []string{
		"git://user:gitpass-1234@127.0.0.1:" + closed + "/cal.com.git",
		"ssh://git:sshpass-1234@127.0.0.1:" + closed + "/cal.com.git",
		"https://user:webpass-1234@exa mple.com/cal.com.git",
		"https://user:webpass-1234@example.com:port/cal.com.git",
		"-https://user:webpass-1234@example.com/x.git",
		"https://user:webpass-1234@example.com/x.git\x1b[2J",
	} {
		_, err := Clone(ctx, Options{URL: raw, Dir: filepath.Join(t.TempDir(), "cal"), SSHKeyPath: ""})
		if err == nil {
			t.Fatalf("%q: cloned", raw)
		}
		if strings.Contains(err.Error(), "pass-1234") || strings.Contains(err.Error(), "\x1b") {
			t.Errorf("%q: the error shows it: %v", raw, err)
		}
	}

	// A submodule URL with a password: shown nowhere, stored nowhere, and
	// still used (the server checks it).
	srv := testenv.StartGitServer(t)
	ui := testenv.NewWorkRepo(t).Write(map[string]string{"package.json": "{}\n"})
	uiPinned := ui.Commit("ui")
	ui.Publish(srv, "calcom/ui.git")
	srv.Protect("calcom/ui.git", testenv.Credential{User: "deploy", Password: "subpass-5678"})
	gone := testenv.NewWorkRepo(t).Write(map[string]string{"x": "x\n"})
	gonePinned := gone.Commit("gone")
	withCred := func(name, pass string) string {
		return strings.Replace(srv.RepoURL(name), "http://", "http://deploy:"+pass+"@", 1)
	}
	p := testenv.NewWorkRepo(t).Write(map[string]string{"README.md": "x\n", ".gitmodules": "" +
		"[submodule \"packages/ui\"]\n\tpath = packages/ui\n\turl = " + withCred("calcom/ui.git", "subpass-5678") + "\n" +
		"[submodule \"apps/gone\"]\n\tpath = apps/gone\n\turl = " + withCred("calcom/gone.git", "gonepass-5678") + "\n"})
	p.AddGitlink("packages/ui", uiPinned)
	p.AddGitlink("apps/gone", gonePinned)
	p.Commit("p")
	url := p.Publish(srv, "calcom/cal.com.git")
	dir := filepath.Join(t.TempDir(), "cal")
	res, err := Clone(ctx, Options{URL: url, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s := subByPath(t, res, "packages/ui"); s.Action != ActionResolved {
		t.Fatalf("packages/ui = %+v: the URL's own credentials should reach its host", s)
	}
	if s := subByPath(t, res, "apps/gone"); s.Action != ActionSkipped {
		t.Fatalf("apps/gone = %+v", s)
	}
	out, _ := json.Marshal(res)
	for _, pass := range []string{"subpass-5678", "gonepass-5678"} {
		if strings.Contains(string(out), pass) {
			t.Errorf("the result shows %s: %s", pass, out)
		}
		hits, err := testenv.FilesContaining(filepath.Join(dir, ".git"), pass)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if strings.HasSuffix(h, ".pack") || strings.Contains(h, "/objects/") {
				continue // .gitmodules itself, as committed upstream
			}
			t.Errorf("%s is stored in %s", pass, h)
		}
		if log := testenv.Git(t, dir, "log", "-1", "--format=%B"); strings.Contains(log, pass) {
			t.Errorf("calctl's commit message shows %s:\n%s", pass, log)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".git", "config")); err != nil || strings.Contains(string(b), "deploy:") {
		t.Errorf(".git/config: %v\n%s", err, b)
	}
}
