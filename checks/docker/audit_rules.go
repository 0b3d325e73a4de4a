package docker

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// auditTargets are the Docker files CIS Docker Benchmark 1.1.3–1.1.18 wants
// audited (docker-bench-security tests/1_host_configuration.sh): the
// daemon and its runtime binaries, its state and configuration, and its
// systemd units. Each entry lists accepted spellings of the watched path.
var auditTargets = []struct {
	what  string
	paths []string
}{
	{"dockerd", []string{"/usr/bin/dockerd", "/usr/sbin/dockerd", "/usr/local/bin/dockerd"}},
	{"/var/lib/docker", []string{"/var/lib/docker"}},
	{"/etc/docker", []string{"/etc/docker"}},
	{"docker.service", []string{"docker.service"}},
	{"docker.socket", []string{"docker.socket", "docker.sock"}},
	{"/etc/docker/daemon.json", []string{"/etc/docker/daemon.json", "/etc/docker"}},
	{"containerd", []string{"/usr/bin/containerd", "/usr/local/bin/containerd", "/run/containerd"}},
	{"runc", []string{"/usr/bin/runc", "/usr/sbin/runc", "/usr/local/bin/runc"}},
}

// AuditRules is DK-014: auditd records changes to Docker's daemon, files
// and units (CIS Docker 1.1.3–1.1.18). Who changed the engine that runs the
// ePHI stack is part of the audit trail (§164.312(b)).
var AuditRules = checks.New(checks.Meta{
	ID: "DK-014", Title: "Docker audit rules (auditd)", Severity: checks.Medium, Needs: needHost,
	Remediation: "Install auditd and add watch rules, e.g. `-w /usr/bin/dockerd -k docker`, `-w /var/lib/docker -k docker`, `-w /etc/docker -k docker`, `-w /lib/systemd/system/docker.service -k docker`, `-w /lib/systemd/system/docker.socket -k docker`, `-w /usr/bin/containerd -k docker`, `-w /usr/bin/runc -k docker` in /etc/audit/rules.d/docker.rules; `augenrules --load`.",
}, func(f *checks.Facts) []checks.Finding {
	h := f.Host
	if !dockerHost(f) {
		return []checks.Finding{{Status: checks.Skip, Resource: "auditd", Message: "Docker does not run on this host"}}
	}
	var missing, found []string
	for _, t := range auditTargets {
		ok := false
		for _, r := range h.AuditRules {
			for _, p := range t.paths {
				if watches(r, p) {
					ok = true
				}
			}
		}
		if ok {
			found = append(found, t.what)
		} else {
			missing = append(missing, t.what)
		}
	}
	ev := checks.Ev("source", h.AuditSource, "audited", strings.Join(found, ","), "auditd_running", boolStr(h.AuditdRunning))
	switch {
	case len(found) == 0:
		return []checks.Finding{{Status: checks.Warn, Resource: "auditd", Evidence: ev, Message: "no audit rule watches Docker (auditd rules: " + orNone(h.AuditSource) + ")"}}
	case len(missing) > 0:
		return []checks.Finding{{Status: checks.Warn, Resource: "auditd", Evidence: ev, Message: "no audit rule for " + strings.Join(missing, ", ")}}
	case !h.AuditdRunning && h.AuditSource != "auditctl -l":
		return []checks.Finding{{Status: checks.Warn, Resource: "auditd", Evidence: ev, Message: "the rules are written but auditd is not running"}}
	}
	return []checks.Finding{{Status: checks.Pass, Resource: "auditd", Evidence: ev, Message: "auditd watches the Docker daemon, its files and units"}}
})

var needHost = []checks.Source{checks.SourceHost}

// watches reports whether an audit rule line watches path (-w PATH, or a
// syscall rule with -F path=PATH / dir=PATH).
func watches(rule, path string) bool {
	fs := strings.Fields(rule)
	for i, w := range fs {
		switch {
		case w == "-w" && i+1 < len(fs) && strings.HasSuffix(strings.TrimRight(fs[i+1], "/"), path):
			return true
		case strings.HasPrefix(w, "path=") || strings.HasPrefix(w, "dir="):
			if strings.HasSuffix(strings.TrimRight(w[strings.IndexByte(w, '=')+1:], "/"), path) {
				return true
			}
		}
	}
	return false
}

// dockerHost: Docker runs on the host that was inspected.
func dockerHost(f *checks.Facts) bool {
	if f.Host != nil && f.Host.DockerSock != nil && f.Host.DockerSock.Exists {
		return true
	}
	return f.Source(checks.SourceDocker).Collected && f.Docker != nil && f.Docker.UserlandProxy != nil
}

func orNone(s string) string {
	if s == "" {
		return "none found"
	}
	return s
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
