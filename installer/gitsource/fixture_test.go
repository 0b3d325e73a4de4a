package gitsource

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

const (
	apiToken   = "tok-API-3f9a1c77e2b54d0e"
	otherToken = "tok-OTHER-99887766"
)

// monorepo is a Cal.com-shaped fixture on a real smart-HTTP git server:
// a public parent with a private apps/api (our token works), a private
// apps/website (our token is refused), a 404 submodule and a relative URL.
type monorepo struct {
	srv       *testenv.GitServer
	parentURL string
	apiPinned string // the commit the parent pins (not api's tip)
	apiTip    string
	uiPinned  string
	parent    *testenv.WorkRepo
}

func newMonorepo(t *testing.T) *monorepo {
	t.Helper()
	srv := testenv.StartGitServer(t)
	fx := &monorepo{srv: srv}

	api := testenv.NewWorkRepo(t).Write(map[string]string{
		"README.md":        "# api v1\n",
		"v1/index.ts":      "export const v = 1;\n",
		"scripts/start.sh": "#!/bin/sh\necho start\n",
	})
	if err := os.Chmod(filepath.Join(api.Dir, "scripts/start.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("v1/index.ts", filepath.Join(api.Dir, "current.ts")); err != nil {
		t.Fatal(err)
	}
	fx.apiPinned = api.Commit("api v1")
	api.Write(map[string]string{"README.md": "# api v2 (tip, not pinned)\n"})
	fx.apiTip = api.Commit("api v2")
	api.Publish(srv, "calcom/api.git")
	srv.Protect("calcom/api.git", testenv.Credential{Password: apiToken})

	website := testenv.NewWorkRepo(t).Write(map[string]string{"index.html": "<h1>site</h1>\n"})
	websitePinned := website.Commit("site")
	website.Publish(srv, "calcom/website.git")
	srv.Protect("calcom/website.git", testenv.Credential{Password: otherToken})

	ui := testenv.NewWorkRepo(t).Write(map[string]string{"package.json": `{"name":"@calcom/ui"}` + "\n"})
	fx.uiPinned = ui.Commit("ui")
	ui.Publish(srv, "calcom/packages-ui.git")

	missingPinned := strings.Repeat("ab", 20)

	p := testenv.NewWorkRepo(t).Write(map[string]string{
		"README.md":             "# cal.com fixture\n",
		"apps/web/package.json": `{"name":"@calcom/web"}` + "\n",
		"package.json":          `{"name":"calcom-monorepo","engines":{"node":">=18.x"}}` + "\n",
		".gitmodules": `[submodule "apps/api"]
	path = apps/api
	url = ` + srv.RepoURL("calcom/api.git") + `
	branch = main
[submodule "apps/website"]
	path = apps/website
	url = ` + srv.RepoURL("calcom/website.git") + `
	branch = main
[submodule "apps/missing"]
	path = apps/missing
	url = ` + srv.RepoURL("calcom/missing.git") + `
[submodule "packages/ui"]
	path = packages/ui
	url = ../packages-ui.git
`,
	})
	p.AddGitlink("apps/api", fx.apiPinned)
	p.AddGitlink("apps/website", websitePinned)
	p.AddGitlink("apps/missing", missingPinned)
	p.AddGitlink("packages/ui", fx.uiPinned)
	p.Commit("monorepo")
	testenv.Git(t, p.Dir, "tag", "v1.0.0")
	p.Write(map[string]string{"CHANGELOG.md": "next\n"})
	p.Commit("after tag")
	fx.parentURL = p.Publish(srv, "calcom/cal.com.git")
	fx.parent = p
	return fx
}

// assertNoToken fails if tok appears in any file under dir.
func assertNoToken(t *testing.T, dir, tok string) {
	t.Helper()
	hits, err := testenv.FilesContaining(dir, tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range hits {
		t.Errorf("token found in %s", p)
	}
}

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func subByPath(t *testing.T, res *Result, path string) SubmoduleResult {
	t.Helper()
	for _, s := range res.Submodules {
		if s.Path == path {
			return s
		}
	}
	t.Fatalf("no submodule %s in result %+v", path, res.Submodules)
	return SubmoduleResult{}
}
