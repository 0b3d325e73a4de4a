package kube

import (
	"github.com/calctl/calctl/checks"
)

// ServiceAccountToken is K8S-006: no pod mounts a service account token it
// does not need. Cal.com never calls the Kubernetes API, so a mounted token
// only helps an attacker who got code execution move to the API server.
var ServiceAccountToken = checks.New(checks.Meta{
	ID: "K8S-006", Title: "Service account token automount off", Severity: checks.Medium,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Set automountServiceAccountToken: false on the pod spec (or on its ServiceAccount), and give each workload its own ServiceAccount rather than `default`.",
}, func(f *checks.Facts) []checks.Finding {
	ws, why := workloads(f)
	if why != nil {
		return []checks.Finding{*why}
	}
	sas := map[string]*bool{}
	for _, sa := range f.Kube.ServiceAccounts {
		sas[sa.Name] = sa.AutomountToken
	}
	var out []checks.Finding
	for _, w := range ws {
		sa := w.Pod.ServiceAccount
		if sa == "" {
			sa = "default"
		}
		ev := checks.Ev("service_account", sa)
		switch {
		case isFalse(w.Pod.AutomountToken):
			out = append(out, checks.Finding{Status: checks.Pass, Resource: w.Ref(), Message: "the pod spec turns token automount off", Evidence: ev})
		case isTrue(w.Pod.AutomountToken):
			out = append(out, checks.Finding{Status: checks.Fail, Resource: w.Ref(), Message: "the pod spec mounts the " + sa + " service account token", Evidence: ev})
		case isFalse(sas[sa]):
			out = append(out, checks.Finding{Status: checks.Pass, Resource: w.Ref(), Message: "service account " + sa + " turns token automount off", Evidence: ev})
		default:
			out = append(out, checks.Finding{Status: checks.Fail, Resource: w.Ref(), Message: "the " + sa + " service account token is mounted into every pod (automountServiceAccountToken unset)", Evidence: ev})
		}
	}
	return out
})
