package reporter

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// prismaOnlyParams are query parameters a Prisma DATABASE_URL may carry that
// are not libpq parameters; Postgres would refuse them as unknown settings.
var prismaOnlyParams = []string{
	"schema", "connection_limit", "pool_timeout", "pgbouncer", "socket_timeout",
	"statement_cache_size", "sslaccept", "sslidentity", "sslpassword", "sslcert_password",
}

// ConnConfig parses a Cal.com DATABASE_URL for pgx: Prisma's "schema=" becomes
// the search_path, "pgbouncer=true" switches to the simple protocol (no
// server-side prepared statements), and other Prisma-only parameters are
// dropped.
func ConnConfig(dsn string) (*pgx.ConnConfig, error) {
	var schema string
	var bouncer bool
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, fmt.Errorf("database URL is not a valid URL (check quoting and %%-escaping of the password)")
		}
		q := u.Query()
		schema = q.Get("schema")
		bouncer = q.Get("pgbouncer") == "true"
		for _, k := range prismaOnlyParams {
			q.Del(k)
		}
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the URL, password included: keep it out.
		return nil, fmt.Errorf("database URL could not be parsed (expected postgresql://user:pass@host:port/db)")
	}
	if schema != "" {
		cfg.RuntimeParams["search_path"] = schema
	}
	if bouncer {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	}
	cfg.RuntimeParams["application_name"] = "calctl-report"
	return cfg, nil
}

// Connect opens one connection to Cal.com's database.
func Connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := ConnConfig(dsn)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to Cal.com database %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	return conn, nil
}
