package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/collect"
)

// TestDBTLSByDriver: CF-003 reads each URL as the driver that reads it
// does (calcom-facts.md §9): libpq's verify-full is not verified by Prisma's
// engine, the engine's form is not node-postgres's, and the checkout beside
// the install decides which driver reads DATABASE_URL.
func TestDBTLSByDriver(t *testing.T) {
	const host = "postgresql://cal:pw@db.example.com:5432/cal"
	engine := host + "?sslmode=require&sslcert=/ca.pem&sslaccept=strict"
	libpq := host + "?sslmode=verify-full&sslrootcert=/ca.pem"
	tests := []struct {
		name, app, direct string
		adapterPG         bool
		want              string // CF-003 findings for DATABASE_URL then DATABASE_DIRECT_URL
	}{
		{"engine forms, engine tree", engine, engine, false, "PASS PASS"},
		{"libpq forms, engine tree (RDS as people write it)", libpq, libpq, false, "FAIL FAIL"},
		{"node-postgres app, engine migrations", libpq, engine, true, "PASS PASS"},
		{"engine app on an adapter-pg tree", engine, engine, true, "FAIL PASS"},
		{"require only", host + "?sslmode=require", host + "?sslmode=require", false, "FAIL FAIL"},
		{"local database", "postgresql://cal:pw@127.0.0.1/cal", "postgresql://cal:pw@127.0.0.1/cal", false, "PASS PASS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, ".env"), []byte("DATABASE_URL="+tt.app+"\nDATABASE_DIRECT_URL="+tt.direct+"\n"), 0o600)
			if tt.adapterPG {
				p := filepath.Join(dir, "src", "packages", "prisma")
				os.MkdirAll(p, 0o755)
				os.WriteFile(filepath.Join(p, "package.json"), []byte(`{"name":"@calcom/prisma","dependencies":{"@prisma/adapter-pg":"6.16.1"}}`), 0o644)
			}
			f, err := collect.Collect(context.Background(), collect.Options{Dir: dir, Only: []checks.Source{checks.SourceFiles}})
			if err != nil {
				t.Fatal(err)
			}
			rep := checks.Run(f, []checks.Check{DBTLS}, checks.Selection{}, nil)
			var got []string
			for _, k := range []string{"DATABASE_URL", "DATABASE_DIRECT_URL"} {
				for _, r := range rep.Results {
					if r.Resource == k {
						got = append(got, string(r.Status))
					}
				}
			}
			if strings.Join(got, " ") != tt.want {
				for _, r := range rep.Results {
					t.Logf("%s %s: %s", r.Status, r.Resource, r.Message)
				}
				t.Errorf("CF-003 = %s, want %s", strings.Join(got, " "), tt.want)
			}
		})
	}
}
