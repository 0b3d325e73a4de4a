package agentconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/strictyaml"
)

// TestKeysAreTheFileKeys: the keys the docs and messages list are the ones
// the loader accepts.
func TestKeysAreTheFileKeys(t *testing.T) {
	got := strictyaml.SortedKeys(strictyaml.Fields(reflect.TypeOf(file{})))
	want := append([]string(nil), Keys...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("file keys %v, Keys %v", got, want)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
		check               func(Config) bool
	}{
		{"defaults", "deployment_id: dep_1\n", "", func(c Config) bool {
			return c.Interval == 6*time.Hour && c.Grace == 72*time.Hour && c.StateDir == "/var/lib/calctl" && c.LiveSince.IsZero()
		}},
		{"all keys", `deployment_id: dep_1
endpoint: https://billing.example.com
token_file: /etc/calctl/token
signing_secret_file: /etc/calctl/signing
database_url_env: DATABASE_DIRECT_URL
env_file: /opt/calcom/.env
state_dir: /srv/calctl
live_since: 2026-10-15
interval: 90m
grace: 48h
ca_file: /etc/ssl/billing-ca.pem
`, "", func(c Config) bool {
			return c.Interval == 90*time.Minute && c.Grace == 48*time.Hour && c.LiveSince.Equal(time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)) &&
				c.EnvFile == "/opt/calcom/.env" && c.CAFile == "/etc/ssl/billing-ca.pem" && c.StateDir == "/srv/calctl"
		}},
		{"empty values keep defaults", "deployment_id: d\nlive_since:\ninterval: \"\"\nstate_dir:\n", "", func(c Config) bool {
			return c.LiveSince.IsZero() && c.Interval == 6*time.Hour && c.StateDir == "/var/lib/calctl"
		}},
		{"unknown key", "deployment_id: dep_1\ntoken: abc\n", `token (line 2): unknown key`, nil},
		{"nested value", "deployment_id: dep_1\ninterval:\n  hours: 6\n", `interval (line 3): got a mapping; expected a string`, nil},
		{"missing id", "endpoint: https://x\n", "deployment_id is required", nil},
		{"colon in id", "deployment_id: a:b\n", "no ':'", nil},
		{"bad interval", "deployment_id: d\ninterval: often\n", `key "interval" at line 2`, nil},
		{"bad live_since", "deployment_id: d\nlive_since: yesterday\n", "want a date", nil},
		{"duplicate", "deployment_id: d\ndeployment_id: e\n", "given twice", nil},
		{"not a mapping", "- a\n", "expected a mapping", nil},
		{"too large", "deployment_id: d\n#" + strings.Repeat("x", MaxBytes) + "\n", "refused, not cut off", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("Parse: %+v, %v", c, err)
			}
		})
	}
}

func TestLoadRefusesReadableFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(p, []byte("deployment_id: dep_1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("0644 config: %v", err)
	}
	os.Chmod(p, 0o600)
	if c, err := Load(p); err != nil || c.DeploymentID != "dep_1" {
		t.Fatalf("0600 config: %v", err)
	}
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("tok_abc\n"), 0o640)
	c := Config{TokenFile: tok}
	env := func(string) string { return "" }
	if _, _, err := c.Secrets(env); err == nil || !strings.Contains(err.Error(), "token_file") {
		t.Fatalf("0640 token: %v", err)
	}
	os.Chmod(tok, 0o600)
	if _, _, err := c.Secrets(env); err == nil || !strings.Contains(err.Error(), "CALCTL_SIGNING_SECRET") {
		t.Fatalf("missing signing secret: %v", err)
	}
	tokv, sig, err := c.Secrets(func(k string) string { return map[string]string{SigningSecretEnv: "whsec"}[k] })
	if err != nil || tokv.Reveal() != "tok_abc" || sig.Reveal() != "whsec" || tokv.String() == "tok_abc" {
		t.Fatalf("secrets: %v", err)
	}
	named := Config{TokenEnv: "BILLING_TOKEN", SigningSecretEnv: "BILLING_SIGNING"}
	tokv, sig, err = named.Secrets(func(k string) string { return map[string]string{"BILLING_TOKEN": "t2", "BILLING_SIGNING": "s2"}[k] })
	if err != nil || tokv.Reveal() != "t2" || sig.Reveal() != "s2" {
		t.Fatalf("named env secrets: %v", err)
	}
}

func TestDatabaseURL(t *testing.T) {
	dir := t.TempDir()
	env := filepath.Join(dir, ".env")
	os.WriteFile(env, []byte(`# Cal.com
NEXTAUTH_SECRET=abc
export DATABASE_URL="postgresql://u:p@database:5432/calendso"
DATABASE_DIRECT_URL='postgresql://u:p@direct:5432/calendso'
OTHER=x # comment
`), 0o600)
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": "postgres://env/db", "MY_URL": "postgres://mine/db"}[k]
	}
	for _, tt := range []struct {
		c    Config
		want string
	}{
		{Config{EnvFile: env}, "postgresql://u:p@direct:5432/calendso"},
		{Config{EnvFile: env, DatabaseURLEnv: "DATABASE_URL"}, "postgresql://u:p@database:5432/calendso"},
		{Config{}, "postgres://env/db"},
		{Config{DatabaseURLEnv: "MY_URL"}, "postgres://mine/db"},
	} {
		got, err := tt.c.DatabaseURL(getenv)
		if err != nil || got.Reveal() != tt.want {
			t.Errorf("%+v: %q %v, want %q", tt.c, got.Reveal(), err, tt.want)
		}
	}
	if _, err := (Config{EnvFile: env, DatabaseURLEnv: "NOPE"}).DatabaseURL(getenv); err == nil {
		t.Error("missing variable accepted")
	}
	vars, _ := ReadEnvFile(env)
	if vars["OTHER"] != "x" {
		t.Errorf("inline comment: %q", vars["OTHER"])
	}
}
