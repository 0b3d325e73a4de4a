package pg

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/calctl/calctl/checks"
)

// mode parses a PostgreSQL file-mode setting ("0600" in pg_settings).
func mode(s string) (uint32, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	base := 10
	if strings.HasPrefix(s, "0") {
		base = 8
	}
	n, err := strconv.ParseUint(s, base, 32)
	return uint32(n), err == nil
}

// LogFileMode is PG-017: log files are readable by the server's user only
// (pgdsat 3.1.5 log_file_mode 0600). Server logs hold user names, client
// addresses and, with statement logging, query text.
var LogFileMode = checks.New(checks.Meta{
	ID: "PG-017", Title: "Server log file permissions", Severity: checks.Medium, Needs: needPG,
	Remediation: "log_file_mode=0600.",
}, func(f *checks.Facts) []checks.Finding {
	lc, _ := setting(f, "logging_collector")
	if !on(lc) {
		return []checks.Finding{{Status: checks.Skip, Resource: resource(f), Message: "logging_collector is off: no log files (see PG-015)"}}
	}
	s, _ := setting(f, "log_file_mode")
	m, ok := mode(s)
	ev := checks.Ev("log_file_mode", s)
	r := checks.Finding{Resource: resource(f), Evidence: ev}
	switch {
	case !ok:
		r.Status, r.Message = checks.Skip, "log_file_mode was not read"
	case m&0o007 != 0:
		r.Status, r.Message = checks.Fail, fmt.Sprintf("log_file_mode=%04o: every local user can read the server log", m)
	case m&0o070 != 0:
		r.Status, r.Message = checks.Warn, fmt.Sprintf("log_file_mode=%04o: the server's group can read the log", m)
	default:
		r.Status, r.Message = checks.Pass, fmt.Sprintf("log_file_mode=%04o", m)
	}
	return []checks.Finding{r}
})

// SocketMode is PG-018: the unix socket is not open to every local user
// (unix_socket_permissions, default 0777; PostgreSQL docs, "Connections and
// Authentication"). pg_hba still applies, but `local … trust/peer` lines
// then admit any local account.
var SocketMode = checks.New(checks.Meta{
	ID: "PG-018", Title: "Unix socket permissions", Severity: checks.Low, Needs: needPG,
	Remediation: "unix_socket_permissions=0770 with unix_socket_group set to the group of the accounts that may connect (or 0700).",
}, func(f *checks.Facts) []checks.Finding {
	s, _ := setting(f, "unix_socket_permissions")
	dirs, _ := setting(f, "unix_socket_directories")
	m, ok := mode(s)
	ev := checks.Ev("unix_socket_permissions", s, "unix_socket_directories", dirs)
	r := checks.Finding{Resource: resource(f), Evidence: ev}
	switch {
	case !ok:
		r.Status, r.Message = checks.Skip, "unix_socket_permissions was not read"
	case strings.TrimSpace(dirs) == "":
		r.Status, r.Message = checks.Pass, "no unix socket (unix_socket_directories is empty)"
	case m&0o007 != 0:
		r.Status, r.Message = checks.Warn, fmt.Sprintf("unix_socket_permissions=%04o: every local user can connect to the socket", m)
	default:
		r.Status, r.Message = checks.Pass, fmt.Sprintf("unix_socket_permissions=%04o", m)
	}
	return []checks.Finding{r}
})

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
