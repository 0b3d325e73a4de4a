package backup

import (
	"fmt"
	"strings"

	"github.com/calctl/calctl/checks"
)

var backupImages = []string{"postgres-backup-local", "db-backup", "docker-volume-backup", "pgbackrest", "wal-g", "restic", "borg", "barman"}

// Mechanism is BK-002: some backup mechanism exists.
var Mechanism = checks.New(checks.Meta{
	ID: "BK-002", Title: "A backup mechanism exists", Severity: checks.High,
	Remediation: "Nightly `pg_dump -Fc` (or pgBackRest / WAL-G) to off-host storage, from cron, a systemd timer or a backup container.",
}, func(f *checks.Facts) []checks.Finding {
	if rds(f) {
		return []checks.Finding{{Status: checks.Manual, Resource: "rds", Message: "RDS backups are configured in AWS: attest BackupRetentionPeriod ≥ 7 (prowler rds_instance_backup_enabled)"}}
	}
	var found []string
	if f.Host != nil {
		found = append(found, f.Host.BackupJobs...)
	}
	if f.Docker != nil {
		for _, c := range f.Docker.Containers {
			for _, b := range backupImages {
				if strings.Contains(c.Image, b) {
					found = append(found, "container "+c.Name+" ("+c.Image+")")
				}
			}
		}
	}
	if f.PG != nil {
		if am := f.PG.Settings["archive_mode"]; am == "on" || am == "always" {
			found = append(found, "archive_mode="+am)
		}
	}
	if f.Backup != nil && f.Backup.Files > 0 {
		found = append(found, fmt.Sprintf("%d backup files in %s", f.Backup.Files, f.Backup.Dir))
	}
	if len(found) == 0 {
		sources := []string{}
		for _, s := range []checks.Source{checks.SourceHost, checks.SourceDocker, checks.SourcePG, checks.SourceBackup} {
			if f.Source(s).Collected {
				sources = append(sources, string(s))
			}
		}
		if len(sources) == 0 {
			return []checks.Finding{{Status: checks.Skip, Message: "no source of backup evidence was collected"}}
		}
		return []checks.Finding{{Status: checks.Fail, Resource: "backups", Message: "no backup job, backup container, WAL archiving or backup file found",
			Evidence: checks.Ev("looked_at", strings.Join(sources, ","))}}
	}
	return []checks.Finding{{Status: checks.Pass, Resource: "backups", Message: "backup evidence: " + strings.Join(found, "; ")}}
})
