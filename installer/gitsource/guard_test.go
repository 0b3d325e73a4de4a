package gitsource

import "testing"

func TestCheckRepoPath(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
	}{
		{"apps/api", true},
		{"packages/closed", true},
		{".github/workflows", true},
		{".gitignore-dir/x", true},
		{"a/.gitkeep", true},
		{"", false},
		{"..", false},
		{"../x", false},
		{"a/../../x", false},
		{"a/./b", false},
		{"/etc/passwd", false},
		{`\windows`, false},
		{"C:/x", false},
		{".git", false},
		{"a/.git/hooks", false},
		{".GiT", false},
		{"git~1", false},
		{"GIT~1/config", false},
		{".git.", false},
		{".git ", false},
		{".git. . ", false},
		{".git::$INDEX_ALLOCATION", false},
		{".g\u200cit", false},
		{"\ufeff.git", false},
		{`a\.git\hooks`, false},
		{"a//b", false},
		{"a/", false},
		{"a\nb", false},
	}
	for _, tt := range tests {
		err := checkRepoPath(tt.path)
		if (err == nil) != tt.ok {
			t.Errorf("checkRepoPath(%q) = %v, want ok=%v", tt.path, err, tt.ok)
		}
	}
}

func TestResolveURL(t *testing.T) {
	tests := []struct {
		parent, sub, want string
		err               bool
	}{
		{"https://github.com/calcom/cal.com.git", "../api.git", "https://github.com/calcom/api.git", false},
		{"https://github.com/calcom/cal.com.git/", "../api.git", "https://github.com/calcom/api.git", false},
		{"https://github.com/calcom/cal.com.git", "./sub.git", "https://github.com/calcom/cal.com.git/sub.git", false},
		{"https://github.com/calcom/cal.com.git", "../../other/x.git", "https://github.com/other/x.git", false},
		{"https://github.com/calcom/cal.com.git", "../../../x.git", "", true},
		{"https://github.com/calcom/cal.com.git", "https://example.com/x.git", "https://example.com/x.git", false},
		{"git@github.com:calcom/cal.com.git", "../api.git", "git@github.com:calcom/api.git", false},
		{"ssh://git@github.com/calcom/cal.com.git", "../api.git", "ssh://git@github.com/calcom/api.git", false},
		{"/srv/git/cal.com.git", "../api.git", "/srv/git/api.git", false},
	}
	for _, tt := range tests {
		got, err := resolveURL(tt.parent, tt.sub)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("resolveURL(%q, %q) = %q, %v; want %q, err=%v", tt.parent, tt.sub, got, err, tt.want, tt.err)
		}
	}
}

func TestURLKind(t *testing.T) {
	tests := []struct {
		url  string
		want kind
	}{
		{"https://github.com/calcom/cal.com.git", kindHTTP},
		{"HTTP://x/y", kindHTTP},
		{"ssh://git@h/x", kindSSH},
		{"git@github.com:calcom/cal.com.git", kindSSH},
		{"git://h/x", kindGit},
		{"file:///srv/x", kindLocal},
		{"/srv/x", kindLocal},
		{"./x", kindLocal},
		{"ext::sh -c x", kindUnsupported},
		{"fd::3", kindUnsupported},
		{"ftp://h/x", kindUnsupported},
	}
	for _, tt := range tests {
		if got := urlKind(tt.url); got != tt.want {
			t.Errorf("urlKind(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
}

func TestProgressWriter(t *testing.T) {
	var got []Progress
	w := newProgressWriter(func(p Progress) { got = append(got, p) })
	for _, chunk := range []string{"Counting objects:  50% (1/2)\rCount", "ing objects: 100% (2/2)\rCounting objects: 100% (2/2), done.\n", "remote: Compressing objects:  33% (1/3)\r", "junk line\n", "Receiving objects:  7% (1/14)"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	want := []Progress{
		{Phase: "Counting objects", Percent: 50},
		{Phase: "Counting objects", Percent: 100},
		{Phase: "Compressing objects", Percent: 33},
		{Phase: "Receiving objects", Percent: 7},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i].Phase != want[i].Phase || got[i].Percent != want[i].Percent {
			t.Errorf("report %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRemoveModuleSections(t *testing.T) {
	in := "[submodule \"apps/api\"]\n\tpath = apps/api\n\turl = https://x/api.git\n[submodule \"apps/website\"]\n\tpath = apps/website\n\turl = https://x/website.git\n"
	out, err := removeModuleSections([]byte(in), map[string]bool{"apps/website": true})
	if err != nil {
		t.Fatal(err)
	}
	mods, err := parseModules(out)
	if err != nil || len(mods) != 1 || mods[0].path != "apps/api" {
		t.Fatalf("after removal: %q, %v", out, err)
	}
	out, err = removeModuleSections(out, map[string]bool{"apps/api": true})
	if err != nil || out != nil {
		t.Fatalf("removing the last section should give nil, got %q, %v", out, err)
	}
}
