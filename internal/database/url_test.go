package database

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, raw string
		form      Form
		dsn       string // what pgx gets
		tls       TLSMode
		ca        string
		schema    string
		bouncer   bool
		dropped   []string
	}{
		{name: "plain", raw: "postgresql://u:p@db:5432/calendso",
			form: FormDriver, dsn: "postgresql://u:p@db:5432/calendso", tls: TLSPrefer},
		{name: "prisma pool parameters dropped, schema kept as search_path",
			raw:  "postgresql://u:p@db:5432/calendso?schema=cal&connection_limit=5&pool_timeout=10&socket_timeout=3&statement_cache_size=0&sslmode=disable",
			form: FormDriver, dsn: "postgresql://u:p@db:5432/calendso?sslmode=disable", tls: TLSDisable, schema: "cal",
			dropped: []string{"connection_limit", "pool_timeout", "schema", "socket_timeout", "statement_cache_size"}},
		{name: "pgbouncer", raw: "postgres://u:p@pooler:6432/calendso?pgbouncer=true&sslmode=require",
			form: FormDriver, dsn: "postgres://u:p@pooler:6432/calendso?sslmode=require", tls: TLSRequire, bouncer: true, dropped: []string{"pgbouncer"}},
		{name: "percent-encoding kept byte for byte",
			raw:  "postgresql://u:p%20w@db/cal?options=-c%20statement_timeout%3D5000&application_name=a+b&schema=x",
			form: FormDriver, dsn: "postgresql://u:p%20w@db/cal?options=-c%20statement_timeout%3D5000&application_name=a+b", tls: TLSPrefer, schema: "x",
			dropped: []string{"schema"}},
		{name: "driver form verify-full (deploy's DATABASE_URL)",
			raw:  "postgresql://u:p@db.example.com:5432/cal?sslmode=verify-full&sslrootcert=/etc/calcom/db%20ca.pem",
			form: FormDriver, dsn: "postgresql://u:p@db.example.com:5432/cal?sslmode=verify-full&sslrootcert=/etc/calcom/db%20ca.pem",
			tls: TLSVerifyFull, ca: "/etc/calcom/db ca.pem"},
		{name: "driver form require + root cert verifies the chain (libpq)",
			raw:  "postgresql://u:p@db/cal?sslmode=require&sslrootcert=/ca.pem",
			form: FormDriver, dsn: "postgresql://u:p@db/cal?sslmode=require&sslrootcert=/ca.pem", tls: TLSVerifyCA, ca: "/ca.pem"},
		{name: "node-postgres no-verify", raw: "postgresql://u:p@db/cal?sslmode=no-verify",
			form: FormDriver, dsn: "postgresql://u:p@db/cal?sslmode=require", tls: TLSRequire},
		{name: "client certificate (driver form)", raw: "postgresql://u@db/cal?sslmode=verify-full&sslrootcert=/ca.pem&sslcert=/c.pem&sslkey=/k.pem",
			form: FormDriver, dsn: "postgresql://u@db/cal?sslcert=/c.pem&sslkey=/k.pem&sslmode=verify-full&sslrootcert=/ca.pem", tls: TLSVerifyFull, ca: "/ca.pem"},
		{name: "Prisma engine form, strict (deploy's DATABASE_DIRECT_URL)",
			raw:  "postgresql://u:p@db.example.com:5432/cal?schema=public&sslmode=require&sslcert=/etc/calcom/my+ca.pem&sslaccept=strict",
			form: FormPrismaEngine, dsn: "postgresql://u:p@db.example.com:5432/cal?sslmode=verify-full&sslrootcert=/etc/calcom/my%20ca.pem",
			tls: TLSVerifyFull, ca: "/etc/calcom/my ca.pem", schema: "public", dropped: []string{"schema", "sslaccept", "sslcert"}},
		{name: "Prisma engine form, default accept_invalid_certs: no verification, as Prisma",
			raw:  "postgresql://u:p@db/cal?sslmode=require&sslcert=/ca.pem",
			form: FormPrismaEngine, dsn: "postgresql://u:p@db/cal?sslmode=require", tls: TLSRequire, ca: "/ca.pem", dropped: []string{"sslcert"}},
		{name: "Prisma engine form, strict without a CA: system roots",
			raw:  "postgresql://u:p@db/cal?sslmode=prefer&sslaccept=strict",
			form: FormPrismaEngine, dsn: "postgresql://u:p@db/cal?sslmode=verify-full", tls: TLSVerifyFull, dropped: []string{"sslaccept"}},
		{name: "Prisma identity dropped with its password",
			raw:  "postgresql://u:p@db/cal?sslmode=require&sslidentity=/id.p12&sslpassword=idpw&sslaccept=strict&sslcert=/ca.pem",
			form: FormPrismaEngine, dsn: "postgresql://u:p@db/cal?sslmode=verify-full&sslrootcert=/ca.pem", tls: TLSVerifyFull, ca: "/ca.pem",
			dropped: []string{"sslaccept", "sslcert", "sslidentity", "sslpassword"}},
		{name: "unix socket host", raw: "postgresql:///calendso?host=/var/run/postgresql",
			form: FormDriver, dsn: "postgresql:///calendso?host=/var/run/postgresql", tls: TLSPrefer},
		{name: "unescaped @ in the password, as Prisma reads it", raw: "postgresql://u:p@ss@db:5432/cal",
			form: FormDriver, dsn: "postgresql://u:p%40ss@db:5432/cal", tls: TLSPrefer},
		{name: "keyword/value", raw: "host=db user=u password='a b' dbname=calendso sslmode=verify-full sslrootcert=/ca.pem",
			form: FormKeywordValue, dsn: "host=db user=u password='a b' dbname=calendso sslmode=verify-full sslrootcert=/ca.pem", tls: TLSVerifyFull, ca: "/ca.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if u.Form != tt.form || u.dsn != tt.dsn || u.TLS != tt.tls || u.CAFile != tt.ca || u.Schema != tt.schema || u.PgBouncer != tt.bouncer || !slices.Equal(u.Dropped, tt.dropped) {
				t.Fatalf("got form=%s dsn=%q tls=%s ca=%q schema=%q bouncer=%v dropped=%v\nwant form=%s dsn=%q tls=%s ca=%q schema=%q bouncer=%v dropped=%v",
					u.Form, u.dsn, u.TLS, u.CAFile, u.Schema, u.PgBouncer, u.Dropped, tt.form, tt.dsn, tt.tls, tt.ca, tt.schema, tt.bouncer, tt.dropped)
			}
			if strings.Contains(u.Redacted(), ":p@") {
				t.Fatalf("Redacted() shows the password: %s", u.Redacted())
			}
		})
	}
}

func TestConfigOptions(t *testing.T) {
	u, err := Parse("postgresql://u:p@db:5432/cal?schema=My%22Schema&pgbouncer=true&connect_timeout=60&application_name=calcom&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := u.Config(Options{AppName: "calctl-test", ConnectTimeout: 5e9, StatementTimeout: 5e9, LockTimeout: 1e9, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rp := cfg.RuntimeParams
	if rp["search_path"] != `"My""Schema"` || rp["application_name"] != "calctl-test" || rp["statement_timeout"] != "5000" ||
		rp["lock_timeout"] != "1000" || rp["default_transaction_read_only"] != "on" || cfg.ConnectTimeout != 5e9 ||
		cfg.DefaultQueryExecMode != pgx.QueryExecModeSimpleProtocol {
		t.Fatalf("config: %+v timeout %v mode %v", rp, cfg.ConnectTimeout, cfg.DefaultQueryExecMode)
	}
	for _, k := range []string{"schema", "pgbouncer", "connection_limit"} {
		if _, ok := rp[k]; ok {
			t.Errorf("Prisma parameter %s would be sent to the server", k)
		}
	}
	u, _ = Parse("postgresql://u@db/cal?sslmode=disable")
	if cfg, _ := u.Config(Options{}); cfg.ConnectTimeout != DefaultConnectTimeout {
		t.Fatalf("default connect timeout %v", cfg.ConnectTimeout)
	}
}

func TestParseErrorsHideThePassword(t *testing.T) {
	for _, raw := range []string{
		"postgresql://u:s3cr%2Ft@db:notaport/x",
		"postgresql://u:s3cr/t@db:5432/x", // unescaped '/' in the password
		"postgresql://u:s3cret@db:5432/x?sslmode=verify-fulll",
		"host=db password=s3cret sslmode=bogus",
		"postgresql://u:s3cret@db:5432/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
	} {
		u, err := Parse(raw)
		if err == nil {
			_, err = u.Config(Options{})
		}
		if err == nil {
			t.Errorf("%s: no error", raw)
			continue
		}
		for _, pw := range []string{"s3cr/t", "s3cret", "s3cr%2Ft", "s3cr"} {
			if strings.Contains(err.Error(), pw) {
				t.Errorf("%s: error shows the password: %v", raw, err)
			}
		}
	}
}

func TestScrubKeepsTheChain(t *testing.T) {
	raw := "postgresql://u:hunter22@db/cal"
	base := errors.Join(context.Canceled, errors.New("dial db with hunter22"))
	err := Scrub(base, raw)
	if strings.Contains(err.Error(), "hunter22") || !errors.Is(err, context.Canceled) {
		t.Fatalf("Scrub = %v (is canceled: %v)", err, errors.Is(err, context.Canceled))
	}
	if Scrub(nil, raw) != nil {
		t.Fatal("Scrub(nil) != nil")
	}
	clean := errors.New("no secret here")
	if Scrub(clean, raw) != clean {
		t.Fatal("Scrub wrapped an error that holds no secret")
	}
}
