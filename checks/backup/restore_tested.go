package backup

import (
	"fmt"
	"time"

	"github.com/calctl/calctl/checks"
)

// RestoreTested is BK-005: a restore was tested in the last 90 days.
var RestoreTested = checks.New(checks.Meta{
	ID: "BK-005", Title: "Restore tested", Severity: checks.Low,
	// `calctl backup verify` records its drills where this check reads them
	// (docs/backup.md); the remedy text is kept as it was, since report
	// goldens in checks/output quote it.
	Remediation: "Restore to a scratch database every quarter and record it in contingency.yaml (last_restore_test: YYYY-MM-DD, by: name).",
}, func(f *checks.Facts) []checks.Finding {
	b := f.Backup
	if b != nil && b.LastDrillFailedAt != nil {
		return []checks.Finding{{Status: checks.Fail, Resource: b.History, Evidence: checks.Ev("failed_at", b.LastDrillFailedAt.Format(time.RFC3339), "error", b.LastDrillError),
			Message: "the last restore drill failed: " + b.LastDrillError}}
	}
	if b == nil || b.RestoreTestedAt == nil {
		return []checks.Finding{{Status: checks.Manual, Resource: "contingency", Message: "no restore test recorded: attest the last restore drill"}}
	}
	days := int(f.Now().Sub(*b.RestoreTestedAt) / (24 * time.Hour))
	ev := checks.Ev("last_restore_test", b.RestoreTestedAt.Format("2006-01-02"), "by", b.RestoreTestedBy)
	if days > 90 {
		return []checks.Finding{{Status: checks.Warn, Resource: b.ContingencyFile, Evidence: ev, Message: fmt.Sprintf("last restore test was %d days ago", days)}}
	}
	return []checks.Finding{{Status: checks.Pass, Resource: b.ContingencyFile, Evidence: ev, Message: fmt.Sprintf("restore tested %d days ago", days)}}
})
