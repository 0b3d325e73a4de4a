package bundle_test

import (
	"context"
	"encoding/json"
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

// FuzzBundleFacts: whatever facts.json a bundle holds, calctl either
// refuses it or judges it with every check and none panics (issue 11, Low:
// "inconsistent facts make 18 checks panic (caught)"; the runner catches a
// panic as ERROR "check panicked", which this target treats as a finding).
// Seeds: facts collected from a compose install with merge keys, with
// Docker and Postgres sections, and the inconsistent shapes of
// TestInconsistentFactsNeverPanic.
func FuzzBundleFacts(f *testing.F) {
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, ".env"), []byte("NEXTAUTH_SECRET=x\nCALENDSO_ENCRYPTION_KEY=y\nDATABASE_URL=postgresql://calcom:pw@database:5432/calendso\nNEXT_PUBLIC_WEBAPP_URL=http://localhost:3000\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte("x-base: &base\n  privileged: true\n  ports: [\"0.0.0.0:5432:5432\"]\nservices:\n  database:\n    <<: *base\n    image: postgres:15\n  calcom:\n    image: calcom/cal.com:v5.0.0\n    env_file: .env\n"), 0o600)
	facts, err := collect.Collect(context.Background(), collect.Options{Dir: dir, Only: []checks.Source{checks.SourceFiles}, Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		f.Fatal(err)
	}
	facts.Docker = &checks.DockerFacts{EngineVersion: "27.0.1", Containers: []checks.Container{{ID: "c1", Name: "calcom-database-1", Image: "postgres:15", Role: "postgres", State: "running"}}}
	facts.SetSource(checks.SourceDocker, checks.SourceState{Collected: true})
	facts.PG = &checks.PGFacts{Host: "database", ServerVersion: "15.4", ServerVersionNum: 150004, Settings: map[string]string{"ssl": "off", "log_connections": "on"}}
	facts.SetSource(checks.SourcePG, checks.SourceState{Collected: true})
	rich, _ := json.Marshal(facts)
	f.Add(rich)
	empty := &checks.Facts{SchemaVersion: checks.FactsSchemaVersion}
	for _, s := range []checks.Source{checks.SourceFiles, checks.SourcePG, checks.SourceDocker, checks.SourceNet, checks.SourceHost, checks.SourceBackup} {
		empty.SetSource(s, checks.SourceState{Collected: true})
	}
	raw, _ := json.Marshal(empty)
	f.Add(raw)
	f.Add([]byte(strings.Replace(string(raw), `"sources"`, `"postgres":{"settings":null,"unreadable":null},"sources"`, 1)))
	f.Add([]byte(strings.Replace(string(rich), `"containers":[`, `"containers":[null,`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &bundle.Contents{Files: map[string][]byte{"facts.json": data}}
		ff, err := c.Facts()
		if err != nil {
			return
		}
		for _, r := range checks.Run(ff, catalog.All(), checks.Selection{}, nil).Results {
			if strings.Contains(r.Message, "panicked") {
				t.Fatalf("%s panicked: %s\n%s", r.ID, r.Message, r.Evidence["stack"])
			}
		}
	})
}
