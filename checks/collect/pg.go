package collect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/localhost"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/secret"
)

// ConnectPG opens a read-only, time-limited session: every transaction is
// read-only and each statement is capped at 5 s.
func ConnectPG(ctx context.Context, url secret.Secret) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url.Reveal())
	if err != nil {
		// pgx errors can echo the URL; say only what is wrong.
		return nil, errors.New("the database URL cannot be parsed (expected postgres://user:pass@host:port/db)")
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > 5*time.Second {
		cfg.ConnectTimeout = 5 * time.Second
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	cfg.RuntimeParams["statement_timeout"] = "5000"
	cfg.RuntimeParams["lock_timeout"] = "1000"
	cfg.RuntimeParams["application_name"] = "calctl-check"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s:%d as %s: %w", cfg.Host, cfg.Port, cfg.User, redact.Error(err, append(redact.URLPasswords(url.Reveal()), cfg.Password)...))
	}
	return conn, nil
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// collectPG reads settings, roles, pg_hba and counts. Views the role may not
// read are recorded in Unreadable with the privilege they need.
// pgTarget says how to reach the database: the URL to dial (for a bundled
// Postgres, the container's address on its compose network), the host name
// the install uses for it, and how it was reached.
type pgTarget struct {
	url, admin secret.Secret
	host       string // as named in DATABASE_URL ("" = the URL's)
	via        string // "docker network 172.18.0.2", or ""
}

func collectPG(ctx context.Context, f *checks.Facts, t pgTarget) error {
	url, admin := t.url, t.admin
	conn, err := ConnectPG(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	p := &checks.PGFacts{Settings: map[string]string{}, Unreadable: map[string]string{}, RoleIdleTimeouts: map[string]string{}}
	f.PG = p
	cfg := conn.Config()
	p.Host = cfg.Host
	p.Local = localhost.IsLocal(cfg.Host)
	if t.host != "" {
		p.Host, p.Via, p.Local = t.host, t.via, true // a container on this host's Docker network
	}

	if err := readSettings(ctx, conn, p); err != nil {
		return err
	}
	// What a client can really negotiate, beside what the settings say.
	probeDone := make(chan struct{})
	if !strings.HasPrefix(cfg.Host, "/") {
		addr := net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
		go func() {
			defer close(probeDone)
			probePGTLS(ctx, addr, p)
			p.PlaintextAccepted, p.PlaintextProbe = probePlaintext(ctx, url, addr)
		}()
	} else {
		close(probeDone)
	}
	defer func() { <-probeDone }()
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('server_version_num')::int`).Scan(&p.ServerVersion, &p.ServerVersionNum); err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	var tlsv *string
	if err := conn.QueryRow(ctx, `SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&p.SessionSSL, &tlsv); err == nil && tlsv != nil {
		p.SessionTLS = *tlsv
	}
	a := &p.AppRole
	if err := conn.QueryRow(ctx, `SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = current_user`).
		Scan(&a.Name, &a.Super, &a.CreateRole, &a.CreateDB, &a.Replication, &a.BypassRLS); err != nil {
		return fmt.Errorf("read the app role: %w", err)
	}
	if p.RDS {
		_ = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='rds_superuser') AND pg_has_role(current_user, 'rds_superuser', 'MEMBER')`).Scan(&a.RDSSuperuser)
	}
	p.LoginSuperusers = strs(ctx, conn, `SELECT rolname FROM pg_roles WHERE rolsuper AND rolcanlogin ORDER BY 1`)
	_ = conn.QueryRow(ctx, `SELECT has_schema_privilege('public', 'public', 'CREATE')`).Scan(&p.PublicCreate)
	p.PublicConnectDBs = strs(ctx, conn, `SELECT current_database() WHERE has_database_privilege('public', current_database(), 'CONNECT')`)
	p.Extensions = strs(ctx, conn, `SELECT extname FROM pg_extension ORDER BY 1`)
	p.UntrustedLangs = strs(ctx, conn, `SELECT lanname FROM pg_language WHERE NOT lanpltrusted AND lanname NOT IN ('c','internal') ORDER BY 1`)
	rows, err := conn.Query(ctx, `SELECT r.rolname, c FROM pg_roles r, unnest(r.rolconfig) c WHERE r.rolcanlogin AND c LIKE 'idle_session_timeout=%'`)
	if err == nil {
		for rows.Next() {
			var r, c string
			if rows.Scan(&r, &c) == nil {
				p.RoleIdleTimeouts[r] = strings.TrimPrefix(c, "idle_session_timeout=")
			}
		}
		rows.Close()
	}
	p.Archiver = &checks.Archiver{}
	if err := conn.QueryRow(ctx, `SELECT archived_count, failed_count, last_archived_time, last_failed_time FROM pg_stat_archiver`).
		Scan(&p.Archiver.ArchivedCount, &p.Archiver.FailedCount, &p.Archiver.LastArchived, &p.Archiver.LastFailed); err != nil {
		p.Archiver = nil
	}
	collectUsers(ctx, conn, p)
	collectMigrations(ctx, conn, p)

	// Superuser-only views: on the admin session when given.
	priv := conn
	if admin != "" {
		ac, err := ConnectPG(ctx, admin)
		if err != nil {
			return fmt.Errorf("admin session: %w", err)
		}
		defer ac.Close(context.Background())
		priv = ac
		p.AdminSession = true
	}
	if priv != conn {
		readSettings(ctx, priv, p) // the superuser sees the restricted ones
	}
	for _, n := range restrictedSettings {
		if _, ok := p.Settings[n]; !ok {
			p.Unreadable[n] = "pg_read_all_settings"
		}
	}
	p.DataDirectory = p.Settings["data_directory"]
	collectHBA(ctx, priv, p)
	rows, err = priv.Query(ctx, `SELECT rolname FROM pg_authid WHERE rolcanlogin AND rolpassword LIKE 'md5%' ORDER BY 1`)
	if err == nil {
		for rows.Next() {
			var r string
			if rows.Scan(&r) == nil {
				p.MD5Roles = append(p.MD5Roles, r)
			}
		}
		err = rows.Err()
		rows.Close()
	}
	if err != nil {
		p.Unreadable["pg_authid"] = privilegeFor(err, "superuser")
	}
	var seeAll bool
	_ = priv.QueryRow(ctx, `SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') FROM pg_roles WHERE rolname = current_user`).Scan(&seeAll)
	if !seeAll {
		p.Unreadable["pg_stat_activity"] = "pg_read_all_stats"
	}
	p.PlaintextSessions = strs(ctx, priv, `SELECT host(a.client_addr) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
		WHERE a.backend_type = 'client backend' AND a.client_addr IS NOT NULL AND NOT s.ssl ORDER BY 1`)
	return nil
}

func privilegeFor(err error, def string) string {
	if pgCode(err) == "42501" {
		return def
	}
	return def + " (" + err.Error() + ")"
}

func collectHBA(ctx context.Context, conn *pgx.Conn, p *checks.PGFacts) {
	rows, err := conn.Query(ctx, `SELECT line_number, type, coalesce(array_to_string(database, ','), ''), coalesce(array_to_string(user_name, ','), ''),
		coalesce(address, ''), coalesce(netmask, ''), coalesce(auth_method, ''), coalesce(error, '') FROM pg_hba_file_rules ORDER BY line_number`)
	if err == nil {
		for rows.Next() {
			var h checks.HBARule
			if err = rows.Scan(&h.Line, &h.Type, &h.Database, &h.User, &h.Address, &h.Netmask, &h.AuthMethod, &h.Error); err != nil {
				break
			}
			p.HBA = append(p.HBA, h)
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
	}
	if err != nil {
		p.HBA = nil
		p.Unreadable["pg_hba_file_rules"] = privilegeFor(err, "superuser")
	}
}

func collectUsers(ctx context.Context, conn *pgx.Conn, p *checks.PGFacts) {
	u := &checks.UserCounts{}
	err := conn.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE role::text = 'ADMIN' AND NOT "twoFactorEnabled"),
		count(*) FILTER (WHERE "identityProvider"::text = 'CAL' AND NOT "twoFactorEnabled" AND NOT locked),
		count(*) FILTER (WHERE NOT locked AND ("lastActiveAt" IS NULL OR "lastActiveAt" < now() - interval '90 days'))
		FROM users`).Scan(&u.AdminsWithout2FA, &u.PasswordWithout2FA, &u.Dormant)
	if err == nil {
		// Session timeouts live in users.metadata (JSON; minutes), read as
		// counts. Older schemas have no metadata column: leave them at 0.
		u.SessionsRead = nil == conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT locked),
			count(*) FILTER (WHERE NOT locked AND coalesce(metadata::jsonb->>'sessionTimeout', '') !~ '^[0-9]+$'),
			count(*) FILTER (WHERE NOT locked AND coalesce(metadata::jsonb->>'sessionTimeout', '') ~ '^[0-9]+$' AND (metadata::jsonb->>'sessionTimeout')::bigint > 60)
			FROM users`).Scan(&u.Active, &u.NoSessionTimeout, &u.LongSessionTimeout)
	}
	switch {
	case err == nil:
		p.Users = u
	case pgCode(err) == "42501":
		p.Unreadable["users"] = "SELECT on table users"
	}
}

func collectMigrations(ctx context.Context, conn *pgx.Conn, p *checks.PGFacts) {
	rows, err := conn.Query(ctx, `SELECT migration_name, started_at FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL ORDER BY started_at`)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var m checks.Migration
		if rows.Scan(&m.Name, &m.StartedAt) == nil {
			p.FailedMigrations = append(p.FailedMigrations, m)
		}
	}
}

func strs(ctx context.Context, conn *pgx.Conn, q string) []string {
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s *string
		if rows.Scan(&s) == nil && s != nil {
			out = append(out, *s)
		}
	}
	return out
}

// restrictedSettings are hidden from roles without pg_read_all_settings.
var restrictedSettings = []string{"ssl_min_protocol_version", "ssl_ciphers", "data_directory", "hba_file", "shared_preload_libraries"}

func readSettings(ctx context.Context, conn *pgx.Conn, p *checks.PGFacts) error {
	rows, err := conn.Query(ctx, `SELECT name, setting FROM pg_settings`)
	if err != nil {
		return fmt.Errorf("read pg_settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, s string
		if err := rows.Scan(&n, &s); err != nil {
			return err
		}
		if _, ok := p.Settings[n]; !ok {
			p.Settings[n] = s
		}
		if strings.HasPrefix(n, "rds.") {
			p.RDS = true
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read pg_settings: %w", err)
	}
	rows.Close()
	// The RDS parameters calctl judges, read by name as well: RDS defines
	// them as real settings (they are in pg_settings there), and
	// current_setting(name, true) also sees them when set as custom
	// placeholders, e.g. on a cluster standing in for RDS in tests.
	for _, n := range rdsParams {
		if _, ok := p.Settings[n]; ok {
			continue
		}
		var v *string
		if err := conn.QueryRow(ctx, `SELECT current_setting($1, true)`, n).Scan(&v); err == nil && v != nil && *v != "" {
			p.Settings[n] = *v
			p.RDS = true
		}
	}
	return nil
}

// rdsParams are the Amazon RDS for PostgreSQL parameters calctl reads
// (AWS docs, "Working with parameters on your RDS for PostgreSQL DB
// instance": rds.force_ssl, rds.extensions, rds.allowed_extensions).
var rdsParams = []string{"rds.force_ssl", "rds.extensions", "rds.allowed_extensions", "rds.rds_superuser_reserved_connections"}
