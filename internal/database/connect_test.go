package database

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/testenv"
)

// TestConnectTLS connects to a TLS-only server in both forms a rendered
// .env carries (branch deploy): the Prisma engine form of
// DATABASE_DIRECT_URL and the driver form of DATABASE_URL. Each must verify
// the server: a wrong CA or a wrong host name must fail.
func TestConnectTLS(t *testing.T) {
	ca, other := testenv.NewCA(t), testenv.NewCA(t)
	leaf := ca.Valid(t) // for localhost and 127.0.0.1, not 127.0.0.2
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{
		Conf:          []string{"ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'", "listen_addresses = '127.0.0.1, 127.0.0.2'"},
		Files:         map[string][]byte{"server.crt": leaf.CertPEM, "server.key": leaf.KeyPEM},
		HBA:           []string{"local all all trust", "hostssl all all 127.0.0.0/8 scram-sha-256", "host all all 127.0.0.0/8 reject"},
		AuthMethod:    "scram-sha-256",
		SuperPassword: "pw with space+plus",
	})
	dir := filepath.Join(t.TempDir(), "my certs") // a space in the path, as %20 / '+' in the URLs
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	caFile, otherFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "other.pem")
	os.WriteFile(caFile, ca.PEM, 0o644)
	os.WriteFile(otherFile, other.PEM, 0o644)
	pw := url.UserPassword("postgres", pg.SuperPassword).String() // percent-encoded user info
	base := func(host string) string { return fmt.Sprintf("postgresql://%s@%s:%d/postgres", pw, host, pg.Port) }
	pathEnc := strings.ReplaceAll(caFile, " ", "%20")
	formEnc := strings.ReplaceAll(caFile, " ", "+") // Prisma decodes '+' as a space
	otherEnc := strings.ReplaceAll(otherFile, " ", "%20")
	ctx := context.Background()

	tests := []struct {
		name, url string
		form      Form
		wantErr   string // "" = connects over verified TLS
	}{
		{"engine form strict", base("127.0.0.1") + "?schema=public&connection_limit=5&sslmode=require&sslcert=" + formEnc + "&sslaccept=strict", FormPrismaEngine, ""},
		{"engine form strict, host name", base("localhost") + "?sslmode=require&sslcert=" + pathEnc + "&sslaccept=strict", FormPrismaEngine, ""},
		{"engine form strict, wrong CA", base("127.0.0.1") + "?sslmode=require&sslcert=" + otherEnc + "&sslaccept=strict", FormPrismaEngine, "unknown CA"},
		{"engine form strict, wrong host", base("127.0.0.2") + "?sslmode=require&sslcert=" + pathEnc + "&sslaccept=strict", FormPrismaEngine, "the certificate is not for 127.0.0.2"},
		{"driver form verify-full", base("127.0.0.1") + "?sslmode=verify-full&sslrootcert=" + pathEnc + "&options=-c%20statement_timeout%3D4321", FormDriver, ""},
		{"driver form verify-full, wrong CA", base("127.0.0.1") + "?sslmode=verify-full&sslrootcert=" + otherEnc, FormDriver, "unknown CA"},
		{"driver form verify-full, wrong host", base("127.0.0.2") + "?sslmode=verify-full&sslrootcert=" + pathEnc, FormDriver, "the certificate is not for 127.0.0.2"},
		{"driver form verify-ca ignores the host", base("127.0.0.2") + "?sslmode=verify-ca&sslrootcert=" + pathEnc, FormDriver, ""},
		{"plain TCP is refused by the server", base("127.0.0.1") + "?sslmode=disable", FormDriver, "reject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if u.Form != tt.form {
				t.Fatalf("form %s, want %s", u.Form, tt.form)
			}
			conn, err := u.Connect(ctx, Options{AppName: "calctl-test"})
			if tt.wantErr != "" {
				if err == nil {
					conn.Close(ctx)
					t.Fatalf("connected; want an error mentioning %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), pg.SuperPassword) || strings.Contains(err.Error(), "space+plus") {
					t.Fatalf("error %q: want %q and no password", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
				t.Fatal("connection is not TLS")
			}
			if !u.TLS.Verified() {
				t.Fatalf("TLS mode %s is not verified", u.TLS)
			}
			var app string
			if err := conn.QueryRow(ctx, "SHOW application_name").Scan(&app); err != nil || app != "calctl-test" {
				t.Fatalf("application_name %q %v", app, err)
			}
			if strings.Contains(tt.url, "statement_timeout") {
				var v string
				if err := conn.QueryRow(ctx, "SHOW statement_timeout").Scan(&v); err != nil || v != "4321ms" {
					t.Fatalf("options with %%20: statement_timeout %q %v", v, err)
				}
			}
		})
	}
}

// TestConnectErrors: a wrong password never appears in the error; a
// cancelled context is still errors.Is(context.Canceled).
func TestConnectErrors(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{AuthMethod: "scram-sha-256", SuperPassword: "right-pw",
		HBA: []string{"local all all trust", "host all all 127.0.0.1/32 scram-sha-256"}})
	ctx := context.Background()
	wrong := fmt.Sprintf("postgresql://postgres:Wr0ng%%21pw@127.0.0.1:%d/postgres?sslmode=disable&schema=public", pg.Port)
	_, err := Connect(ctx, wrong, Options{})
	if err == nil || strings.Contains(err.Error(), "Wr0ng") || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("wrong password: %v", err)
	}
	var pgErr interface{ SQLState() string }
	if !errors.As(err, &pgErr) || pgErr.SQLState() != "28P01" {
		t.Fatalf("the chain lost the server error: %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Connect(cctx, wrong, Options{})
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "Wr0ng") {
		t.Fatalf("cancelled: %v (errors.Is canceled: %v)", err, errors.Is(err, context.Canceled))
	}

	right := strings.Replace(wrong, "Wr0ng%21pw", "right-pw", 1)
	conn, err := Connect(ctx, right, Options{ReadOnly: true, StatementTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE TABLE t (id int)")
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("ReadOnly session could write: %v", err)
	}
	var sp string
	_ = conn.QueryRow(ctx, "SHOW search_path").Scan(&sp)
	if sp != `"public"` {
		t.Fatalf("search_path %q from ?schema=public", sp)
	}
}
