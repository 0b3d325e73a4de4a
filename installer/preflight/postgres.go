package preflight

import (
	"context"
	"fmt"
	"strings"

	"github.com/calctl/calctl/internal/redact"
	"github.com/jackc/pgx/v5"
)

// postgresCheck: an external or RDS server answers over TLS (as the URL
// demands) and its version is in Constraints["postgres"].
var postgresCheck = Check{
	Name:    "postgres",
	Applies: func(in *Input) bool { return in.DBMode == "external" || in.DBMode == "rds" },
	Run: func(ctx context.Context, in *Input) []Finding {
		cfg, err := pgx.ParseConfig(in.DatabaseURL.Reveal())
		if err != nil {
			// pgx errors can quote the connection string: never show it.
			return []Finding{{Severity: Error, Message: "DATABASE_URL cannot be parsed: " + scrub(err, in.DatabaseURL.Reveal()),
				Remedy: "check the URL and the CA file (database.ca_file) it names"}}
		}
		host := cfg.Host
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			msg := scrub(err, in.DatabaseURL.Reveal())
			f := Finding{Severity: Error, Message: fmt.Sprintf("cannot connect to Postgres at %s:%d: %s", host, cfg.Port, msg),
				Remedy: "check the host, port, user, password and firewall (security group for RDS)"}
			if strings.Contains(msg, "refused TLS") || strings.Contains(msg, "server does not support TLS") || strings.Contains(msg, "SSL") && strings.Contains(msg, "not") {
				f.Message = fmt.Sprintf("Postgres at %s:%d refused TLS: %s", host, cfg.Port, msg)
				f.Remedy = "turn on ssl on the server (RDS: it is on by default; check rds.force_ssl and the parameter group), or for a server on this host only, use sslmode=disable"
			}
			if strings.Contains(msg, "x509") || strings.Contains(msg, "certificate") {
				f.Remedy = "database.ca_file must be the CA that signed the server certificate (for RDS: https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem), and the host name must match it"
			}
			return []Finding{f}
		}
		defer conn.Close(context.Background())
		var v string
		if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
			return []Finding{{Severity: Error, Message: "SHOW server_version: " + err.Error()}}
		}
		var fs []Finding
		ok, err := Satisfies("postgres", v)
		if err != nil || !ok {
			fs = append(fs, Finding{Severity: Error, Message: fmt.Sprintf("Postgres %s is outside %s (%s)", v, Constraints["postgres"].Range, Constraints["postgres"].Why),
				Remedy: "use Postgres 13 to 17 (16 recommended)"})
		}
		return fs
	},
}

// scrub removes the URL's password from a driver error message
// (internal/redact's rules).
func scrub(err error, url string) string {
	secrets := redact.URLPasswords(url)
	if cfg, perr := pgx.ParseConfig(url); perr == nil {
		secrets = append(secrets, cfg.Password)
	}
	return redact.Error(err, secrets...).Error()
}
