package docker

import (
	"strconv"
	"strings"

	"github.com/calctl/calctl/checks"
)

// Daemon is DK-013: daemon exposure and posture.
var Daemon = checks.New(checks.Meta{
	ID: "DK-013", Title: "Daemon exposure and posture", Severity: checks.Critical, Needs: []checks.Source{checks.SourceDocker},
	Remediation: "Remove `-H tcp://…` or require tlsverify; enable live-restore; upgrade an end-of-life engine; consider userns-remap or rootless.",
}, func(f *checks.Facts) []checks.Finding {
	d := f.Docker
	if d == nil {
		return []checks.Finding{{Status: checks.Skip, Message: "no daemon facts"}}
	}
	var is checks.Issues
	for _, w := range d.Warnings {
		if strings.Contains(w, "API is accessible on http://") {
			is.Add(checks.Fail, "the Docker API is served over plaintext TCP")
		}
	}
	if major := engineMajor(d.EngineVersion); major > 0 && major < 25 {
		is.Add(checks.Warn, "Docker engine %s is end-of-life", d.EngineVersion)
	}
	ev := checks.Ev("engine", d.EngineVersion, "live_restore", strconv.FormatBool(d.LiveRestore),
		"security_options", strings.Join(d.SecurityOptions, ","))
	userns := false
	for _, o := range d.SecurityOptions {
		if strings.Contains(o, "userns") || strings.Contains(o, "rootless") {
			userns = true
		}
	}
	ok := "the API is not exposed over plaintext TCP and the engine is supported"
	if !userns || !d.LiveRestore {
		ok += " (info: userns/rootless " + strconv.FormatBool(userns) + ", live-restore " + strconv.FormatBool(d.LiveRestore) + ")"
	}
	return []checks.Finding{is.Finding("docker-daemon", ok, ev)}
})

func engineMajor(v string) int {
	n, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	return n
}
