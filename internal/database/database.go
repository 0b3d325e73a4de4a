// Package database is calctl's one way to reach Cal.com's PostgreSQL: it
// parses Cal.com-style URLs (the Prisma engine form of DATABASE_DIRECT_URL
// and the driver form of DATABASE_URL, with Prisma-only parameters such as
// schema, connection_limit or pgbouncer), applies TLS as the URL asks
// (verified where the URL asks for verification, in either form), sets
// timeouts, and returns errors with the password taken out but the error
// chain kept (errors.Is(err, context.Canceled) still works). A failed
// connection is explained in one line (Explain: wrong password, unknown
// host, refused, TLS, timeout, missing database, ...) with what to do, so
// every command says the same about the same failure.
//
// Every calctl command that talks to the database (report, agent, check,
// doctor, install preflight, the migrate guard, the wizard's probe) goes
// through Connect.
package database

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/calctl/calctl/internal/redact"
	"github.com/jackc/pgx/v5"
)

// DefaultConnectTimeout bounds dialing plus the TLS and auth handshake when
// neither the URL (connect_timeout) nor Options set one.
const DefaultConnectTimeout = 10 * time.Second

// Options are calctl's settings for one connection, on top of the URL's.
type Options struct {
	// AppName is sent as application_name (e.g. "calctl-report"), so that
	// calctl's sessions are recognisable in pg_stat_activity.
	AppName string
	// ConnectTimeout caps the URL's connect_timeout (0: the URL's, else
	// DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// StatementTimeout and LockTimeout, when > 0, are set for the session.
	StatementTimeout, LockTimeout time.Duration
	// ReadOnly makes every transaction of the session read-only.
	ReadOnly bool
}

// Config returns the pgx configuration for u with opts applied. It reads
// the CA and client certificate files the URL names.
func (u *URL) Config(opts Options) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(u.dsn)
	if err != nil {
		return nil, u.Scrub(fmt.Errorf("database URL: %w", err))
	}
	if u.Schema != "" {
		// Prisma sends the schema quoted as the search_path
		// (quaint PostgresSearchPath); do the same so "MySchema" keeps its case.
		cfg.RuntimeParams["search_path"] = `"` + strings.ReplaceAll(u.Schema, `"`, `""`) + `"`
	}
	if u.PgBouncer {
		// Transaction pooling: no named prepared statements.
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	}
	if opts.AppName != "" {
		cfg.RuntimeParams["application_name"] = opts.AppName
	}
	switch {
	case opts.ConnectTimeout > 0 && (cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > opts.ConnectTimeout):
		cfg.ConnectTimeout = opts.ConnectTimeout
	case cfg.ConnectTimeout == 0:
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.StatementTimeout > 0 {
		cfg.RuntimeParams["statement_timeout"] = fmt.Sprint(opts.StatementTimeout.Milliseconds())
	}
	if opts.LockTimeout > 0 {
		cfg.RuntimeParams["lock_timeout"] = fmt.Sprint(opts.LockTimeout.Milliseconds())
	}
	if opts.ReadOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	return cfg, nil
}

// Connect opens one connection to the database at u.
func (u *URL) Connect(ctx context.Context, opts Options) (*pgx.Conn, error) {
	cfg, err := u.Config(opts)
	if err != nil {
		return nil, err
	}
	return u.ConnectConfig(ctx, cfg)
}

// ConnectConfig opens one connection with cfg: u.Config's result, maybe
// changed since (another host, database or user, as backup and restore
// do). A failure is one line (Explain: what failed, what to do, about the
// host, port and database of cfg) free of u's password and of cfg's; it
// unwraps to the driver's error.
func (u *URL) ConnectConfig(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		err = u.Scrub(err)
		if cfg.Password != "" {
			err = redact.Error(err, cfg.Password)
		}
		port := ""
		if cfg.Port != 0 {
			port = fmt.Sprint(cfg.Port)
		}
		return nil, Explain(err, cfg.Host, port, cfg.Database)
	}
	return conn, nil
}

// Connect parses raw and opens one connection.
func Connect(ctx context.Context, raw string, opts Options) (*pgx.Conn, error) {
	u, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	return u.Connect(ctx, opts)
}
