package pg

import (
	"fmt"
	"time"

	"github.com/calctl/calctl/checks"
)

// majorInfo is the end-of-life date and the newest minor known when this
// table was written (PostgreSQL versioning policy; minors as of 2025-11-13).
type majorInfo struct {
	eol         string
	latestMinor int
}

var pgMajors = map[int]majorInfo{
	12: {"2024-11-21", 22}, 13: {"2025-11-13", 23}, 14: {"2026-11-12", 20},
	15: {"2027-11-11", 15}, 16: {"2028-11-09", 11}, 17: {"2029-11-08", 7}, 18: {"2030-11-14", 1},
}

// ServerVersion is PG-011: a supported major on a current minor.
var ServerVersion = checks.New(checks.Meta{
	ID: "PG-011", Title: "Supported server version", Severity: checks.High, Needs: needPG,
	Remediation: "Upgrade to a supported major and the latest minor; pin the image tag (DK-009).",
}, func(f *checks.Facts) []checks.Finding {
	n := f.PG.ServerVersionNum
	major, minor := n/10000, n%10000
	ev := checks.Ev("server_version", f.PG.ServerVersion, "server_version_num", fmt.Sprint(n))
	r := checks.Finding{Resource: resource(f), Evidence: ev}
	info, known := pgMajors[major]
	switch {
	case n == 0:
		r.Status, r.Message = checks.Error, "server_version_num was not read"
	case major < 12:
		r.Status, r.Message = checks.Fail, fmt.Sprintf("PostgreSQL %d is end-of-life", major)
	case !known:
		r.Status, r.Message = checks.Pass, fmt.Sprintf("PostgreSQL %d is newer than calctl's version table", major)
	default:
		eol, _ := time.Parse("2006-01-02", info.eol)
		ev["eol"] = info.eol
		switch {
		case !f.Now().Before(eol):
			r.Status, r.Message = checks.Fail, fmt.Sprintf("PostgreSQL %d reached end-of-life on %s", major, info.eol)
		case minor < info.latestMinor:
			r.Status, r.Message = checks.Warn, fmt.Sprintf("PostgreSQL %d.%d: minor %d.%d or newer is out", major, minor, major, info.latestMinor)
		default:
			r.Status, r.Message = checks.Pass, fmt.Sprintf("PostgreSQL %d.%d is supported until %s", major, minor, info.eol)
		}
	}
	return []checks.Finding{r}
})
