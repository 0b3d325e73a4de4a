package preflight

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/calctl/calctl/internal/database"
)

// postgresCheck: an external or RDS server answers over TLS (as the URL
// demands) and its version is in Constraints["postgres"].
var postgresCheck = Check{
	Name:    "postgres",
	Applies: func(in *Input) bool { return in.DBMode == "external" || in.DBMode == "rds" },
	Run: func(ctx context.Context, in *Input) []Finding {
		// internal/database: the Cal.com URL forms, TLS as the URL asks,
		// errors without the password.
		u, err := database.Parse(in.DatabaseURL.Reveal())
		if err != nil {
			return []Finding{{Severity: Error, Message: "DATABASE_URL cannot be parsed: " + err.Error(),
				Remedy: "check the URL and the CA file (database.ca_file) it names"}}
		}
		conn, err := u.Connect(ctx, database.Options{AppName: "calctl-preflight", ConnectTimeout: 15 * time.Second})
		if err != nil {
			// one line, as every command says it: what failed, what to do
			f := Finding{Severity: Error, Message: err.Error(), Remedy: "check the host, port, user, password and firewall (security group for RDS)"}
			var ex *database.Explained
			if errors.As(err, &ex) && ex.Fix != "" {
				f.Message, f.Remedy = ex.What, ex.Fix
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
