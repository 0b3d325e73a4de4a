package kube

import (
	"github.com/calctl/calctl/checks"
)

// Privilege is K8S-008: no container is privileged or may gain privileges
// (allowPrivilegeEscalation must be false: setuid binaries and file
// capabilities otherwise raise a process above its user).
var Privilege = checks.New(checks.Meta{
	ID: "K8S-008", Title: "No privileged containers; privilege escalation off", Severity: checks.Critical,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Remove securityContext.privileged and set securityContext.allowPrivilegeEscalation: false on every container.",
}, func(f *checks.Facts) []checks.Finding {
	return perContainer(f, "no container is privileged; every one has allowPrivilegeEscalation: false", func(_ checks.KubeWorkload, c checks.KubeContainer) string {
		switch {
		case isTrue(c.Privileged):
			return "privileged: full access to the node"
		case !isFalse(c.AllowEscalation):
			return "allowPrivilegeEscalation is not false"
		}
		return ""
	})
})
