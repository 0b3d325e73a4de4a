package pg

import (
	"github.com/calctl/calctl/checks"
)

// DataDirMode is PG-019: the data directory is the server user's alone
// (data_directory_mode 0700; 0750 when initdb --allow-group-access; pgdsat
// 1.4.x, PGDATA permissions). The server itself refuses to start on wider
// modes, so a FAIL here means the server reported something unexpected.
var DataDirMode = checks.New(checks.Meta{
	ID: "PG-019", Title: "Data directory permissions", Severity: checks.Medium, Needs: needPG,
	Remediation: "chmod 700 the data directory (initdb without --allow-group-access), or keep group access only for a backup group you control.",
}, func(f *checks.Facts) []checks.Finding {
	return []checks.Finding{modeFinding(f, "data_directory_mode",
		"others can read the data directory",
		"group access to the data files (initdb --allow-group-access)")}
})
