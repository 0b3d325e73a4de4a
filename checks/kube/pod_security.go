package kube

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// PodSecurity is K8S-001: Pod Security admission enforces "restricted" on
// the namespace, so the API server refuses any pod that is privileged, runs
// as root, escalates or keeps capabilities.
var PodSecurity = checks.New(checks.Meta{
	ID: "K8S-001", Title: "Pod Security \"restricted\" enforced on the namespace", Severity: checks.High,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "kubectl label namespace NS pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/audit=restricted --overwrite (calctl install sets them).",
}, func(f *checks.Facts) []checks.Finding {
	k := f.Kube
	res := "namespace/" + k.Namespace
	if !k.NamespaceFound {
		return []checks.Finding{{Status: checks.Fail, Resource: res, Message: "the namespace does not exist"}}
	}
	enforce := k.NamespaceLabel[PSAEnforce]
	ev := checks.Ev("enforce", enforce, "warn", k.NamespaceLabel[PSAWarn], "audit", k.NamespaceLabel[PSAAudit])
	switch enforce {
	case "restricted":
		return []checks.Finding{{Status: checks.Pass, Resource: res, Message: "Pod Security admission enforces restricted", Evidence: ev}}
	case "baseline":
		return []checks.Finding{{Status: checks.Warn, Resource: res, Evidence: ev,
			Message: "Pod Security admission enforces baseline only: pods may run as root and keep capabilities"}}
	case "":
		return []checks.Finding{{Status: checks.Fail, Resource: res, Evidence: ev,
			Message: "no " + PSAEnforce + " label: the cluster default applies (privileged unless configured)"}}
	}
	return []checks.Finding{{Status: checks.Fail, Resource: res, Evidence: ev, Message: fmt.Sprintf("Pod Security admission enforces %q", enforce)}}
})
