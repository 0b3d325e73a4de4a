package config_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/checks/config"
	"github.com/calctl/calctl/internal/testenv"
)

var cfChecks = []checks.Check{config.NextAuthSecret, config.EncryptionKey, config.DBTLS, config.DefaultCredentials, config.PublicURLs,
	config.FileModes, config.DebugFlags, config.Telemetry, config.SMTP, config.PM2Runtime}

// statusByID folds results to "ID → sorted distinct statuses".
func statusByID(rs []checks.Result) map[string]string {
	m := map[string][]string{}
	for _, r := range rs {
		if !contains(m[r.ID], string(r.Status)) {
			m[r.ID] = append(m[r.ID], string(r.Status))
		}
	}
	out := map[string]string{}
	for k, v := range m {
		sort.Strings(v)
		out[k] = strings.Join(v, ",")
	}
	return out
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

const strong = "Zk9v1cY3q8Yp0mQ2wJx4Rb7Lh5Tn6Ue8Gs2Df4Ah+="
const key32 = "q8Yp0mQ2wJx4Rb7Lh5Tn6Ue8Gs2Df4Ah"

const hardenedEnv = `NEXTAUTH_SECRET=` + strong + `
CALENDSO_ENCRYPTION_KEY=` + key32 + `
DATABASE_URL=postgresql://cal_app:Vh3nB8qLp2Xz9TfR@db.internal.example.com:5432/calendso?sslmode=verify-full&sslrootcert=/etc/ssl/rds.pem
DATABASE_DIRECT_URL=postgresql://cal_app:Vh3nB8qLp2Xz9TfR@db.internal.example.com:5432/calendso?sslmode=verify-full
NEXT_PUBLIC_WEBAPP_URL=https://cal.example.com
NEXTAUTH_URL=https://cal.example.com/api/auth
NODE_ENV=production
CALCOM_TELEMETRY_DISABLED=1
NEXT_TELEMETRY_DISABLED=1
EMAIL_SERVER_HOST=smtp.example.com
EMAIL_SERVER_PORT=587
EMAIL_SERVER_PASSWORD=Wq7Kd9Lm2Np4Rs6Tv8
`

func TestConfigChecks(t *testing.T) {
	tests := []struct {
		name  string
		env   string
		mode  os.FileMode
		files map[string]string
		git   bool
		want  map[string]string
	}{
		{
			name: "calcom/docker defaults",
			env: `DATABASE_URL=postgresql://unicorn_user:magical_password@database:5432/calendso
NEXTAUTH_SECRET=secret
CALENDSO_ENCRYPTION_KEY=secret
NEXT_PUBLIC_WEBAPP_URL=http://localhost:3000
`,
			mode: 0o644,
			want: map[string]string{"CF-001": "FAIL", "CF-002": "FAIL", "CF-003": "PASS,WARN", "CF-004": "FAIL", "CF-005": "PASS",
				"CF-006": "FAIL", "CF-007": "PASS", "CF-008": "WARN", "CF-009": "SKIP", "CF-010": "SKIP"},
		},
		{
			name: "hardened",
			env:  hardenedEnv,
			mode: 0o600,
			want: map[string]string{"CF-001": "PASS", "CF-002": "PASS", "CF-003": "PASS", "CF-004": "PASS", "CF-005": "PASS",
				"CF-006": "PASS", "CF-007": "PASS", "CF-008": "PASS", "CF-009": "PASS", "CF-010": "SKIP"},
		},
		{
			name: "short secret, long key, require, group-readable, port 25, Sentry",
			env: strings.NewReplacer("NEXTAUTH_SECRET="+strong, "NEXTAUTH_SECRET=abcdefghij0123456789",
				"CALENDSO_ENCRYPTION_KEY="+key32, "CALENDSO_ENCRYPTION_KEY="+strong,
				"sslmode=verify-full&sslrootcert=/etc/ssl/rds.pem", "sslmode=require",
				"EMAIL_SERVER_PORT=587", "EMAIL_SERVER_PORT=25").Replace(hardenedEnv) + "SENTRY_DSN=https://abc@o1.ingest.sentry.io/1\n",
			mode: 0o640,
			want: map[string]string{"CF-001": "WARN", "CF-002": "FAIL", "CF-003": "PASS,WARN", "CF-004": "PASS", "CF-005": "PASS",
				"CF-006": "WARN", "CF-007": "PASS", "CF-008": "PASS,WARN", "CF-009": "WARN", "CF-010": "SKIP"},
		},
		{
			name: "reused key, plaintext remote DB, no-verify, http, E2E, inspector",
			env: strings.NewReplacer("NEXTAUTH_SECRET="+strong, "NEXTAUTH_SECRET="+key32,
				"?sslmode=verify-full&sslrootcert=/etc/ssl/rds.pem", "",
				"https://cal.example.com/api/auth", "http://cal.example.com/api/auth").Replace(hardenedEnv) +
				"PGSSLMODE=no-verify\nNEXT_PUBLIC_IS_E2E=1\nNODE_OPTIONS=--inspect=0.0.0.0:9229\n",
			mode: 0o600,
			want: map[string]string{"CF-001": "PASS", "CF-002": "FAIL", "CF-003": "FAIL", "CF-004": "FAIL", "CF-005": "FAIL,PASS",
				"CF-006": "PASS", "CF-007": "FAIL", "CF-008": "PASS", "CF-009": "PASS", "CF-010": "SKIP"},
		},
		{
			name: "pm2 as root with inspector",
			env:  hardenedEnv,
			mode: 0o600,
			files: map[string]string{"ecosystem.config.js": `module.exports = { apps: [{
  name: "calcom",
  script: "yarn",
  user: "root",
  node_args: "--inspect",
  env: { NODE_ENV: "production", NEXTAUTH_SECRET: "` + strong + `" },
}] };
`},
			want: map[string]string{"CF-001": "PASS", "CF-002": "PASS", "CF-003": "PASS", "CF-004": "PASS", "CF-005": "PASS",
				"CF-006": "FAIL,PASS", "CF-007": "WARN", "CF-008": "PASS", "CF-009": "PASS", "CF-010": "WARN"},
		},
		{
			name: ".env tracked in git",
			env:  hardenedEnv,
			mode: 0o600,
			git:  true,
			want: map[string]string{"CF-001": "PASS", "CF-002": "PASS", "CF-003": "PASS", "CF-004": "PASS", "CF-005": "PASS",
				"CF-006": "FAIL", "CF-007": "PASS", "CF-008": "PASS", "CF-009": "PASS", "CF-010": "SKIP"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			envPath := filepath.Join(dir, ".env")
			if err := os.WriteFile(envPath, []byte(tt.env), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(envPath, tt.mode); err != nil {
				t.Fatal(err)
			}
			for n, c := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.git {
				if _, err := exec.LookPath("git"); err != nil {
					testenv.Unavailable(t, "git", err)
				}
				for _, args := range [][]string{{"init", "-q"}, {"add", "-f", ".env"}} {
					if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
						t.Fatalf("git %v: %v\n%s", args, err, out)
					}
				}
			}
			f, err := collect.Collect(context.Background(), collect.Options{Dir: dir, Only: []checks.Source{checks.SourceFiles}})
			if err != nil {
				t.Fatal(err)
			}
			if st := f.Source(checks.SourceFiles); !st.Collected {
				t.Fatalf("files not collected: %+v", st)
			}
			rep := checks.Run(f, cfChecks, checks.Selection{}, nil)
			got := statusByID(rep.Results)
			for id, want := range tt.want {
				if got[id] != want {
					t.Errorf("%s = %s, want %s", id, got[id], want)
					for _, r := range rep.Results {
						if r.ID == id {
							t.Logf("  %s %s %s: %s", r.ID, r.Status, r.Resource, r.Message)
						}
					}
				}
			}
			// Evidence never carries a secret value.
			for _, r := range rep.Results {
				for k, v := range r.Evidence {
					for _, s := range []string{strong, key32, "magical_password", "Vh3nB8qLp2Xz9TfR"} {
						if strings.Contains(v, s) || strings.Contains(r.Message, s) {
							t.Errorf("%s evidence %s leaks a secret", r.ID, k)
						}
					}
				}
			}
		})
	}
}

func TestConfigChecksWithoutFiles(t *testing.T) {
	f := &checks.Facts{}
	f.SetSource(checks.SourceFiles, checks.SourceState{Error: "parse .env: line 3: expected KEY=value"})
	rep := checks.Run(f, cfChecks, checks.Selection{}, nil)
	for _, r := range rep.Results {
		if r.Status != checks.Error || !strings.Contains(r.Message, "line 3") {
			t.Errorf("%s = %s %q, want ERROR with the cause", r.ID, r.Status, r.Message)
		}
	}
}
