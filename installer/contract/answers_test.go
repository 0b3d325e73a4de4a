package contract

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/templates"
)

const goodAnswers = `
install_dir: /opt/calcom
source: {url: https://github.com/calcom/cal.com.git, ref: main, submodules: flatten, token_env: CALCTL_GIT_TOKEN}
target: compose
public_url: https://cal.example.com
database: {mode: bundled}
proxy: caddy
email: {host: smtp.example.com, port: 587, user: cal, password_env: SMTP_PASSWORD, from: cal@example.com}
billing: {endpoint: https://billing.example.com, deployment_id: dep_123, token_env: CALCTL_BILLING_TOKEN, signing_secret_env: CALCTL_SIGNING_SECRET, live_since: 2026-01-01}
`

func TestDecodeAnswersIssueExample(t *testing.T) {
	a, err := DecodeAnswers([]byte(goodAnswers))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Finish(); err != nil {
		t.Fatal(err)
	}
	if a.Source.Submodules != "flatten" || a.Email.Port != 587 || a.Billing.LiveSince != "2026-01-01" || a.Source.Dir != "/opt/calcom/src" {
		t.Errorf("decoded %+v", a)
	}
}

func TestPrintAnswersTemplateIsValid(t *testing.T) {
	b, err := fs.ReadFile(templates.FS(), "install/answers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := DecodeAnswers(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Finish(); err != nil {
		t.Fatal(err)
	}
	// Every commented key of the template must be a real key.
	var lines []string
	body := false
	for _, l := range strings.Split(string(b), "\n") {
		body = body || (l != "" && !strings.HasPrefix(l, "#"))
		if body && strings.HasPrefix(l, "# ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	if _, err := DecodeAnswers([]byte(strings.Join(lines, "\n"))); err != nil {
		t.Errorf("commented keys of the template do not decode: %v", err)
	}
}

func TestAnswersRefused(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		wantPath string
		wantMsg  string
	}{
		{"malformed yaml", "install_dir: [unclosed", "(file)", "not valid YAML"},
		{"unknown top key", goodAnswers + "colour: blue\n", "colour", "unknown key"},
		{"unknown nested key", strings.Replace(goodAnswers, "mode: bundled", "mode: bundled, size: 3", 1), "database.size", "unknown key"},
		{"wrong type int", strings.Replace(goodAnswers, "port: 587", "port: lots", 1), "email.port", "an integer"},
		{"wrong type mapping", strings.Replace(goodAnswers, "database: {mode: bundled}", "database: bundled", 1), "database", "a mapping"},
		{"list for string", strings.Replace(goodAnswers, "target: compose", "target: [compose]", 1), "target", "a string"},
		{"bad target", strings.Replace(goodAnswers, "target: compose", "target: swarm", 1), "target", "compose, pm2 or kubernetes"},
		{"bad url", strings.Replace(goodAnswers, "public_url: https://cal.example.com", "public_url: cal.example.com", 1), "public_url", "http(s)"},
		{"url with path", strings.Replace(goodAnswers, "public_url: https://cal.example.com", "public_url: https://cal.example.com/cal", 1), "public_url", "path"},
		{"bad git url", strings.Replace(goodAnswers, "url: https://github.com/calcom/cal.com.git", "url: not a url", 1), "source.url", "scheme"},
		{"git url with password", strings.Replace(goodAnswers, "url: https://github.com/calcom/cal.com.git", "url: https://u:pw@github.com/calcom/cal.com.git", 1), "source.url", "token_env"},
		{"relative install dir", strings.Replace(goodAnswers, "install_dir: /opt/calcom", "install_dir: calcom", 1), "install_dir", "absolute"},
		{"bad submodules", strings.Replace(goodAnswers, "submodules: flatten", "submodules: recursive", 1), "source.submodules", "resolve, flatten, skip"},
		{"bad db mode", strings.Replace(goodAnswers, "mode: bundled", "mode: sqlite", 1), "database.mode", "bundled, external or rds"},
		{"rds without ca", strings.Replace(goodAnswers, "mode: bundled", "mode: rds", 1), "database.ca_file", "RDS CA"},
		{"pm2 bundled", strings.Replace(goodAnswers, "target: compose", "target: pm2", 1), "database.mode", "external or rds"},
		{"latest postgres", goodAnswers + "images: {postgres: 'postgres:latest'}\n", "images.postgres", "never latest"},
		{"bad date", strings.Replace(goodAnswers, "live_since: 2026-01-01", "live_since: yesterday", 1), "billing.live_since", "YYYY-MM-DD"},
		{"bad env name", strings.Replace(goodAnswers, "token_env: CALCTL_GIT_TOKEN", "token_env: my token", 1), "source.token_env", "environment variable"},
		{"bad proxy", strings.Replace(goodAnswers, "proxy: caddy", "proxy: nginx", 1), "proxy", "caddy or none"},
		{"bool for string", strings.Replace(goodAnswers, "proxy: caddy", "proxy: true", 1), "proxy", "a string"},
		{"bad timeout", goodAnswers + "start: {timeout: soon}\n", "start.timeout", "duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := DecodeAnswers([]byte(tt.yaml))
			if err == nil {
				err = a.Finish()
			}
			var ae *AnswersError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *AnswersError", err)
			}
			found := false
			for _, p := range ae.Problems {
				if p.Path == tt.wantPath && strings.Contains(p.String(), tt.wantMsg) {
					found = true
				}
			}
			if !found {
				t.Errorf("want a problem at %s mentioning %q; got:\n%v", tt.wantPath, tt.wantMsg, err)
			}
		})
	}
}

func TestAnswersErrorHasLine(t *testing.T) {
	_, err := DecodeAnswers([]byte("install_dir: /x\ndatabase:\n  mode: bundled\n  colour: red\n"))
	var ae *AnswersError
	if !errors.As(err, &ae) || ae.Problems[0].Line != 4 || ae.Problems[0].Path != "database.colour" {
		t.Fatalf("got %#v", err)
	}
}

// TestAnswersFileSizeCap: a 50 MB answers file (it used to take 2.6 GB to
// refuse) is refused from its size, unread, as a problem with the file.
func TestAnswersFileSizeCap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "answers.yaml")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(50 << 20)
	f.Close()
	_, err = LoadAnswersFile(p)
	var ae *AnswersError
	if !errors.As(err, &ae) || ae.Source != p || !strings.Contains(err.Error(), "50.0 MiB is more than the 1.0 MiB") {
		t.Fatalf("err = %v", err)
	}
	big := "install_dir: /x\n# " + strings.Repeat("x", MaxAnswersBytes) + "\n"
	if _, err := DecodeAnswers([]byte(big)); !errors.As(err, &ae) || !strings.Contains(err.Error(), "refused, not cut off") {
		t.Fatalf("DecodeAnswers over the cap: %v", err)
	}
}

func TestAnswersKeyTwice(t *testing.T) {
	_, err := DecodeAnswers([]byte("target: compose\ntarget: pm2\n"))
	var ae *AnswersError
	if !errors.As(err, &ae) || ae.Problems[0].Path != "target" || ae.Problems[0].Line != 2 {
		t.Fatalf("got %v", err)
	}
}

func TestSetOverrides(t *testing.T) {
	a, err := DecodeAnswers([]byte(goodAnswers))
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"public_url", "https://other.example.org"}, {"database.version", "15"}, {"migrate.command", "true,--ok"}, {"migrate.skip", "true"}} {
		if err := a.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if a.PublicURL != "https://other.example.org" || a.Database.Version != 15 || len(a.Migrate.Command) != 2 || !a.Migrate.Skip {
		t.Errorf("after Set: %+v", a)
	}
	for _, bad := range [][2]string{{"database.colour", "x"}, {"database.version", "x"}, {"target.x", "y"}} {
		if err := a.Set(bad[0], bad[1]); err == nil {
			t.Errorf("Set(%s) accepted", bad[0])
		}
	}
}

func TestResolveEnv(t *testing.T) {
	base := func(mode string) *Answers {
		a, _ := DecodeAnswers([]byte(strings.Replace(goodAnswers, "mode: bundled", "mode: "+mode+", ca_file: /etc/ca.pem", 1)))
		if err := a.Finish(); err != nil {
			t.Fatal(err)
		}
		return a
	}
	env := map[string]string{"SMTP_PASSWORD": "smtp-pw", "CALCTL_BILLING_TOKEN": "tok", "CALCTL_SIGNING_SECRET": "sig"}
	tests := []struct {
		mode, url string
		wantErr   string
	}{
		{"external", "", "DATABASE_URL is empty"},
		{"external", "postgresql://u:p@db.example.com:5432/cal?sslmode=disable", "clear text"},
		{"external", "postgresql://u:p@127.0.0.1:5432/cal?sslmode=disable", ""},
		{"external", "mysql://u:p@db/cal", "scheme"},
		{"rds", "postgresql://u:p@x.rds.amazonaws.com:5432/cal?sslmode=require", "verify-full"},
		{"rds", "postgresql://u:p@x.rds.amazonaws.com:5432/cal", ""},
	}
	for _, tt := range tests {
		a := base(tt.mode)
		e := map[string]string{"DATABASE_URL": tt.url}
		for k, v := range env {
			e[k] = v
		}
		_, err := a.ResolveEnv(func(k string) string { return e[k] })
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s %s: %v", tt.mode, tt.url, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s %s: err = %v, want %q", tt.mode, tt.url, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "u:p@") {
			t.Errorf("error leaks the database URL: %v", err)
		}
	}
}

func TestDefaultCalctlImage(t *testing.T) {
	old := buildinfo.Version
	t.Cleanup(func() { buildinfo.Version = old })
	tests := []struct{ version, want string }{
		{"dev", "ghcr.io/calctl/calctl:latest"},
		{"1.2.3", "ghcr.io/calctl/calctl:v1.2.3"},
		{"v1.2.3", "ghcr.io/calctl/calctl:v1.2.3"},
	}
	for _, tt := range tests {
		buildinfo.Version = tt.version
		if got := DefaultCalctlImage(); got != tt.want {
			t.Errorf("version %q: %q, want %q", tt.version, got, tt.want)
		}
	}
}
