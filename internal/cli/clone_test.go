package cli

import (
	"testing"

	"github.com/calctl/calctl/internal/testenv"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestCloneScripts runs testdata/script/clone*.txtar end to end: the
// calctl command against a Cal.com-shaped fixture on a real smart-HTTP git
// server with per-repository auth.
func TestCloneScripts(t *testing.T) {
	srv := testenv.StartGitServer(t)
	const token = "tok-cli-5a4b3c2d1e0f"
	api := testenv.NewWorkRepo(t).Write(map[string]string{"README.md": "api\n"})
	apiPinned := api.Commit("api")
	api.Publish(srv, "calcom/api.git")
	srv.Protect("calcom/api.git", testenv.Credential{Password: token})
	site := testenv.NewWorkRepo(t).Write(map[string]string{"index.html": "site\n"})
	sitePinned := site.Commit("site")
	site.Publish(srv, "calcom/website.git")
	srv.Protect("calcom/website.git", testenv.Credential{Password: "someone-else"})

	p := testenv.NewWorkRepo(t).Write(map[string]string{
		"README.md": "cal\n",
		".gitmodules": "[submodule \"apps/api\"]\n\tpath = apps/api\n\turl = ../api.git\n" +
			"[submodule \"apps/website\"]\n\tpath = apps/website\n\turl = ../website.git\n",
	})
	p.AddGitlink("apps/api", apiPinned)
	p.AddGitlink("apps/website", sitePinned)
	p.Commit("cal")
	parent := p.Publish(srv, "calcom/cal.com.git")

	evil := testenv.NewWorkRepo(t).Write(map[string]string{".gitmodules": "[submodule \"x\"]\n\tpath = ../escape\n\turl = ../api.git\n"})
	evil.AddGitlink("x", apiPinned)
	evil.Commit("evil")
	evilURL := evil.Publish(srv, "evil.git")

	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PARENT", parent)
			env.Setenv("EVIL", evilURL)
			env.Setenv("TOKEN", token)
			env.Setenv("API_PINNED", apiPinned)
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// notoken DIR: fail if the token appears in any file under DIR.
			"notoken": func(ts *testscript.TestScript, neg bool, args []string) {
				hits, err := testenv.FilesContaining(ts.MkAbs(args[0]), ts.Getenv("TOKEN"))
				ts.Check(err)
				if len(hits) > 0 {
					ts.Fatalf("token found in %v", hits)
				}
			},
		},
	})
}
