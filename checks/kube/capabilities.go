package kube

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// Capabilities is K8S-011: every container drops ALL Linux capabilities
// and adds none but NET_BIND_SERVICE (what Pod Security "restricted"
// allows).
var Capabilities = checks.New(checks.Meta{
	ID: "K8S-011", Title: "Capabilities: drop ALL", Severity: checks.Medium,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Set securityContext.capabilities.drop: [ALL] on every container and add back only NET_BIND_SERVICE if a port below 1024 is needed.",
}, func(f *checks.Facts) []checks.Finding {
	return perContainer(f, "every container drops ALL capabilities", func(_ checks.KubeWorkload, c checks.KubeContainer) string {
		var msg []string
		if !hasFold(c.CapDrop, "ALL") {
			msg = append(msg, "does not drop ALL capabilities")
		}
		var extra []string
		for _, a := range c.CapAdd {
			if !strings.EqualFold(a, "NET_BIND_SERVICE") {
				extra = append(extra, a)
			}
		}
		if len(extra) > 0 {
			msg = append(msg, "adds "+strings.Join(extra, ","))
		}
		return strings.Join(msg, " and ")
	})
})
