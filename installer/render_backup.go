package installer

import (
	"github.com/calctl/calctl/templates"
)

// backupFiles renders the systemd service and timer of scheduled backups
// (answers backup.schedule), for compose and pm2 installs alike. They run
// calctl on the host rather than as a compose service: for the bundled
// database pg_dump runs inside its container through the Docker API, and a
// container given the Docker socket is root on the host (the DK checks
// flag such a mount), while the calctl image has no pg_dump of its own.
func backupFiles(a *Answers) ([]File, error) {
	data := map[string]any{"InstallDir": a.InstallDir, "Dir": a.Backup.Dir, "Recipient": a.Backup.Recipient,
		"Retain": a.Backup.Retain, "Schedule": a.Backup.Schedule, "CalctlBin": PM2CalctlBin}
	svc, err := templates.Render("backup/calctl-backup.service.tmpl", data)
	if err != nil {
		return nil, err
	}
	timer, err := templates.Render("backup/calctl-backup.timer.tmpl", data)
	if err != nil {
		return nil, err
	}
	return []File{
		{Path: "backup/calctl-backup.service", Data: svc, Mode: 0o644},
		{Path: "backup/calctl-backup.timer", Data: timer, Mode: 0o644},
	}, nil
}
