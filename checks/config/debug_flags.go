package config

import (
	"regexp"
	"strings"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/localhost"
)

var inspectRE = regexp.MustCompile(`--inspect(?:-brk)?(?:=([^\s]+))?`)

// DebugFlags is CF-007: test and debug flags off.
var DebugFlags = checks.New(checks.Meta{
	ID: "CF-007", Title: "Test and debug flags off", Severity: checks.High, Needs: needFiles,
	Remediation: "Set NODE_ENV=production, unset NEXT_PUBLIC_IS_E2E / IS_E2E, and remove --inspect from NODE_OPTIONS and pm2 node_args.",
}, func(f *checks.Facts) []checks.Finding {
	var is checks.Issues
	if env := f.EnvValue("NODE_ENV"); env != "" && env != "production" {
		is.Add(checks.Warn, "NODE_ENV=%s (want production)", env)
	}
	for _, k := range []string{"NEXT_PUBLIC_IS_E2E", "IS_E2E"} {
		if checks.Truthy(f.EnvValue(k)) {
			is.Add(checks.Fail, "%s is on: E2E mode bypasses e-mails in auth flows", k)
		}
	}
	args := []string{f.EnvValue("NODE_OPTIONS")}
	if f.Files != nil && f.Files.PM2 != nil {
		for _, a := range f.Files.PM2.Apps {
			args = append(args, a.NodeArgs)
		}
	}
	for _, a := range args {
		for _, m := range inspectRE.FindAllStringSubmatch(a, -1) {
			host := m[1]
			if i := strings.LastIndex(host, ":"); i >= 0 {
				host = host[:i]
			}
			if host != "" && !localhost.IsLoopback(host) && !isPortOnly(m[1]) {
				is.Add(checks.Fail, "the Node inspector listens on %s (remote code execution)", m[1])
			} else {
				is.Add(checks.Warn, "the Node inspector is enabled (%s)", m[0])
			}
		}
	}
	ok := "NODE_ENV is production and no test or debug flag is on"
	if f.EnvValue("NODE_ENV") == "" {
		ok = "no test or debug flag is on (NODE_ENV unset; the Cal.com image sets production)"
	}
	return []checks.Finding{is.Finding("app", ok, nil)}
})

func isPortOnly(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
