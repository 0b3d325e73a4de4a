package kube

import (
	"github.com/calctl/calctl/checks"
)

// ReadOnlyRootFS is K8S-010: every container's root filesystem is
// read-only, with emptyDir volumes where it must write (/tmp, the Next.js
// cache), so an intruder cannot alter the app's code in place.
var ReadOnlyRootFS = checks.New(checks.Meta{
	ID: "K8S-010", Title: "Read-only root filesystem", Severity: checks.Medium,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where the container writes (/tmp; apps/web/.next/cache for Cal.com).",
}, func(f *checks.Facts) []checks.Finding {
	return perContainer(f, "every container has a read-only root filesystem", func(_ checks.KubeWorkload, c checks.KubeContainer) string {
		if !isTrue(c.ReadOnlyRootFS) {
			return "readOnlyRootFilesystem is not true"
		}
		return ""
	})
})
