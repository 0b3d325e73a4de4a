package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/tui"
	"github.com/calctl/calctl/internal/secret"
)

// TestRules runs one table of values through the three entry points that
// judge them — the answers file (install/render), the wizard's field check
// and `calctl report` — and requires the same verdict from each: no value
// accepted by one and refused by another (issue 14: an http:// billing
// endpoint passed the wizard and render, then report refused it).
func TestRules(t *testing.T) {
	cases := []struct {
		endpoint string
		ok       bool
	}{
		{"https://billing.example.com", true},
		{"https://billing.example.com:8443/v1/usage", true},
		{"http://billing.example.com", false},
		{"http://127.0.0.1:8080", true},
		{"http://[::1]:8080/usage", true},
		{"ftp://billing.example.com", false},
		{"billing.example.com", false},
		{"https://", false},
	}
	for _, tc := range cases {
		t.Run(tc.endpoint, func(t *testing.T) {
			dir := t.TempDir()
			a := &contract.Answers{InstallDir: "/opt/calcom", PublicURL: "https://cal.example.com",
				Billing: contract.Billing{Endpoint: tc.endpoint, DeploymentID: "dep_1", TokenEnv: "CALCTL_BILLING_TOKEN", SigningSecretEnv: "CALCTL_SIGNING_SECRET", LiveSince: "2026-01-01"}}
			env := contract.EnvSecrets{BillingToken: secret.Secret("tok"), SigningSecret: secret.Secret("sig")}

			// 1. the answers file
			ans := filepath.Join(dir, "answers.yaml")
			if err := os.WriteFile(ans, []byte(fmt.Sprintf("install_dir: /opt/calcom\npublic_url: https://cal.example.com\nbilling: {endpoint: %q, deployment_id: dep_1, token_env: CALCTL_BILLING_TOKEN, signing_secret_env: CALCTL_SIGNING_SECRET, live_since: 2026-01-01}\n", tc.endpoint)), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := (&answersFlags{File: ans}).load(func(k string) string {
				return map[string]string{"CALCTL_BILLING_TOKEN": "tok", "CALCTL_SIGNING_SECRET": "sig"}[k]
			})
			fileOK := err == nil

			// 2. the wizard's check of the field
			wizardOK := tui.ValidateField(a, env, "billing.endpoint") == nil

			// 3. calctl report, with an agent config naming the endpoint
			cfg := filepath.Join(dir, "agent.yaml")
			os.WriteFile(filepath.Join(dir, "token"), []byte("tok\n"), 0o600)
			os.WriteFile(filepath.Join(dir, "signing"), []byte("sig\n"), 0o600)
			os.WriteFile(cfg, []byte(fmt.Sprintf("deployment_id: dep_1\nendpoint: %q\ntoken_file: %s/token\nsigning_secret_file: %s/signing\nstate_dir: %s/state\nlive_since: 2026-01-01\ndatabase_url_env: DATABASE_URL\n", tc.endpoint, dir, dir, dir)), 0o600)
			_, _, stderr := runCLI(t, map[string]string{"DATABASE_URL": "postgresql://u:p@127.0.0.1:1/db?sslmode=disable&connect_timeout=1"}, "report", "--config", cfg, "--period", "2026-03")
			reportOK := !strings.Contains(stderr, "endpoint")
			t.Logf("report: %s", strings.TrimSpace(stderr))

			if fileOK != tc.ok || wizardOK != tc.ok || reportOK != tc.ok {
				t.Errorf("want ok=%v; answers file %v (%v), wizard %v, report %v (%s)", tc.ok, fileOK, err, wizardOK, reportOK, strings.TrimSpace(stderr))
			}
		})
	}
}
