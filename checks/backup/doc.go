// Package backup holds the BK-* checks: persistent storage for PGDATA, a
// backup mechanism, fresh and protected backups, and restore tests. Each
// check is pure over checks.Facts; what only a person can attest is MANUAL.
package backup

import "github.com/calctl/calctl/checks"

func rds(f *checks.Facts) bool {
	return f.Target.Profile == "rds" || (f.PG != nil && f.PG.RDS)
}
