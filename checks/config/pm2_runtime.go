package config

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// PM2Runtime is CF-010: the pm2 runtime user and log handling (profile pm2).
var PM2Runtime = checks.New(checks.Meta{
	ID: "CF-010", Title: "pm2 runtime", Severity: checks.Medium, Needs: needFiles,
	Remediation: "`pm2 startup -u calcom` (not root); `pm2 install pm2-logrotate`; `chmod 640` the logs.",
}, func(f *checks.Facts) []checks.Finding {
	if f.Files == nil || f.Files.PM2 == nil || len(f.Files.PM2.Apps) == 0 {
		return []checks.Finding{{Status: checks.Skip, Message: "no pm2 ecosystem file or pm2 process list (profile " + f.Target.Profile + ")"}}
	}
	p := f.Files.PM2
	var out []checks.Finding
	for _, a := range p.Apps {
		var is checks.Issues
		if a.User == "root" {
			is.Add(checks.Warn, "runs as root")
		}
		for _, l := range a.Logs {
			if l.Exists && l.Mode&0o007 != 0 {
				is.Add(checks.Warn, "log %s is world-readable (%04o)", l.Path, l.Mode&0o777)
			}
		}
		if p.LogRotate != nil && !*p.LogRotate {
			is.Add(checks.Warn, "pm2-logrotate is not installed")
		}
		user := a.User
		if user == "" {
			user = "unknown"
		}
		out = append(out, is.Finding("pm2:"+a.Name, fmt.Sprintf("runs as %s; logs rotated and private", user), checks.Ev("user", user, "jlist", fmt.Sprint(p.JList))))
	}
	return out
})
