package pg

import (
	"fmt"
	"strings"

	"github.com/calctl/calctl/checks"
)

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
