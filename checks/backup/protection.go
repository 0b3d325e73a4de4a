package backup

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// Protection is BK-004: backups are encrypted, private and off the data device.
var Protection = checks.New(checks.Meta{
	ID: "BK-004", Title: "Backups encrypted and access-restricted", Severity: checks.High,
	Remediation: "Pipe dumps through `age` or `gpg` (or use restic); `umask 077`; keep a copy off-host.",
}, func(f *checks.Facts) []checks.Finding {
	if rds(f) {
		return []checks.Finding{{Status: checks.Manual, Resource: "rds", Message: "attest RDS snapshot encryption (rds_instance_storage_encrypted)"}}
	}
	b := f.Backup
	if b == nil || b.Newest == nil {
		return []checks.Finding{{Status: checks.Manual, Resource: "backups", Message: "no backup file to inspect (--backup-dir): attest encryption and access"}}
	}
	n := b.Newest
	ev := checks.Ev("format", n.Format, "mode", fmt.Sprintf("%04o", n.Mode&0o777), "encrypted", fmt.Sprint(n.Encrypted))
	var is checks.Issues
	dataEncrypted := f.Host != nil && f.Host.DataEncrypted != nil && *f.Host.DataEncrypted
	if !n.Encrypted && !dataEncrypted {
		is.Add(checks.Fail, "backup is plaintext (%s) on a volume not known to be encrypted", n.Format)
	}
	if n.Mode&0o077 != 0 {
		is.Add(checks.Fail, "backup file mode %04o is group/world-readable", n.Mode&0o777)
	}
	if b.DirMode != 0 && b.DirMode&0o077 != 0 {
		is.Add(checks.Warn, "backup directory mode %04o (want 0700)", b.DirMode&0o777)
	}
	if n.SameDevice != nil && *n.SameDevice {
		is.Add(checks.Warn, "backup is on the same device as the database")
	}
	return []checks.Finding{is.Finding(n.Path, "backup is encrypted, private and on another device", ev)}
})
