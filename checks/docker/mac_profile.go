package docker

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// MACProfile is DK-017: the engine runs containers under AppArmor or
// SELinux and no container opts out (CIS Docker 5.1, 5.2).
var MACProfile = checks.New(checks.Meta{
	ID: "DK-017", Title: "AppArmor or SELinux confinement", Severity: checks.Medium,
	Remediation: "Run the engine on a host with AppArmor (Debian/Ubuntu) or SELinux (RHEL) enabled; never `security_opt: [apparmor=unconfined]` or `label=disable`.",
}, func(f *checks.Facts) []checks.Finding {
	mac := ""
	if f.Docker != nil {
		for _, o := range f.Docker.SecurityOptions {
			switch {
			case strings.Contains(o, "name=apparmor"):
				mac = "apparmor"
			case strings.Contains(o, "name=selinux"):
				mac = "selinux"
			}
		}
	}
	return run(f, false, func(u unit) checks.Finding {
		var is checks.Issues
		for _, o := range u.secOpt {
			lo := strings.ToLower(strings.ReplaceAll(o, ":", "="))
			if lo == "apparmor=unconfined" || lo == "label=disable" {
				is.Add(checks.Fail, "opts out of confinement (%s)", o)
			}
		}
		if u.c != nil {
			switch {
			case u.c.AppArmor == "unconfined":
				is.Add(checks.Fail, "runs with AppArmor profile unconfined")
			case mac == "" && f.Docker != nil:
				is.Add(checks.Warn, "the engine has neither AppArmor nor SELinux: containers run unconfined")
			}
		}
		ok := "does not opt out of AppArmor/SELinux (the engine was not inspected)"
		if mac != "" {
			ok = "confined by " + mac
		}
		if u.c != nil && u.c.AppArmor != "" {
			ok += " (profile " + u.c.AppArmor + ")"
		}
		return is.Finding(u.name, ok, checks.Ev("engine_mac", mac))
	})
})
