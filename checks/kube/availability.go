package kube

import (
	"fmt"
	"strings"

	"github.com/calctl/calctl/checks"
)

// Availability is K8S-013: the web and API Deployments run at least two
// replicas (an HPA's minReplicas counts) and a PodDisruptionBudget keeps
// one up while nodes are drained, so a node upgrade is not an outage.
var Availability = checks.New(checks.Meta{
	ID: "K8S-013", Title: "Web and API: ≥ 2 replicas and a PodDisruptionBudget", Severity: checks.Low,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Run web (and API) with replicas ≥ 2 (answers kubernetes.replicas, or autoscaling.min_replicas ≥ 2) and add a PodDisruptionBudget with maxUnavailable: 1 selecting their pods.",
}, func(f *checks.Facts) []checks.Finding {
	k := f.Kube
	var out []checks.Finding
	for _, w := range k.Workloads {
		r := role(w)
		if w.OwnedBy != "" || w.Kind != "Deployment" || (r != "web" && r != "api") {
			continue
		}
		replicas, from := int32(1), "spec.replicas unset (1)"
		if w.Replicas != nil {
			replicas, from = *w.Replicas, "spec.replicas"
		}
		for _, h := range k.HPAs {
			if h.TargetKind == "Deployment" && h.TargetName == w.Name {
				replicas, from = h.MinReplicas, "HorizontalPodAutoscaler/"+h.Name+" minReplicas"
			}
		}
		var pdbs []string
		for _, p := range k.PDBs {
			if len(p.Selector.Match)+len(p.Selector.Expr) > 0 && p.Selector.Matches(w.PodLabels) {
				pdbs = append(pdbs, p.Name)
			}
		}
		ev := checks.Ev("replicas", fmt.Sprint(replicas), "replicas_from", from, "pdbs", strings.Join(pdbs, ","))
		var faults []string
		if replicas < 2 {
			faults = append(faults, fmt.Sprintf("%d replica (%s): one pod or node failure is an outage", replicas, from))
		}
		if len(pdbs) == 0 {
			faults = append(faults, "no PodDisruptionBudget selects its pods: a node drain may evict every replica at once")
		}
		if len(faults) > 0 {
			out = append(out, checks.Finding{Status: checks.Fail, Resource: w.Ref(), Message: strings.Join(faults, "; "), Evidence: ev})
		} else {
			out = append(out, checks.Finding{Status: checks.Pass, Resource: w.Ref(), Message: fmt.Sprintf("%d replicas (%s) and PodDisruptionBudget %s", replicas, from, strings.Join(pdbs, ",")), Evidence: ev})
		}
	}
	if len(out) == 0 {
		return []checks.Finding{{Status: checks.Skip, Resource: "namespace/" + k.Namespace, Message: "no web or api Deployment (label " + ComponentLabel + ")"}}
	}
	return out
})
