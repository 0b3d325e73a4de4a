package database

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

// TestExplain connects to a real Postgres (and to nothing, and to a name
// that does not resolve, and over TLS to a server without it) and checks
// each failure is one line naming what failed and what to do.
func TestExplain(t *testing.T) {
	ca := testenv.NewCA(t)
	leaf := ca.Valid(t)
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{AuthMethod: "scram-sha-256", SuperPassword: "right-pw",
		Conf:  []string{"ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"},
		Files: map[string][]byte{"server.crt": leaf.CertPEM, "server.key": leaf.KeyPEM},
		// tlsonly may connect over TLS only: without it, no line matches
		HBA: []string{"local all all trust", "hostssl all tlsonly 127.0.0.1/32 scram-sha-256", "host all postgres 127.0.0.1/32 scram-sha-256"}})
	pg.Exec(t, "", "CREATE ROLE tlsonly LOGIN PASSWORD 'right-pw'")
	// a port nobody listens on: bind, note, close
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	u := func(user, pw, host string, port int, db, q string) string {
		return fmt.Sprintf("postgresql://%s:%s@%s:%d/%s?%s", user, pw, host, port, db, q)
	}
	cases := []struct {
		name string
		url  string
		kind Failure
		want []string
	}{
		{"dns", u("postgres", "right-pw", "db.does-not-exist.invalid", 5432, "postgres", "sslmode=disable"), FailDNS, []string{"does not resolve", "db.does-not-exist.invalid", "host name"}},
		{"refused", u("postgres", "right-pw", "127.0.0.1", closed, "postgres", "sslmode=disable"), FailRefused, []string{"connection refused", fmt.Sprint(closed), "listen_addresses"}},
		{"auth", u("postgres", "Wr0ng-pw", "127.0.0.1", pg.Port, "postgres", "sslmode=disable"), FailAuth, []string{"28P01", "password"}},
		{"database missing", u("postgres", "right-pw", "127.0.0.1", pg.Port, "calcom_nope", "sslmode=disable"), FailDatabase, []string{"calcom_nope", "3D000", "CREATE DATABASE"}},
		{"tls required by the server, refused by the URL", u("tlsonly", "right-pw", "127.0.0.1", pg.Port, "postgres", "sslmode=disable"), FailTLS, []string{"only over TLS", "28000", "sslmode=require"}},
		{"tls required, given", u("tlsonly", "right-pw", "127.0.0.1", pg.Port, "postgres", "sslmode=require"), "", nil},
		{"tls unknown CA", u("postgres", "right-pw", "localhost", pg.Port, "postgres", "sslmode=verify-full"), FailTLS, []string{"TLS", "CA file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := Connect(context.Background(), tc.url, Options{})
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("did not connect: %v", err)
				}
				conn.Close(context.Background())
				return
			}
			if err == nil {
				t.Fatal("connected")
			}
			e := ExplainURL(err, tc.url)
			if msg := e.Error(); err.Error() != msg {
				t.Errorf("Connect's error %q is not the explained %q", err, msg)
			}
			msg := e.Error()
			if e.Kind != tc.kind {
				t.Errorf("kind %s, want %s: %s\n(driver: %v)", e.Kind, tc.kind, msg, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "pw") && strings.Contains(msg, "right-pw") || strings.Contains(msg, "Wr0ng") {
				t.Errorf("not one clean line: %q", msg)
			}
			if strings.Count(msg, "failed to connect") > 0 {
				t.Errorf("driver text repeated: %q", msg)
			}
		})
	}
}
