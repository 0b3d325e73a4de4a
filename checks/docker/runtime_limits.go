package docker

import (
	"fmt"
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

// limitCheck builds the memory, CPU and PIDs limit checks (CIS Docker 5.11,
// 5.12, 5.29): a runaway or compromised container must not starve the
// database next to it (HIPAATable cites §164.308(a)(1)(ii)(B), risk
// management; the citation review in docs/checks.md dropped (a)(7)(ii)(C)
// for availability measures).
func limitCheck(id, title, what, fix string, get func(l checks.Limits) (bool, string)) checks.Check {
	return checks.New(checks.Meta{ID: id, Title: title, Severity: checks.Low, Remediation: fix},
		func(f *checks.Facts) []checks.Finding {
			return run(f, false, func(u unit) checks.Finding {
				set, v := get(u.limits)
				ev := checks.Ev(what, v)
				if !set {
					return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "no " + what + " limit"}
				}
				return checks.Finding{Status: checks.Pass, Evidence: ev, Message: what + " limit " + v}
			})
		})
}

// MemoryLimit is DK-018.
var MemoryLimit = limitCheck("DK-018", "Container memory limit", "memory",
	"Set `mem_limit` (or deploy.resources.limits.memory) per service, sized from `docker stats`.",
	func(l checks.Limits) (bool, string) {
		if l.MemoryBytes <= 0 {
			return false, ""
		}
		return true, fmt.Sprintf("%d MiB", l.MemoryBytes>>20)
	})

// CPULimit is DK-019.
var CPULimit = limitCheck("DK-019", "Container CPU limit", "cpu",
	"Set `cpus` (or deploy.resources.limits.cpus) per service.",
	func(l checks.Limits) (bool, string) {
		if l.CPUs <= 0 {
			return false, ""
		}
		return true, fmt.Sprintf("%g CPUs", l.CPUs)
	})

// PidsLimit is DK-020.
var PidsLimit = limitCheck("DK-020", "Container PIDs limit", "pids",
	"Set `pids_limit` per service (a few hundred for Node, more for Postgres with many connections).",
	func(l checks.Limits) (bool, string) {
		if l.Pids <= 0 {
			return false, ""
		}
		return true, fmt.Sprint(l.Pids)
	})

// LogRotation is DK-021: container logs on the host are bounded — json-file
// with max-size and max-file (the local driver rotates by default). Without
// it one chatty container fills the disk the database writes to.
var LogRotation = checks.New(checks.Meta{
	ID: "DK-021", Title: "Container log rotation", Severity: checks.Low,
	Remediation: "logging: {driver: json-file, options: {max-size: \"10m\", max-file: \"5\"}} per service, or log-opts in daemon.json.",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		d := u.logDriver
		ev := checks.Ev("log_driver", d, "max_size", u.logOpts["max-size"], "max_file", u.logOpts["max-file"])
		switch {
		case u.c == nil && d == "":
			if f.Docker != nil && f.Docker.LoggingDriver == "local" {
				return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "the engine's default local driver rotates"}
			}
			return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "no logging options: the engine's defaults apply (json-file without rotation unless daemon.json sets log-opts)"}
		case d == "local":
			return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "local driver (rotates: 20 MB × 5 by default)"}
		case d == "json-file" || d == "":
			if u.logOpts["max-size"] == "" {
				return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "json-file logs without max-size grow without bound"}
			}
			if u.logOpts["max-file"] == "" {
				return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "json-file rotated at " + u.logOpts["max-size"] + " (one old file kept)"}
			}
			return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "json-file rotated at " + u.logOpts["max-size"] + " × " + u.logOpts["max-file"]}
		case d == "none":
			return checks.Finding{Status: checks.Skip, Evidence: ev, Message: "logging is off (see DK-006)"}
		}
		return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "log driver " + d + " keeps no files on this host"}
	})
})
