package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
)

// TestProfileRDS: with --profile rds the host and Docker checks are SKIP
// ("not the deployment's host", even though this machine has both), the
// RDS parameters Postgres exposes are read, and PG-003 believes
// rds.force_ssl only when a plaintext session request is really refused.
// The database is a real cluster carrying RDS's parameters.
func TestProfileRDS(t *testing.T) {
	ca := testenv.NewCA(t)
	leaf := ca.Valid(t)
	files := map[string][]byte{"server.crt": leaf.CertPEM, "server.key": leaf.KeyPEM}
	conf := []string{"ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'", "rds.force_ssl = 1", "rds.extensions = 'pgaudit,pg_stat_statements'"}
	for _, tt := range []struct {
		name string
		hba  []string
		want checks.Status
	}{
		{"force_ssl holds", []string{"local all all trust", "hostssl all all 127.0.0.1/32 scram-sha-256", "hostnossl all all 0.0.0.0/0 reject"}, checks.Pass},
		{"force_ssl claimed, plaintext accepted", []string{"local all all trust", "host all all 127.0.0.1/32 scram-sha-256"}, checks.Fail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := testenv.StartPostgres(t, testenv.PostgresOptions{SuperPassword: "Rds-like-pw-9931", Conf: conf, Files: files, HBA: tt.hba})
			url := p.URL("postgres", "Rds-like-pw-9931", "postgres", "sslmode=require")
			f, err := collect.Collect(context.Background(), collect.Options{Profile: "rds", DatabaseURL: secret.Secret(url), Docker: true, Host: true})
			if err != nil {
				t.Fatal(err)
			}
			if !f.PG.RDS || f.PG.Settings["rds.extensions"] != "pgaudit,pg_stat_statements" {
				t.Errorf("RDS parameters not read: rds=%v %v", f.PG.RDS, f.PG.Settings["rds.extensions"])
			}
			rep := checks.Run(f, catalog.All(), checks.Selection{}, nil)
			for _, r := range rep.Results {
				host := r.Group == "DK" || r.ID == "NET-004" || r.ID == "NET-005" || r.ID == "NET-006" || r.ID == "NET-007" || r.ID == "NET-008"
				if host && (r.Status != checks.Skip || !strings.Contains(r.Message, "not the deployment's host")) {
					t.Errorf("%s = %s %q, want SKIP: not the deployment's host", r.ID, r.Status, r.Message)
				}
				if r.ID == "PG-003" && r.Status != tt.want {
					t.Errorf("PG-003 = %s %q %v, want %s", r.Status, r.Message, r.Evidence, tt.want)
				}
			}
		})
	}
}
