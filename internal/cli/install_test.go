package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	f := &Factory{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb}, Getenv: func(k string) string { return env[k] }}
	code = Run(context.Background(), f, args)
	return code, out.String(), errb.String()
}

func TestInstallPrintAnswers(t *testing.T) {
	code, out, _ := runCLI(t, nil, "install", "--print-answers")
	if code != 0 || !strings.Contains(out, "install_dir:") {
		t.Fatalf("code %d out %q", code, out)
	}
	a, err := contract.DecodeAnswers([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Finish(); err != nil {
		t.Fatal(err)
	}
}

const cliAnswers = `install_dir: %s
target: compose
public_url: https://cal.example.com
database: {mode: bundled}
proxy: caddy
`

func TestRenderCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	ans := filepath.Join(dir, "answers.yaml")
	os.WriteFile(ans, []byte(strings.Replace(cliAnswers, "%s", "/ignored", 1)), 0o644)

	code, _, stderr := runCLI(t, nil, "render", "--answers", ans, "--out", out, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: code %d\n%s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("dry run created %s", out)
	}
	if !strings.Contains(stderr, "create    docker-compose.yml") || !strings.Contains(stderr, "NEXTAUTH_SECRET=********") {
		t.Errorf("dry-run output:\n%s", stderr)
	}

	code, stdout, stderr := runCLI(t, nil, "render", "--answers", ans, "--out", out, "-o", "json", "--public-url", "https://flag.example.com")
	if code != 0 {
		t.Fatalf("render: code %d\n%s", code, stderr)
	}
	var last contract.Event
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if err := json.Unmarshal([]byte(l), &last); err != nil {
			t.Fatalf("not JSON lines: %q", l)
		}
	}
	if last.Type != contract.EventDone || last.Error != "" {
		t.Errorf("last event %+v", last)
	}
	env, err := os.ReadFile(filepath.Join(out, ".env"))
	if err != nil || !bytes.Contains(env, []byte("NEXT_PUBLIC_WEBAPP_URL=https://flag.example.com")) {
		t.Errorf(".env: %v (flag must override the answers file)", err)
	}
}

func TestInstallBadAnswers(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, yaml, want string
		env              map[string]string
	}{
		{"malformed yaml", "install_dir: [oops\n", "not valid YAML", nil},
		{"unknown key", strings.Replace(cliAnswers, "%s", filepath.Join(dir, "i1"), 1) + "colour: red\n", "colour (line 6): unknown key", nil},
		{"bad url", strings.Replace(strings.Replace(cliAnswers, "%s", filepath.Join(dir, "i2"), 1), "https://cal.example.com", "cal.example.com", 1), "public_url", nil},
		{"missing env", strings.Replace(strings.Replace(cliAnswers, "%s", filepath.Join(dir, "i3"), 1), "mode: bundled", "mode: external", 1), "DATABASE_URL is empty", nil},
		{"sslmode disable remote", strings.Replace(strings.Replace(cliAnswers, "%s", filepath.Join(dir, "i4"), 1), "mode: bundled", "mode: external", 1), "clear text", map[string]string{"DATABASE_URL": "postgresql://u:hunter2@db.example.com/cal?sslmode=disable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml")
			os.WriteFile(ans, []byte(tt.yaml), 0o644)
			code, stdout, stderr := runCLI(t, tt.env, "install", "--non-interactive", "--answers", ans)
			if code != ExitUsage || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "nothing was changed") {
				t.Errorf("code %d, stderr:\n%s", code, stderr)
			}
			if strings.Contains(stdout+stderr, "hunter2") {
				t.Errorf("error output leaks the database password")
			}
		})
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "i*"))
	if len(entries) != 0 {
		t.Errorf("bad answers left %v behind", entries)
	}
}

func TestInstallIgnorePreflightUnknownName(t *testing.T) {
	dir := t.TempDir()
	ans := filepath.Join(dir, "a.yaml")
	os.WriteFile(ans, []byte(strings.Replace(cliAnswers, "%s", filepath.Join(dir, "inst"), 1)), 0o644)
	code, _, stderr := runCLI(t, nil, "install", "--non-interactive", "--answers", ans, "--ignore-preflight", "portz")
	if code != ExitFailure || !strings.Contains(stderr, `unknown check(s) portz; known: install-dir, docker`) {
		t.Errorf("code %d:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "inst")); err == nil {
		t.Error("install_dir created")
	}
}
