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
	"github.com/calctl/calctl/checks/backup"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/checks/pg"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
)

var pgChecks = []checks.Check{pg.SSL, pg.TLSFloor, pg.HBATLS, pg.HBAAuth, pg.PasswordHashing, pg.AppRole, pg.PublicPrivileges,
	pg.ConnectionLogging, pg.StatementAudit, pg.StorageIntegrity, pg.ServerVersion, pg.Extensions, pg.Timeouts, pg.AccountHygiene,
	pg.LogCollector, pg.LogRetention, pg.LogFileMode, pg.SocketMode, pg.DataDirMode, pg.SessionLifetime, backup.PITR}

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
			"ssl_min_protocol_version = 'TLSv1.2'", "ssl_ciphers = 'ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL'",
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
			"PG-001": "PASS", "PG-002": "PASS", "PG-003": "PASS", "PG-004": "SKIP", "PG-005": "SKIP", "PG-006": "PASS",
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

// statuses runs the PG checks and returns id -> result.
func results(t *testing.T, app, admin string) map[string]checks.Result {
	t.Helper()
	f, err := collect.Collect(context.Background(), collect.Options{DatabaseURL: secret.Secret(app), AdminDatabaseURL: secret.Secret(admin),
		Only: []checks.Source{checks.SourcePG}})
	if err != nil {
		t.Fatal(err)
	}
	if st := f.Source(checks.SourcePG); !st.Collected {
		t.Fatalf("postgres not collected: %+v", st)
	}
	out := map[string]checks.Result{}
	for _, r := range checks.Run(f, pgChecks, checks.Selection{}, nil).Results {
		out[r.ID] = r
	}
	return out
}

// Wrong answers from the audit, each against the kind of cluster that
// showed it (issue 13 item 3).
func TestPGWrongAnswersFixed(t *testing.T) {
	ca := testenv.NewCA(t)
	leaf := ca.Valid(t)
	tlsConf := []string{"ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'", "ssl_min_protocol_version = 'TLSv1.2'"}
	files := map[string][]byte{"server.crt": leaf.CertPEM, "server.key": leaf.KeyPEM}

	t.Run("PG-009 pgaudit loaded, role cannot read shared_preload_libraries", func(t *testing.T) {
		t.Parallel()
		// pgaudit from Debian's postgresql-15-pgaudit, really loaded.
		p := testenv.StartPostgres(t, testenv.PostgresOptions{SuperPassword: "Sup3r-pw-audit-71",
			Conf: []string{"shared_preload_libraries = 'pgaudit'", "pgaudit.log = 'ddl,role'"}})
		p.Exec(t, "", `CREATE ROLE cal_app LOGIN PASSWORD 'App-pw-audit-4411'`)
		app := p.URL("cal_app", "App-pw-audit-4411", "postgres", "sslmode=disable")
		got := results(t, app, "")["PG-009"]
		if got.Status != checks.Skip || !strings.Contains(got.Message, "pg_read_all_settings") {
			t.Errorf("PG-009 = %s %q, want SKIP naming pg_read_all_settings", got.Status, got.Message)
		}
		if got := results(t, app, p.SuperURL())["PG-009"]; got.Status != checks.Pass {
			t.Errorf("with the superuser PG-009 = %s %q, want PASS (pgaudit ddl,role)", got.Status, got.Message)
		}
	})

	t.Run("PG-003 hostnossl 0.0.0.0/0 with plaintext login", func(t *testing.T) {
		t.Parallel()
		p := testenv.StartPostgres(t, testenv.PostgresOptions{SuperPassword: "Sup3r-pw-nossl-72", Conf: tlsConf, Files: files,
			HBA: []string{"local all all trust", "hostssl all all 127.0.0.1/32 scram-sha-256", "hostnossl all all 0.0.0.0/0 scram-sha-256"}})
		p.Exec(t, "", `CREATE ROLE cal_app LOGIN PASSWORD 'App-pw-nossl-4412'`)
		// The plaintext login really succeeds.
		pl := p.URL("cal_app", "App-pw-nossl-4412", "postgres", "sslmode=disable")
		if c, err := collect.ConnectPG(context.Background(), secret.Secret(pl)); err != nil {
			t.Fatalf("plaintext login: %v", err)
		} else {
			c.Close(context.Background())
		}
		got := results(t, p.URL("cal_app", "App-pw-nossl-4412", "postgres", "sslmode=require"), p.SuperURL())["PG-003"]
		if got.Status != checks.Fail || !strings.Contains(got.Message, "hostnossl") || !strings.Contains(got.Evidence["plaintext_probe"], "asked for a password") {
			t.Errorf("PG-003 = %s %q %v, want FAIL naming the hostnossl line and the accepted plaintext request", got.Status, got.Message, got.Evidence)
		}
	})

	t.Run("PG-002 TLS 1.2 suite without forward secrecy", func(t *testing.T) {
		t.Parallel()
		rsaLeaf := ca.RSA(t)
		p := testenv.StartPostgres(t, testenv.PostgresOptions{SuperPassword: "Sup3r-pw-kex-73",
			Files: map[string][]byte{"server.crt": rsaLeaf.CertPEM, "server.key": rsaLeaf.KeyPEM},
			Conf:  append(append([]string{}, tlsConf...), "ssl_ciphers = 'AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256'")})
		got := results(t, p.URL("postgres", "Sup3r-pw-kex-73", "postgres", "sslmode=require"), "")["PG-002"]
		if got.Status != checks.Warn || got.Evidence["weak_suite"] != "TLS_RSA_WITH_AES_128_GCM_SHA256" {
			t.Errorf("PG-002 = %s %q %v, want WARN naming the RSA key-exchange suite", got.Status, got.Message, got.Evidence)
		}
	})
}

// The checks added for logging, file modes, sessions and PITR, on real
// clusters configured each way.
func TestPGNewChecksAgainstRealClusters(t *testing.T) {
	const usersWithMeta = `CREATE TABLE users (id serial PRIMARY KEY, role text NOT NULL DEFAULT 'USER', "twoFactorEnabled" boolean NOT NULL DEFAULT true,
  "identityProvider" text NOT NULL DEFAULT 'CAL', locked boolean NOT NULL DEFAULT false, "lastActiveAt" timestamp DEFAULT now(), metadata jsonb)`
	archive := t.TempDir()
	os.Chmod(archive, 0o777)
	tests := []struct {
		name  string
		conf  []string
		users []string
		want  map[string]checks.Status
	}{
		{"defaults", nil, []string{`INSERT INTO users (metadata) VALUES (NULL), ('{"sessionTimeout": 30}')`}, map[string]checks.Status{
			"PG-015": checks.Warn, "PG-016": checks.Skip, "PG-017": checks.Skip, "PG-018": checks.Warn, "PG-019": checks.Pass,
			"PG-020": checks.Warn, "BK-006": checks.Warn}},
		{"collector, loose modes, long sessions", []string{"logging_collector = on", "log_file_mode = 0644", "unix_socket_permissions = 0770",
			"log_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'", "archive_mode = on"},
			[]string{`INSERT INTO users (metadata) VALUES ('{"sessionTimeout": 600}')`}, map[string]checks.Status{
				"PG-015": checks.Pass, "PG-016": checks.Warn, "PG-017": checks.Fail, "PG-018": checks.Pass, "PG-020": checks.Warn, "BK-006": checks.Fail}},
		{"hardened", []string{"logging_collector = on", "log_file_mode = 0600", "unix_socket_permissions = 0700",
			"log_filename = 'postgresql-%a.log'", "log_truncate_on_rotation = on", "log_rotation_age = '1d'",
			"archive_mode = on", "archive_command = 'cp %p " + archive + "/%f'"},
			[]string{`INSERT INTO users (metadata) VALUES ('{"sessionTimeout": 15}'), ('{"sessionTimeout": 60}')`, `INSERT INTO users (locked) VALUES (true)`},
			map[string]checks.Status{"PG-015": checks.Pass, "PG-016": checks.Pass, "PG-017": checks.Pass, "PG-018": checks.Pass,
				"PG-019": checks.Pass, "PG-020": checks.Pass, "BK-006": checks.Pass}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := testenv.StartPostgres(t, testenv.PostgresOptions{SuperPassword: "Sup3r-pw-new-74", Conf: tt.conf})
			p.CreateDatabase(t, "calendso", "")
			p.Exec(t, "calendso", append([]string{usersWithMeta}, tt.users...)...)
			got := results(t, p.URL("postgres", "Sup3r-pw-new-74", "calendso", "sslmode=disable"), "")
			for id, want := range tt.want {
				if got[id].Status != want {
					t.Errorf("%s = %s %q %v, want %s", id, got[id].Status, got[id].Message, got[id].Evidence, want)
				}
			}
		})
	}
}
