package bundle_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/bundle"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/collect"
)

// The redaction leaks the adversarial review found (issue 11 item 4), each
// with the file shape that leaked. Every secret below must be absent from
// every file of the bundle; a file that cannot be parsed is left out with a
// manifest entry saying why.
func TestBundleLeaksClosed(t *testing.T) {
	const (
		nextauth = "NxA.leak!3b9f8d7c6e5a4b3c"
		enckey   = "EncKeyLeak0123456789abcdefABCDEF"
		pemMid   = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7leakmidline"
		pemLast  = "lastLineOfThePemKeyLeak9xQ=="
		cmdPass  = "cmd-line-pass-7741aa"
		basic    = "dXNlcjpiYXNpYy1sZWFrLXBhc3N3b3Jk" // user:basic-leak-password
		flowTok  = "flow-mapping-token-55aa77"
		inlineJS = "pm2-inline-secret-99zz11"
	)
	tests := []struct {
		name    string
		files   map[string]string
		secrets []string
		omitted string // a config file expected to be left out
	}{
		{"YAML block scalar and flow mapping in compose", map[string]string{
			".env": "NEXTAUTH_SECRET=" + nextauth + "\n",
			"docker-compose.yml": "services:\n  web:\n    image: calcom/cal.com:v5\n    environment:\n      CALENDSO_ENCRYPTION_KEY: |\n        " + enckey +
				"\n  worker:\n    image: calcom/cal.com:v5\n    environment: {API_TOKEN: " + flowTok + ", NODE_ENV: production}\n",
		}, []string{enckey, flowTok}, ""},
		{"inline pm2 env", map[string]string{
			".env":                "NODE_ENV=production\n",
			"ecosystem.config.js": `module.exports = { apps: [{ name: "calcom", script: "yarn", env: { NODE_ENV: "production", NEXTAUTH_SECRET: "` + inlineJS + `" } }] };` + "\n",
		}, []string{inlineJS}, ""},
		{"an unparseable .env line keeps known-secret redaction on", map[string]string{
			".env": "NEXTAUTH_SECRET=" + nextauth + "\nthis line is not an assignment\nCALENDSO_ENCRYPTION_KEY='" + enckey + "\nsecond line of a Compose v2 multi-line value'\n",
			// the compose file copies the secret into a command line
			"docker-compose.yml": "services:\n  web:\n    image: calcom/cal.com:v5\n    command: [\"node\", \"server.js\", \"--greeting\", \"" + nextauth + "\"]\n",
		}, []string{nextauth, enckey}, "config/env"},
		{"last line of a multi-line PEM", map[string]string{
			".env": "NODE_ENV=production\nSAML_PRIVATE_KEY=\"-----BEGIN PRIVATE KEY-----\n" + pemMid + "\n" + pemLast + "\n-----END PRIVATE KEY-----\"\n",
		}, []string{pemMid, pemLast}, ""},
		{"raw compose command", map[string]string{
			".env":               "NODE_ENV=production\n",
			"docker-compose.yml": "services:\n  backup:\n    image: postgres:16\n    command: pg_dump --password " + cmdPass + " -h database\n",
		}, []string{cmdPass}, ""},
		{"Authorization: Basic in a config", map[string]string{
			".env":               "NODE_ENV=production\n",
			"docker-compose.yml": "services:\n  web:\n    image: calcom/cal.com:v5\n    healthcheck:\n      test: [\"CMD\", \"wget\", \"--header\", \"Authorization: Basic " + basic + "\", \"http://127.0.0.1:3000\"]\n",
		}, []string{basic}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tt.files {
				os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600)
			}
			o := collect.Options{Dir: dir, Timeout: 5 * time.Second, Only: []checks.Source{checks.SourceFiles}}
			facts, err := collect.Collect(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			rep := checks.Run(facts, catalog.All(), checks.Selection{}, nil)
			out := filepath.Join(t.TempDir(), "b.tar.gz")
			m, err := bundle.Write(context.Background(), out, bundle.Inputs{Facts: facts, Report: rep, Options: o})
			if err != nil {
				t.Fatal(err)
			}
			c, err := bundle.Read(out)
			if err != nil {
				t.Fatal(err)
			}
			for name, data := range c.Files {
				for _, s := range tt.secrets {
					if strings.Contains(string(data), s) {
						t.Errorf("%s holds the secret %q:\n%s", name, s, data)
					}
				}
			}
			if tt.omitted != "" {
				found := false
				for _, om := range m.Omitted {
					if om.Name == tt.omitted && strings.Contains(om.Reason, "cannot be parsed") {
						found = true
					}
				}
				if _, in := c.Files[tt.omitted]; in || !found {
					t.Errorf("%s should be left out with a reason; omitted: %+v", tt.omitted, m.Omitted)
				}
			}
		})
	}
}
