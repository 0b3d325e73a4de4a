package kube

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// Resources is K8S-004: every container has CPU and memory requests (so the
// scheduler places it where it fits) and limits (so one runaway pod cannot
// starve the node, the database's included).
var Resources = checks.New(checks.Meta{
	ID: "K8S-004", Title: "Resource requests and limits on every container", Severity: checks.Medium,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Set resources.requests.{cpu,memory} and resources.limits.{cpu,memory} on every container and init container (answers kubernetes.resources; or a LimitRange default in the namespace).",
}, func(f *checks.Facts) []checks.Finding {
	return perContainer(f, "every container has CPU and memory requests and limits", func(_ checks.KubeWorkload, c checks.KubeContainer) string {
		var miss []string
		for _, r := range []string{"cpu", "memory"} {
			if c.Requests[r] == "" {
				miss = append(miss, "requests."+r)
			}
		}
		for _, r := range []string{"cpu", "memory"} {
			if c.Limits[r] == "" {
				miss = append(miss, "limits."+r)
			}
		}
		if len(miss) == 0 {
			return ""
		}
		return "no " + strings.Join(miss, ", ")
	})
})
