package backup

import (
	"fmt"
	"time"

	"github.com/calctl/calctl/checks"
)

// Freshness is BK-003: the newest backup is recent; WAL archiving is healthy.
var Freshness = checks.New(checks.Meta{
	ID: "BK-003", Title: "Backups fresh; WAL archiving healthy", Severity: checks.High,
	Remediation: "Fix the backup job; alert when pg_stat_archiver.failed_count grows; point calctl at the backup directory with --backup-dir.",
}, func(f *checks.Facts) []checks.Finding {
	if rds(f) {
		return []checks.Finding{{Status: checks.Manual, Resource: "rds", Message: "check the latest RDS snapshot time in AWS"}}
	}
	now := f.Now()
	var out []checks.Finding
	if b := f.Backup; b != nil && b.Newest != nil {
		age := now.Sub(b.Newest.ModTime)
		r := checks.Finding{Resource: b.Newest.Path, Evidence: checks.Ev("age_hours", fmt.Sprintf("%.1f", age.Hours()))}
		switch {
		case age <= 26*time.Hour:
			r.Status, r.Message = checks.Pass, "newest backup is under 26h old"
		case age <= 7*24*time.Hour:
			r.Status, r.Message = checks.Warn, fmt.Sprintf("newest backup is %.0fh old", age.Hours())
		default:
			r.Status, r.Message = checks.Fail, fmt.Sprintf("newest backup is %d days old", int(age.Hours()/24))
		}
		out = append(out, r)
	} else if b != nil && b.Dir != "" {
		out = append(out, checks.Finding{Status: checks.Fail, Resource: b.Dir, Message: "no backup file in " + b.Dir})
	}
	if b := f.Backup; b != nil && b.LastBackupFailedAt != nil {
		out = append(out, checks.Finding{Status: checks.Fail, Resource: b.History, Evidence: checks.Ev("failed_at", b.LastBackupFailedAt.Format(time.RFC3339)),
			Message: "calctl's last backup failed: " + b.LastBackupError})
	}
	if f.PG != nil && f.PG.Archiver != nil && (f.PG.Settings["archive_mode"] == "on" || f.PG.Settings["archive_mode"] == "always") {
		a := f.PG.Archiver
		r := checks.Finding{Resource: "pg_stat_archiver", Evidence: checks.Ev("archived", fmt.Sprint(a.ArchivedCount), "failed", fmt.Sprint(a.FailedCount))}
		switch {
		case a.LastFailed != nil && (a.LastArchived == nil || a.LastFailed.After(*a.LastArchived)):
			r.Status, r.Message = checks.Fail, "WAL archiving is failing"
		case a.LastArchived == nil || now.Sub(*a.LastArchived) > time.Hour:
			r.Status, r.Message = checks.Warn, "no WAL segment archived in the last hour"
		default:
			r.Status, r.Message = checks.Pass, "WAL archiving is current"
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return []checks.Finding{{Status: checks.Manual, Resource: "backups", Message: "no backup directory given (--backup-dir) and no WAL archiving: attest backup freshness"}}
	}
	return out
})
