package backup

import (
	"fmt"
	"strings"

	"github.com/calctl/calctl/checks"
)

// pitrImages run WAL-based point-in-time recovery (their own archiving).
var pitrImages = []string{"pgbackrest", "wal-g", "barman", "pgbarman"}

// PITR is BK-006: a point-in-time recovery exists — WAL archiving
// (archive_mode with an archive_command or archive_library) that works, or
// a WAL-based backup tool. A nightly dump alone loses up to a day of
// bookings in a restore (§164.308(a)(7)(ii)(A),(B); pgdsat 7.x).
var PITR = checks.New(checks.Meta{
	ID: "BK-006", Title: "Point-in-time recovery (WAL archiving)", Severity: checks.Medium,
	Remediation: "archive_mode=on with archive_command (or pgBackRest / WAL-G) to off-host storage, plus a base backup; on RDS keep automated backups on (PITR is part of them).",
}, func(f *checks.Facts) []checks.Finding {
	if rds(f) {
		return []checks.Finding{{Status: checks.Manual, Resource: "rds", Message: "RDS point-in-time recovery comes with automated backups: attest BackupRetentionPeriod ≥ 7 in AWS"}}
	}
	var tools []string
	if f.Docker != nil {
		for _, c := range f.Docker.Containers {
			for _, p := range pitrImages {
				if strings.Contains(c.Image, p) {
					tools = append(tools, "container "+c.Name+" ("+c.Image+")")
				}
			}
		}
	}
	if f.Host != nil {
		for _, j := range f.Host.BackupJobs {
			for _, p := range pitrImages {
				if strings.Contains(j, p) {
					tools = append(tools, j)
				}
			}
		}
	}
	st := f.Source(checks.SourcePG)
	if f.PG == nil {
		if len(tools) > 0 {
			return []checks.Finding{{Status: checks.Pass, Resource: "wal", Message: "WAL-based backups: " + strings.Join(tools, "; ")}}
		}
		if st.Error != "" {
			return []checks.Finding{{Status: checks.Error, Resource: "postgres", Message: "postgres collector failed: " + st.Error}}
		}
		return []checks.Finding{{Status: checks.Skip, Resource: "postgres", Message: "postgres was not collected"}}
	}
	am := f.PG.Settings["archive_mode"]
	cmd := f.PG.Settings["archive_command"]
	lib := f.PG.Settings["archive_library"]
	ev := checks.Ev("archive_mode", am, "archive_command_set", fmt.Sprint(cmd != "" && cmd != "(disabled)"), "archive_library", lib)
	res := "postgres:" + f.PG.Host
	archiving := (am == "on" || am == "always") && ((cmd != "" && cmd != "(disabled)") || lib != "")
	switch {
	case archiving && f.PG.Archiver != nil && f.PG.Archiver.ArchivedCount == 0 && f.PG.Archiver.FailedCount > 0:
		ev["failed_count"] = fmt.Sprint(f.PG.Archiver.FailedCount)
		return []checks.Finding{{Status: checks.Fail, Resource: res, Evidence: ev, Message: "WAL archiving is on but has never succeeded"}}
	case archiving:
		return []checks.Finding{{Status: checks.Pass, Resource: res, Evidence: ev, Message: "WAL archiving is on (point-in-time recovery possible with a base backup; freshness in BK-003)"}}
	case len(tools) > 0:
		return []checks.Finding{{Status: checks.Pass, Resource: res, Evidence: ev, Message: "WAL-based backups: " + strings.Join(tools, "; ")}}
	case am == "on" || am == "always":
		return []checks.Finding{{Status: checks.Fail, Resource: res, Evidence: ev, Message: "archive_mode is on but no archive_command or archive_library is set: WAL piles up and nothing is archived"}}
	}
	return []checks.Finding{{Status: checks.Warn, Resource: res, Evidence: ev,
		Message: "no point-in-time recovery: archive_mode=" + am + " and no WAL backup tool; a restore loses everything since the last dump"}}
})
