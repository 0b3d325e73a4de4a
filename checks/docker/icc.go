package docker

import (
	"github.com/calctl/calctl/checks"
)

// ICC is DK-015: containers on the default bridge cannot talk to each other
// freely (CIS Docker 2.2, daemon `icc: false`). Compose projects use their
// own networks, so this guards what is started by hand next to the install.
var ICC = checks.New(checks.Meta{
	ID: "DK-015", Title: "Inter-container traffic on the default bridge", Severity: checks.Low, Needs: needDocker,
	Remediation: "Set `\"icc\": false` in /etc/docker/daemon.json and restart dockerd; containers that must talk use a user-defined network (compose does).",
}, func(f *checks.Facts) []checks.Finding {
	d := f.Docker
	if d == nil || d.ICC == nil {
		return []checks.Finding{{Status: checks.Skip, Resource: "docker-daemon", Message: "the default bridge network's options were not read"}}
	}
	ev := checks.Ev("enable_icc", boolStr(*d.ICC))
	if *d.ICC {
		return []checks.Finding{{Status: checks.Warn, Resource: "docker-daemon", Evidence: ev, Message: "containers on the default bridge can reach each other on every port (icc=true)"}}
	}
	return []checks.Finding{{Status: checks.Pass, Resource: "docker-daemon", Evidence: ev, Message: "icc=false on the default bridge"}}
})
