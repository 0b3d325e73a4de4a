package pg_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/checks/pg"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
)

var pgChecks = []checks.Check{pg.SSL, pg.TLSFloor, pg.HBATLS, pg.HBAAuth, pg.PasswordHashing, pg.AppRole, pg.PublicPrivileges,
	pg.ConnectionLogging, pg.StatementAudit, pg.StorageIntegrity, pg.ServerVersion, pg.Extensions, pg.Timeouts, pg.AccountHygiene}

const usersTable = `CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
CREATE TYPE "IdentityProvider" AS ENUM ('CAL', 'GOOGLE', 'SAML');
CREATE TABLE users (id serial PRIMARY KEY, role "Role" NOT NULL DEFAULT 'USER', "twoFactorEnabled" boolean NOT NULL DEFAULT false,
  "identityProvider" "IdentityProvider" NOT NULL DEFAULT 'CAL', locked boolean NOT NULL DEFAULT false, "lastActiveAt" timestamp)`

// insecure is the calcom/docker-style cluster: ssl off, trust and md5 in
// pg_hba, md5 hashing, no connection logging, superuser app role.
func insecure(t *testing.T) (app string) {
	p := testenv.StartPostgres(t, testenv.PostgresOptions{
		Conf: []string{"password_encryption = 'md5'", "log_statement = 'all'", "listen_addresses = '*'"},
		HBA:  []string{"local all all trust", "host all all 127.0.0.1/32 trust", "host all all 0.0.0.0/0 md5"},
	})
	p.Exec(t, "", `CREATE ROLE calcom LOGIN SUPERUSER PASSWORD 'magical_password'`)
	p.CreateDatabase(t, "calendso", "calcom")
	p.Exec(t, "calendso", usersTable, `CREATE EXTENSION dblink`,
		`INSERT INTO users (role, "twoFactorEnabled", "lastActiveAt") VALUES ('ADMIN', false, now()), ('USER', false, now() - interval '200 days')`)
	return p.URL("calcom", "magical_password", "calendso", "sslmode=disable")
}

// hardened: ssl on with a generated cert and TLS 1.2 floor, hostssl+scram
// only, connection logging, DDL audit, non-superuser app role.
func hardened(t *testing.T) (app, admin string) {
	ca := testenv.NewCA(t)
	leaf := ca.Valid(t)
	p := testenv.StartPostgres(t, testenv.PostgresOptions{
		Conf: []string{"ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'",
			"ssl_min_protocol_version = 'TLSv1.2'", "ssl_ciphers = 'HIGH:!aNULL:!MD5:!3DES'",
			"password_encryption = 'scram-sha-256'", "log_connections = on", "log_disconnections = on",
			"log_line_prefix = '%m [%p] user=%u db=%d app=%a client=%h '", "log_timezone = 'UTC'", "log_statement = 'ddl'",
			"fsync = on", "full_page_writes = on", "idle_in_transaction_session_timeout = '5min'", "authentication_timeout = '30s'"},
		Files:         map[string][]byte{"server.crt": leaf.CertPEM, "server.key": leaf.KeyPEM},
		SuperPassword: "Sup3r-Secret-Pw-9f2c",
	})
	p.Exec(t, "", `CREATE ROLE cal_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD 'Vh3nB8qLp2Xz9TfR'`)
	p.CreateDatabase(t, "calendso", "cal_app")
	p.Exec(t, "", `REVOKE CONNECT ON DATABASE calendso FROM PUBLIC`, `GRANT CONNECT ON DATABASE calendso TO cal_app`)
	p.Exec(t, "calendso", `REVOKE CREATE ON SCHEMA public FROM PUBLIC`, `SET ROLE cal_app`, usersTable,
		`INSERT INTO users (role, "twoFactorEnabled", "lastActiveAt") VALUES ('ADMIN', true, now()), ('USER', true, now())`)
	hba := strings.Join([]string{"local all all peer", "hostssl all all 127.0.0.1/32 scram-sha-256", "host all all 0.0.0.0/0 reject"}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(p.DataDir, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		t.Fatal(err)
	}
	p.Exec(t, "", `SELECT pg_reload_conf()`) // this session still uses the old rules
	time.Sleep(200 * time.Millisecond)
	return p.URL("cal_app", "Vh3nB8qLp2Xz9TfR", "calendso", "sslmode=require"),
		p.URL("postgres", "Sup3r-Secret-Pw-9f2c", "postgres", "sslmode=require")
}

func run(t *testing.T, app, admin string) map[string]string {
	t.Helper()
	f, err := collect.Collect(context.Background(), collect.Options{DatabaseURL: secret.Secret(app), AdminDatabaseURL: secret.Secret(admin),
		Only: []checks.Source{checks.SourcePG}})
	if err != nil {
		t.Fatal(err)
	}
	if st := f.Source(checks.SourcePG); !st.Collected {
		t.Fatalf("postgres not collected: %+v", st)
	}
	rep := checks.Run(f, pgChecks, checks.Selection{}, nil)
	got := map[string]string{}
	for _, r := range rep.Results {
		got[r.ID] = string(r.Status)
		t.Logf("%s %-5s %s", r.ID, r.Status, r.Message)
	}
	return got
}

func TestPGChecksAgainstRealClusters(t *testing.T) {
	tests := []struct {
		name    string
		cluster func(t *testing.T) (string, string)
		admin   bool
		want    map[string]string
	}{
		{"insecure", func(t *testing.T) (string, string) { return insecure(t), "" }, false, map[string]string{
			"PG-001": "WARN", "PG-002": "SKIP", "PG-003": "FAIL", "PG-004": "FAIL", "PG-005": "FAIL", "PG-006": "FAIL",
			"PG-007": "WARN", "PG-008": "FAIL", "PG-009": "WARN", "PG-010": "FAIL", "PG-011": "PASS|WARN", "PG-012": "WARN",
			"PG-013": "WARN", "PG-014": "FAIL"}},
		{"hardened with admin session", hardened, true, map[string]string{
			"PG-001": "PASS", "PG-002": "PASS", "PG-003": "PASS", "PG-004": "PASS", "PG-005": "PASS", "PG-006": "PASS",
			"PG-007": "PASS", "PG-008": "PASS", "PG-009": "PASS", "PG-010": "WARN", "PG-011": "PASS|WARN", "PG-012": "PASS",
			"PG-013": "PASS", "PG-014": "PASS"}},
		{"hardened, app role only", hardened, false, map[string]string{
			"PG-001": "PASS", "PG-002": "SKIP", "PG-003": "SKIP", "PG-004": "SKIP", "PG-005": "SKIP", "PG-006": "PASS",
			"PG-007": "PASS", "PG-008": "PASS", "PG-009": "PASS", "PG-010": "WARN", "PG-011": "PASS|WARN", "PG-012": "PASS",
			"PG-013": "PASS", "PG-014": "PASS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app, admin := tt.cluster(t)
			if !tt.admin {
				admin = ""
			}
			got := run(t, app, admin)
			var ids []string
			for id := range tt.want {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				if !strings.Contains("|"+tt.want[id]+"|", "|"+got[id]+"|") {
					t.Errorf("%s = %s, want %s", id, got[id], tt.want[id])
				}
			}
		})
	}
}

func TestPGSkipNamesPrivilege(t *testing.T) {
	f := &checks.Facts{PG: &checks.PGFacts{Settings: map[string]string{"password_encryption": "scram-sha-256"},
		Unreadable: map[string]string{"pg_hba_file_rules": "superuser", "pg_authid": "superuser"}}}
	f.SetSource(checks.SourcePG, checks.SourceState{Collected: true})
	for _, c := range []checks.Check{pg.HBAAuth, pg.PasswordHashing, pg.HBATLS} {
		r := c.Run(f)[0]
		if r.Status != checks.Skip || !strings.Contains(r.Message, "needs superuser") {
			t.Errorf("%s = %s %q, want SKIP naming the privilege", r.ID, r.Status, r.Message)
		}
	}
}

func TestPGCollectorDown(t *testing.T) {
	port := testenv.FreePort(t)
	f, err := collect.Collect(context.Background(), collect.Options{Only: []checks.Source{checks.SourcePG}, Timeout: 3 * time.Second,
		DatabaseURL: secret.Secret("postgres://calcom:hunter2-pw@127.0.0.1:" + itoa(port) + "/calendso?sslmode=disable")})
	if err != nil {
		t.Fatal(err)
	}
	st := f.Source(checks.SourcePG)
	if st.Error == "" || strings.Contains(st.Error, "hunter2-pw") {
		t.Fatalf("state = %+v (want an error without the password)", st)
	}
	rep := checks.Run(f, pgChecks, checks.Selection{}, nil)
	for _, r := range rep.Results {
		if r.Status != checks.Error {
			t.Errorf("%s = %s, want ERROR", r.ID, r.Status)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
