package docker

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

var sensitiveMounts = []string{"/", "/etc", "/proc", "/sys", "/dev", "/var/lib/docker"}

// HostNamespaces is DK-012: no host namespaces or sensitive host mounts.
var HostNamespaces = checks.New(checks.Meta{
	ID: "DK-012", Title: "Host namespaces and sensitive mounts", Severity: checks.High,
	Remediation: "Remove host namespaces and the docker.sock mount; if monitoring needs the socket, put a read-only socket proxy in front.",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		var is checks.Issues
		if u.pidMode == "host" {
			is.Add(checks.Fail, "shares the host PID namespace")
		}
		if u.ipcMode == "host" {
			is.Add(checks.Fail, "shares the host IPC namespace")
		}
		if u.netMode == "host" {
			is.Add(checks.Warn, "uses the host network")
		}
		if u.c != nil {
			if u.c.UTSMode == "host" {
				is.Add(checks.Warn, "shares the host UTS namespace")
			}
			for _, m := range u.c.Mounts {
				src := strings.TrimRight(m.Source, "/")
				if src == "" {
					src = "/"
				}
				switch {
				case strings.HasSuffix(src, "docker.sock"):
					is.Add(checks.Fail, "mounts the Docker socket (%s): root on the host", m.Source)
				case m.Type == "bind" && contains(sensitiveMounts, src):
					is.Add(checks.Fail, "mounts the host path %s", src)
				}
			}
		}
		return is.Finding(u.name, "no host namespace or sensitive host mount", nil)
	})
})

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
