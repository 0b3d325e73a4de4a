package pg

import (
	"fmt"

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
	s, _ := setting(f, "data_directory_mode")
	m, ok := mode(s)
	ev := checks.Ev("data_directory_mode", s)
	r := checks.Finding{Resource: resource(f), Evidence: ev}
	switch {
	case !ok:
		r.Status, r.Message = checks.Skip, "data_directory_mode was not read"
	case m&0o007 != 0:
		r.Status, r.Message = checks.Fail, fmt.Sprintf("data_directory_mode=%04o: others can read the data directory", m)
	case m&0o070 != 0:
		r.Status, r.Message = checks.Warn, fmt.Sprintf("data_directory_mode=%04o: group access to the data files (initdb --allow-group-access)", m)
	default:
		r.Status, r.Message = checks.Pass, fmt.Sprintf("data_directory_mode=%04o", m)
	}
	return []checks.Finding{r}
})
