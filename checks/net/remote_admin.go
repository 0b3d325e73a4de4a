package net

import (
	"fmt"
	"strings"

	"github.com/calctl/calctl/checks"
)

// RemoteAdmin is NET-007: key-only ssh, no root login, automatic patching.
var RemoteAdmin = checks.New(checks.Meta{
	ID: "NET-007", Title: "Remote admin and patching", Severity: checks.Medium, Needs: needHost,
	Remediation: "`PasswordAuthentication no`, `PermitRootLogin no`; enable unattended-upgrades (or dnf-automatic); reboot when required.",
}, func(f *checks.Facts) []checks.Finding {
	h := f.Host
	var is checks.Issues
	if h.SSHFound {
		if !strings.EqualFold(h.SSHPasswordAuth, "no") {
			is.Add(checks.Warn, "sshd allows password authentication")
		}
		if pr := strings.ToLower(h.SSHPermitRoot); pr != "no" && pr != "prohibit-password" && pr != "without-password" && pr != "forced-commands-only" {
			is.Add(checks.Warn, "sshd permits root login (%s)", h.SSHPermitRoot)
		}
	}
	if h.AutoUpdates != nil && !*h.AutoUpdates {
		is.Add(checks.Warn, "automatic security updates are off")
	}
	if h.RebootRequired != nil {
		if d := f.Now().Sub(*h.RebootRequired); d.Hours() > 7*24 {
			is.Add(checks.Warn, "a reboot has been pending for %d days", int(d.Hours()/24))
		}
	}
	ev := checks.Ev("sshd", fmt.Sprint(h.SSHFound), "password_authentication", h.SSHPasswordAuth, "permit_root_login", h.SSHPermitRoot)
	return []checks.Finding{is.Finding("host", "key-only ssh without root login; automatic updates on", ev)}
})
