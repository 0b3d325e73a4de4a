package net

import (
	"github.com/calctl/calctl/checks"
)

// DiskEncryption is NET-005: data and swap on encrypted devices.
var DiskEncryption = checks.New(checks.Meta{
	ID: "NET-005", Title: "Disk-encryption hint (PGDATA, backups, swap)", Severity: checks.High, Needs: needHost,
	Remediation: "Put LUKS under /var/lib/docker or the data volume; turn on EBS default encryption; encrypt swap.",
}, func(f *checks.Facts) []checks.Finding {
	h := f.Host
	if f.PG != nil && f.PG.RDS {
		return []checks.Finding{{Status: checks.Manual, Resource: "rds", Message: "RDS storage encryption is invisible from SQL: attest rds_instance_storage_encrypted"}}
	}
	var is checks.Issues
	ev := checks.Ev("data_path", h.DataPath, "device", h.DataDevice, "sys_vendor", h.SysVendor)
	for _, s := range h.Swaps {
		if !s.Encrypted {
			is.Add(checks.Warn, "swap %s is not encrypted", s.Name)
		}
	}
	switch {
	case h.DataEncrypted != nil && *h.DataEncrypted:
	case h.CloudVM:
		if is.Empty() {
			return []checks.Finding{{Status: checks.Manual, Resource: "host", Evidence: ev, Message: "cloud VM (" + h.SysVendor + "): volume encryption is invisible from the guest; attest it (e.g. EBS default encryption)"}}
		}
	case h.DataEncrypted != nil:
		is.Add(checks.Warn, "data at %s is on %s, not dm-crypt/LUKS", h.DataPath, h.DataDevice)
	default:
		if is.Empty() {
			return []checks.Finding{{Status: checks.Manual, Resource: "host", Evidence: ev, Message: "could not tell which device holds the data; attest disk encryption"}}
		}
	}
	return []checks.Finding{is.Finding("host", "data is on an encrypted device and swap is encrypted", ev)}
})
