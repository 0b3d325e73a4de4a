package kube

import (
	"github.com/calctl/calctl/checks"
)

// Probes is K8S-016: the serving pods (web, API, database) have readiness
// and liveness probes, so a pod that cannot answer gets no traffic and a
// hung one is restarted.
var Probes = checks.New(checks.Meta{
	ID: "K8S-016", Title: "Readiness and liveness probes on serving pods", Severity: checks.Low,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Add readinessProbe and livenessProbe (httpGet on the app port for web/API; pg_isready exec for Postgres) and a startupProbe for slow starts.",
}, func(f *checks.Facts) []checks.Finding {
	var ws []checks.KubeWorkload
	for _, w := range f.Kube.Workloads {
		if r := role(w); w.OwnedBy == "" && (r == "web" || r == "api" || r == "database") {
			ws = append(ws, w)
		}
	}
	if len(ws) == 0 {
		return []checks.Finding{{Status: checks.Skip, Resource: "namespace/" + f.Kube.Namespace, Message: "no web, api or database workload (label " + ComponentLabel + " or " + DatabaseLabel + ")"}}
	}
	sub := *f
	k := *f.Kube
	k.Workloads = ws
	sub.Kube = &k
	return perContainer(&sub, "readiness and liveness probes on every container", func(_ checks.KubeWorkload, c checks.KubeContainer) string {
		switch {
		case c.Init:
			return ""
		case !c.Readiness && !c.Liveness:
			return "no readiness or liveness probe"
		case !c.Readiness:
			return "no readiness probe"
		case !c.Liveness:
			return "no liveness probe"
		}
		return ""
	})
})
