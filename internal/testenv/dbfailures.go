package testenv

import (
	"fmt"
	"testing"
)

// DatabaseFailures is a throwaway cluster set up so that a connection
// fails in each of the ways a user meets: a wrong password, a database
// that does not exist, a port nobody listens on, and a server that takes
// the app role only over TLS while the URL refuses TLS. Good is the URL
// that works, for a test's own fixtures.
type DatabaseFailures struct {
	// Postgres is the cluster: TLS on, the superuser on plain TCP
	// (Exec, CreateDatabase), the app role calcom over TLS only.
	*Postgres
	// Good connects as calcom to calendso over TLS (sslmode=require).
	Good string
	// Password is calcom's password; WrongPassword is the one the
	// "wrong password" URL carries. Neither may appear in any output.
	Password, WrongPassword string
	// Failing are the URLs that each fail one way, in a fixed order.
	Failing []FailingDatabase
}

// FailingDatabase is one database URL that cannot connect, and how.
type FailingDatabase struct {
	// Name is the way it fails: "wrong password", "no such database",
	// "closed port", "TLS required, refused".
	Name string
	// Slug is Name as a file or directory name.
	Slug string
	// URL is the database URL (driver form, with the password).
	URL string
}

// StartDatabaseFailures starts the cluster (StartPostgres, which skips or
// fails when PostgreSQL is missing) and returns its URLs.
func StartDatabaseFailures(t testing.TB) *DatabaseFailures {
	t.Helper()
	leaf := NewCA(t).Valid(t)
	d := &DatabaseFailures{Password: "calcom-Pw-4471", WrongPassword: "Wrong-Pw-9923"}
	d.Postgres = StartPostgres(t, PostgresOptions{AuthMethod: "scram-sha-256", SuperPassword: "super-Pw-5150",
		Conf:  []string{"ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"},
		Files: map[string][]byte{"server.crt": leaf.CertPEM, "server.key": leaf.KeyPEM},
		// calcom over TLS only: a plain connection matches no line
		HBA: []string{"local all all trust", "host all postgres 127.0.0.1/32 scram-sha-256", "hostssl all calcom 127.0.0.1/32 scram-sha-256"}})
	d.Exec(t, "", "CREATE ROLE calcom LOGIN PASSWORD '"+d.Password+"'")
	d.CreateDatabase(t, "calendso", "calcom")
	d.Good = d.URL("calcom", d.Password, "calendso", "sslmode=require")
	closed := fmt.Sprintf("postgres://calcom:%s@127.0.0.1:%d/calendso?sslmode=require&connect_timeout=5", d.Password, FreePort(t))
	d.Failing = []FailingDatabase{
		{"wrong password", "wrong-password", d.URL("calcom", d.WrongPassword, "calendso", "sslmode=require")},
		{"no such database", "no-such-database", d.URL("calcom", d.Password, "calendso_nope", "sslmode=require")},
		{"closed port", "closed-port", closed},
		{"TLS required, refused", "tls-refused", d.URL("calcom", d.Password, "calendso", "sslmode=disable")},
	}
	return d
}
