package kube

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// NetworkPolicies is K8S-002: every pod is covered by a NetworkPolicy that
// isolates its ingress and egress (a default deny), the web and API pods
// accept traffic only from chosen sources (the ingress controller), and the
// database only from pods of this namespace picked by label (the app and
// its jobs). Without policies every pod in the cluster can reach the
// database.
var NetworkPolicies = checks.New(checks.Meta{
	ID: "K8S-002", Title: "NetworkPolicies: default deny, web from the ingress only, database from the app only", Severity: checks.High,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Add a default-deny NetworkPolicy (empty rules, policyTypes Ingress and Egress) over the release's pods, then allow web/api ingress only from the ingress controller's namespace and database ingress only from app pods by label (calctl's chart renders these); the CNI must enforce NetworkPolicy (Calico, Cilium).",
}, func(f *checks.Facts) []checks.Finding {
	k := f.Kube
	ws, why := workloads(f)
	if why != nil {
		return []checks.Finding{*why}
	}
	if len(k.NetworkPolicies) == 0 {
		return []checks.Finding{{Status: checks.Fail, Resource: "namespace/" + k.Namespace,
			Message: "no NetworkPolicy in the namespace: every pod in the cluster can reach every pod here, the database included"}}
	}
	var out []checks.Finding
	for _, w := range ws {
		var in, eg bool
		var covering []string
		var rules []checks.KubePolicyRule
		for _, p := range k.NetworkPolicies {
			if !p.PodSelector.Matches(w.PodLabels) {
				continue
			}
			covering = append(covering, p.Name)
			in = in || p.Ingress
			eg = eg || p.Egress
			if p.Ingress {
				rules = append(rules, p.IngressRules...)
			}
		}
		ev := checks.Ev("policies", strings.Join(sorted(covering), ","))
		var faults []string
		if !in {
			faults = append(faults, "no policy isolates its ingress (any pod in the cluster can connect)")
		}
		if !eg {
			faults = append(faults, "no policy isolates its egress (it can connect anywhere)")
		}
		switch r := role(w); {
		case in && (r == "web" || r == "api"):
			if open := openRule(rules); open != "" {
				faults = append(faults, r+" ingress is open to "+open+"; allow only the ingress controller")
			}
		case in && r == "database":
			for _, rule := range rules {
				if len(rule.Peers) == 0 {
					faults = append(faults, "database ingress is open to any source")
				}
				for _, p := range rule.Peers {
					if p.Namespaces != nil || p.CIDR != "" || p.Pods == nil || len(p.Pods.Match)+len(p.Pods.Expr) == 0 {
						faults = append(faults, "database ingress allows "+peerString(p)+"; allow only app pods of this namespace by label")
					}
				}
			}
		}
		if len(faults) > 0 {
			out = append(out, checks.Finding{Status: checks.Fail, Resource: w.Ref(), Message: strings.Join(faults, "; "), Evidence: ev})
		} else {
			out = append(out, checks.Finding{Status: checks.Pass, Resource: w.Ref(), Message: "ingress and egress isolated; allowed sources are narrow", Evidence: ev})
		}
	}
	return out
})

// openRule returns a description of an ingress rule that admits any
// source, or "".
func openRule(rules []checks.KubePolicyRule) string {
	for _, r := range rules {
		if len(r.Peers) == 0 {
			return "any source"
		}
		for _, p := range r.Peers {
			if p.CIDR == "0.0.0.0/0" || p.CIDR == "::/0" {
				return "any address (" + p.CIDR + ")"
			}
			if p.Namespaces != nil && len(p.Namespaces.Match)+len(p.Namespaces.Expr) == 0 && (p.Pods == nil || len(p.Pods.Match)+len(p.Pods.Expr) == 0) {
				return "every pod of every namespace"
			}
		}
	}
	return ""
}

func peerString(p checks.KubePeer) string {
	switch {
	case p.CIDR != "":
		return "ipBlock " + p.CIDR
	case p.Namespaces != nil:
		return "pods of other namespaces"
	}
	return "every pod of the namespace"
}
