package gitsource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

// TestMaliciousRepositories clones hostile fixtures through the real git
// server: each must fail (naming the entry) or be contained, and nothing
// may be written outside DIR.
func TestMaliciousRepositories(t *testing.T) {
	srv := testenv.StartGitServer(t)
	victim := testenv.NewWorkRepo(t).Write(map[string]string{"payload.sh": "#!/bin/sh\necho pwned\n", "hooks/post-checkout": "#!/bin/sh\necho pwned\n"})
	victimPinned := victim.Commit("payload")
	victimURL := victim.Publish(srv, "victim.git")

	gm := func(name, path, url string) string {
		return "[submodule \"" + name + "\"]\n\tpath = " + path + "\n\turl = " + url + "\n"
	}
	tests := []struct {
		name     string
		files    map[string]string
		gitlinks map[string]string
		symlinks map[string]string // path -> target, committed as symlinks
		wantErr  string            // substring; "" means the clone must succeed
		skipped  string            // with wantErr "", this path must be skipped
	}{
		{name: "path traversal", files: map[string]string{".gitmodules": gm("x", "../../escape", victimURL)}, gitlinks: map[string]string{"x": victimPinned}, wantErr: `".."`},
		{name: "name traversal", files: map[string]string{".gitmodules": gm("../../modules/evil", "x", victimURL)}, gitlinks: map[string]string{"x": victimPinned}, wantErr: "name"},
		{name: "absolute path", files: map[string]string{".gitmodules": gm("x", "/tmp/calctl-abs", victimURL)}, gitlinks: map[string]string{"x": victimPinned}, wantErr: "absolute"},
		{name: ".git path", files: map[string]string{".gitmodules": gm("x", ".git/hooks", victimURL)}, gitlinks: map[string]string{"x": victimPinned}, wantErr: ".git component"},
		{name: ".GIT upper case", files: map[string]string{".gitmodules": gm("x", "a/.GIT", victimURL)}, gitlinks: map[string]string{"x": victimPinned}, wantErr: ".git component"},
		{name: "NTFS short name", files: map[string]string{".gitmodules": gm("x", "GIT~1/hooks", victimURL)}, gitlinks: map[string]string{"x": victimPinned}, wantErr: ".git component"},
		{name: "NTFS trailing dot", files: map[string]string{".gitmodules": gm("x", ".git./hooks", victimURL)}, gitlinks: map[string]string{"x": victimPinned}, wantErr: ".git component"},
		{name: "HFS ignorable", files: map[string]string{".gitmodules": gm("x", ".g\u200cit/hooks", victimURL)}, gitlinks: map[string]string{"x": victimPinned}, wantErr: ".git component"},
		{name: ".git name", files: map[string]string{".gitmodules": gm("a/.git", "x", victimURL)}, gitlinks: map[string]string{"x": victimPinned}, wantErr: ".git component"},
		{name: "case collision of paths", files: map[string]string{".gitmodules": gm("a", "apps/api", victimURL) + gm("b", "apps/API", victimURL)},
			gitlinks: map[string]string{"apps/api": victimPinned, "apps/API": victimPinned}, wantErr: "case-insensitive"},
		{name: "case collision with a symlink (CVE-2024-32002 shape)", files: map[string]string{".gitmodules": gm("x", "A/modules/x", victimURL)},
			gitlinks: map[string]string{"A/modules/x": victimPinned}, symlinks: map[string]string{"a": ".git"}, wantErr: "case-insensitive"},
		{name: "nested submodules", files: map[string]string{".gitmodules": gm("a", "apps", victimURL) + gm("b", "apps/api", victimURL)},
			gitlinks: map[string]string{"apps": victimPinned}, wantErr: "nested"},
		{name: "nested submodule git dirs", files: map[string]string{".gitmodules": gm("api", "apps/api", victimURL) + gm("api/hooks", "apps/web", victimURL)},
			gitlinks: map[string]string{"apps/api": victimPinned, "apps/web": victimPinned}, wantErr: "git directories nest"},
		{name: "leading-dash path", files: map[string]string{".gitmodules": gm("x", "-rf", victimURL)}, gitlinks: map[string]string{"-rf": victimPinned}, wantErr: "starts with '-'"},
		{name: "leading-dash path component", files: map[string]string{".gitmodules": gm("x", "apps/--upload-pack=x", victimURL)}, gitlinks: map[string]string{"apps/--upload-pack=x": victimPinned}, wantErr: "starts with '-'"},
		{name: "option injection URL", files: map[string]string{".gitmodules": gm("x", "x", "--upload-pack=touch /tmp/calctl-pwned")}, gitlinks: map[string]string{"x": victimPinned}, wantErr: "option injection"},
		{name: "ext transport URL", files: map[string]string{".gitmodules": gm("x", "x", "ext::sh -c touch% /tmp/calctl-pwned")}, gitlinks: map[string]string{"x": victimPinned}, wantErr: "unsupported"},
		{name: "malformed .gitmodules", files: map[string]string{".gitmodules": "[submodule \"x\"\n\tpath = x\n"}, gitlinks: map[string]string{"x": victimPinned}, wantErr: "malformed"},
		{name: "entry without url", files: map[string]string{".gitmodules": "[submodule \"x\"]\n\tpath = x\n"}, gitlinks: map[string]string{"x": victimPinned}, wantErr: "no url"},
		{name: "symlink escape in place of a submodule", files: map[string]string{".gitmodules": gm("x", "apps/api", victimURL)},
			symlinks: map[string]string{"apps/api": "../../../outside"}, skipped: "apps/api"},
		{name: "local path URL from a remote parent", files: map[string]string{".gitmodules": gm("x", "x", "/etc")}, gitlinks: map[string]string{"x": victimPinned}, skipped: "x"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testenv.NewWorkRepo(t).Write(tt.files)
			for path, target := range tt.symlinks {
				full := filepath.Join(p.Dir, path)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, full); err != nil {
					t.Fatal(err)
				}
			}
			for path, c := range tt.gitlinks {
				p.AddGitlink(path, c)
			}
			p.Commit("hostile")
			url := p.Publish(srv, "hostile"+strconv.Itoa(i)+".git")

			base := t.TempDir()
			sentinel := filepath.Join(base, "outside")
			if err := os.Mkdir(sentinel, 0o755); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(base, "work", "cal")
			if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, mode := range []Mode{Resolve, Flatten} {
				res, err := Clone(context.Background(), Options{URL: url, Dir: dir, Submodules: mode})
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("%s: err = %v, want it to mention %q", mode, err, tt.wantErr)
					}
					if tt.name != "malformed .gitmodules" && tt.name != "entry without url" && !errors.Is(err, ErrUnsafeRepository) {
						t.Errorf("%s: err = %v, want ErrUnsafeRepository", mode, err)
					}
					if ents := listDir(t, filepath.Dir(dir)); len(ents) != 0 {
						t.Fatalf("%s: something was written: %v", mode, ents)
					}
				} else {
					if err != nil {
						t.Fatalf("%s: %v", mode, err)
					}
					if r := subByPath(t, res, tt.skipped); r.Action != ActionSkipped {
						t.Errorf("%s: %s = %+v, want skipped", mode, tt.skipped, r)
					}
					if err := os.RemoveAll(dir); err != nil {
						t.Fatal(err)
					}
				}
				if ents := listDir(t, sentinel); len(ents) != 0 {
					t.Fatalf("%s: written outside DIR: %v", mode, ents)
				}
				if ents := listDir(t, base); len(ents) != 2 {
					t.Fatalf("%s: written beside DIR: %v", mode, ents)
				}
			}
			if _, err := os.Stat("/tmp/calctl-pwned"); err == nil {
				t.Fatal("/tmp/calctl-pwned exists: a URL ran a command")
			}
		})
	}
}

// TestFlattenRefusesSymlinkedDestination covers a destination that became
// a symlink (e.g. through a case-insensitive collision on another file
// system): flatten must refuse rather than write through it. The symlink
// is planted by hand because git cannot check such a tree out on Linux.
func TestFlattenRefusesSymlinkedDestination(t *testing.T) {
	fx := newMonorepo(t)
	outside := t.TempDir()
	c, err := newCloner(Options{URL: fx.parentURL, Dir: filepath.Join(t.TempDir(), "cal"), Submodules: Flatten, Token: apiToken})
	if err != nil {
		t.Fatal(err)
	}
	c.tmp = t.TempDir()
	if err := c.cloneParent(context.Background()); err != nil {
		t.Fatal(err)
	}
	mods, err := c.readModules()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.checkout(context.Background()); err != nil {
		t.Fatal(err)
	}
	var api *module
	for _, m := range mods {
		if m.path == "apps/api" {
			api = m
		}
	}
	if err := os.Remove(filepath.Join(c.tmp, "apps/api")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(c.tmp, "apps/api")); err != nil {
		t.Fatal(err)
	}
	for _, op := range []func(context.Context, *module) error{c.flatten, c.resolve} {
		if err := op(context.Background(), api); !errors.Is(err, ErrUnsafeRepository) {
			t.Errorf("err = %v, want ErrUnsafeRepository", err)
		}
	}
	// Below the guard, os.Root itself refuses to follow the link out.
	root, err := os.OpenRoot(c.tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := root.WriteFile("apps/api/x", []byte("x"), 0o644); err == nil {
		t.Error("os.Root wrote through a symlink out of the checkout")
	}
	if ents := listDir(t, outside); len(ents) != 0 {
		t.Fatalf("written outside: %v", ents)
	}
}
