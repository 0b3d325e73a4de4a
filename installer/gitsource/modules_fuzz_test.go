package gitsource

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// FuzzGitmodules: whatever .gitmodules a repository holds, an entry that
// parseModules and vetModules accept has a name and a path that stay inside
// the checkout and .git/modules, no component git would take for an option
// or a .git directory, no nesting, and a URL that is no option or remote
// helper (issue 11: ".gitmodules parsing and path vetting"). Seeds: the
// shapes of TestMaliciousRepositories and the Low items (nested git dirs,
// leading dashes).
func FuzzGitmodules(f *testing.F) {
	gm := func(name, path, url string) string {
		return "[submodule \"" + name + "\"]\n\tpath = " + path + "\n\turl = " + url + "\n"
	}
	const u = "https://github.com/calcom/platform.git"
	for _, s := range []string{
		gm("apps/api", "apps/api", u),
		gm("x", "../../escape", u),
		gm("../../modules/evil", "x", u),
		gm("x", "/tmp/calctl-abs", u),
		gm("x", ".git/hooks", u),
		gm("x", "GIT~1/hooks", u),
		gm("x", ".g\u200cit/hooks", u),
		gm("a", "apps", u) + gm("b", "apps/api", u),
		gm("api", "apps/api", u) + gm("api/hooks", "apps/web", u),
		gm("x", "-rf", u),
		gm("x", "apps/--upload-pack=x", u),
		gm("x", "x", "--upload-pack=touch /tmp/pwned"),
		gm("x", "x", "ext::sh -c touch% /tmp/pwned"),
		gm("a", "apps/api", u) + gm("b", "apps/API", u),
		"[submodule \"x\"]\n\tpath = x\n\tpath = ../y\n\turl = " + u + "\n",
		"[submodule \"x\"]\r\n\tpath = x\r\n\turl = " + u + "\r\n",
		"[include]\n\tpath = /etc/passwd\n",
		"[submodule \"x\"]\n\tpath = \"a\\tb\"\n\turl = " + u + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mods, err := parseModules(data)
		if err != nil {
			return
		}
		idx := &treeIndex{byPath: map[string]treeEntry{}, lower: map[string]string{}, collide: map[string]string{}}
		for _, m := range mods {
			idx.byPath[m.path] = treeEntry{mode: filemode.Submodule, hash: plumbing.NewHash("0123456789abcdef0123456789abcdef01234567")}
		}
		if err := vetModules(mods, idx); err != nil {
			if strings.ContainsAny(err.Error(), "\n\r\x1b") {
				t.Errorf("error is not one printable line: %q", err)
			}
			return
		}
		root := "/checkout"
		for i, m := range mods {
			for what, p := range map[string]string{"path": m.path, "name": m.name} {
				j := filepath.Join(root, p)
				if rel, err := filepath.Rel(root, j); err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(p) {
					t.Fatalf("%s %q escapes the checkout (%s)", what, p, j)
				}
				for _, c := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
					if isDotGit(c) || c == "." || c == ".." {
						t.Fatalf("%s %q has component %q", what, p, c)
					}
				}
				if strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Fatalf("%s %q has a control character", what, p)
				}
			}
			for _, c := range strings.Split(m.path, "/") {
				if strings.HasPrefix(c, "-") {
					t.Fatalf("path %q has a component starting with '-'", m.path)
				}
			}
			if strings.HasPrefix(m.rawURL, "-") || urlKind(m.rawURL) == kindUnsupported {
				t.Fatalf("url %q accepted", m.rawURL)
			}
			for _, o := range mods[i+1:] {
				a, b := strings.ToLower(m.path)+"/", strings.ToLower(o.path)+"/"
				if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
					t.Fatalf("paths %q and %q nest", m.path, o.path)
				}
				a, b = strings.ToLower(m.name)+"/", strings.ToLower(o.name)+"/"
				if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
					t.Fatalf("git dirs %q and %q nest", m.name, o.name)
				}
			}
		}
		// Dropping every entry leaves no submodule section behind.
		names := map[string]bool{}
		for _, m := range mods {
			names[m.name] = true
		}
		out, err := removeModuleSections(data, names)
		if err != nil {
			return
		}
		if left, err := parseModules(out); err == nil && len(left) != 0 {
			t.Fatalf("removing %v left %d entries: %q", names, len(left), out)
		}
	})
}
