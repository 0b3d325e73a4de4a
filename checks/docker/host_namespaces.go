package docker

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// sensitiveMounts are host paths a container must not mount (CIS Docker
// 5.5: /, /boot, /dev, /etc, /lib, /proc, /sys, /usr; and Docker's own
// state). socketDirs hold the Docker socket: mounting them, even read-only,
// lets the container drive the Docker API (a unix socket connects on a
// read-only mount), which is root on the host.
var (
	sensitiveMounts = []string{"/", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sys", "/usr", "/bin", "/sbin",
		"/var/lib/docker", "/var/lib/containerd", "/root"}
	socketDirs = []string{"/var/run", "/run", "/var/run/docker", "/run/docker", "/run/containerd", "/var/run/containerd"}
)

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
		if u.c != nil && u.c.UTSMode == "host" {
			is.Add(checks.Warn, "shares the host UTS namespace")
		}
		for _, m := range u.mounts {
			src := strings.TrimRight(m.Source, "/")
			if src == "" {
				src = "/"
			}
			switch {
			case strings.HasSuffix(src, "docker.sock") || strings.HasSuffix(src, "containerd.sock"):
				is.Add(checks.Fail, "mounts the Docker socket (%s): root on the host", m.Source)
			case m.Type != "bind":
			case contains(socketDirs, src):
				is.Add(checks.Fail, "mounts %s, which holds the Docker socket: the container can drive the Docker API (root on the host)", src)
			case contains(sensitiveMounts, src) && !m.ReadOnly:
				is.Add(checks.Fail, "mounts the host path %s read-write", src)
			case contains(sensitiveMounts, src):
				is.Add(checks.Warn, "mounts the host path %s (read-only)", src)
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
