package kube

import (
	"github.com/calctl/calctl/checks"
)

// NonRoot is K8S-009: every container runs as a non-root user, enforced by
// runAsNonRoot (the kubelet then refuses to start a container whose user is
// 0) on the container or the pod.
var NonRoot = checks.New(checks.Meta{
	ID: "K8S-009", Title: "Containers run as non-root", Severity: checks.High,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Set securityContext.runAsNonRoot: true and a non-zero runAsUser on the pod (Cal.com's image runs as node, uid 1000; postgres as 70 on alpine).",
}, func(f *checks.Facts) []checks.Finding {
	return perContainer(f, "every container runs as non-root (runAsNonRoot)", func(w checks.KubeWorkload, c checks.KubeContainer) string {
		user := c.RunAsUser
		if user == nil {
			user = w.Pod.RunAsUser
		}
		if user != nil && *user == 0 {
			return "runAsUser is 0 (root)"
		}
		nonRoot := c.RunAsNonRoot
		if nonRoot == nil {
			nonRoot = w.Pod.RunAsNonRoot
		}
		if !isTrue(nonRoot) {
			return "runAsNonRoot is not true: the image's user (often root) applies"
		}
		return ""
	})
})
