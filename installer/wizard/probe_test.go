package wizard

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
)

// The wizard's live checks, against real services: a git smart-HTTP server
// with basic auth and a throwaway Postgres cluster (with and without TLS).

func TestProbeSourceReal(t *testing.T) {
	const token = "probe-token-77"
	git := testenv.StartGitServer(t)
	publish := func(name string) string {
		r := testenv.NewWorkRepo(t)
		r.Write(map[string]string{"README.md": name + "\n"})
		r.Commit("init")
		u := r.Publish(git, name)
		git.Protect(name, testenv.Credential{Password: token})
		return u
	}
	withAPI := publish("calcom/cal.com.git")
	publish("calcom/api.git")
	withoutAPI := publish("lonely/cal.com.git")

	cases := []struct {
		name, url, mode, token, want string
		ok                           bool
	}{
		{"no token", withAPI, "skip", "", "authentication required", false},
		{"wrong token", withAPI, "skip", "nope", "the token does not grant access", false},
		{"token, skip", withAPI, "skip", token, "is readable with the token", true},
		{"token, resolve reaches api.git", withAPI, "resolve", token, "and the private API repository are readable", true},
		{"token, resolve without api.git", withoutAPI, "resolve", token, "not the private API repository", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &contract.Answers{Source: contract.Source{URL: tc.url, Submodules: tc.mode}}
			got, err := ProbeSource(context.Background(), a, secret.Secret(tc.token))
			msg := got
			if err != nil {
				msg = err.Error()
			}
			if (err == nil) != tc.ok || !strings.Contains(msg, tc.want) {
				t.Errorf("probeSource = %q, %v; want ok=%v and %q", got, err, tc.ok, tc.want)
			}
			if strings.Contains(msg, token) {
				t.Errorf("the message shows the token: %s", msg)
			}
			// the repository itself failing: skipping submodules is no fix
			if !tc.ok && tc.mode == "skip" && strings.Contains(msg, "--submodules skip") {
				t.Errorf("a parent-repository failure with submodules already skipped advises --submodules skip: %s", msg)
			}
		})
	}
}

func TestProbeDatabaseReal(t *testing.T) {
	tca := testenv.NewCA(t)
	leaf := tca.Valid(t)
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{
		Conf:          []string{"ssl = on"},
		Files:         map[string][]byte{"server.crt": leaf.CertPEM, "server.key": leaf.KeyPEM},
		AuthMethod:    "scram-sha-256",
		SuperPassword: "s3cret-pw",
	})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, tca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, url, ca string
		tls           bool
		wantErr       string
	}{
		{"local without TLS", pg.URL("postgres", "s3cret-pw", "postgres", "sslmode=disable"), "", false, ""},
		{"TLS verified with the CA file", pg.URL("postgres", "s3cret-pw", "postgres", "sslmode=verify-full"), ca, true, ""},
		{"TLS with an unknown CA", pg.URL("postgres", "s3cret-pw", "postgres", "sslmode=verify-full"), "", true, "certificate"},
		{"wrong password", pg.URL("postgres", "wrong-pw", "postgres", "sslmode=require"), "", true, "password authentication failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &contract.Answers{Database: contract.Database{Mode: contract.DBExternal, URLEnv: "DATABASE_URL", CAFile: tc.ca}}
			info, err := ProbeDatabase(context.Background(), a, secret.Secret(tc.url))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret-pw") || strings.Contains(err.Error(), "wrong-pw") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Version == "" || info.TLS != tc.tls {
				t.Errorf("info = %+v, want a version and TLS %v", info, tc.tls)
			}
		})
	}
}
