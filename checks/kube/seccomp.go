package kube

import (
	"github.com/calctl/calctl/checks"
)

// Seccomp is K8S-012: every container runs under the runtime's default
// seccomp profile (or a Localhost one), never Unconfined; an unset profile
// is Unconfined on most clusters.
var Seccomp = checks.New(checks.Meta{
	ID: "K8S-012", Title: "Seccomp profile RuntimeDefault", Severity: checks.Medium,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Set securityContext.seccompProfile.type: RuntimeDefault on the pod (containers inherit it).",
}, func(f *checks.Facts) []checks.Finding {
	return perContainer(f, "every container runs with seccomp RuntimeDefault or Localhost", func(w checks.KubeWorkload, c checks.KubeContainer) string {
		p := c.Seccomp
		if p == "" {
			p = w.Pod.Seccomp
		}
		switch p {
		case "RuntimeDefault", "Localhost":
			return ""
		case "":
			return "no seccomp profile (Unconfined on most runtimes)"
		}
		return "seccomp profile " + p
	})
})
