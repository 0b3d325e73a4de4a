package docker

import (
	"github.com/calctl/calctl/checks"
)

// UserlandProxy is DK-016: published ports are forwarded by iptables, not
// by a docker-proxy process per port (CIS Docker 2.16): the proxy is more
// code facing the network, and it hides client addresses from the logs.
var UserlandProxy = checks.New(checks.Meta{
	ID: "DK-016", Title: "Userland proxy disabled", Severity: checks.Low, Needs: needDocker,
	Remediation: "Set `\"userland-proxy\": false` in /etc/docker/daemon.json and restart dockerd.",
}, func(f *checks.Facts) []checks.Finding {
	d := f.Docker
	if d == nil || d.UserlandProxy == nil {
		return []checks.Finding{{Status: checks.Skip, Resource: "docker-daemon", Message: "the daemon is not on this host (or its configuration is unreadable): userland-proxy unknown"}}
	}
	ev := checks.Ev("userland_proxy", boolStr(*d.UserlandProxy), "daemon_config", d.DaemonConfig)
	if *d.UserlandProxy {
		return []checks.Finding{{Status: checks.Warn, Resource: "docker-daemon", Evidence: ev, Message: "dockerd runs docker-proxy for published ports (userland-proxy is on, the default)"}}
	}
	return []checks.Finding{{Status: checks.Pass, Resource: "docker-daemon", Evidence: ev, Message: "userland-proxy is off"}}
})
