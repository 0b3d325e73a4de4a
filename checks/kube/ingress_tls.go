package kube

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// IngressTLS is K8S-007: every Ingress serves TLS for every host it routes,
// so ePHI never crosses the network in clear text between the client and
// the cluster edge.
var IngressTLS = checks.New(checks.Meta{
	ID: "K8S-007", Title: "Ingress serves TLS for every host", Severity: checks.High,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Add spec.tls with every rule's host and a certificate Secret (cert-manager: the cert-manager.io/cluster-issuer annotation; answers kubernetes.tls).",
}, func(f *checks.Facts) []checks.Finding {
	k := f.Kube
	if len(k.Ingresses) == 0 {
		return []checks.Finding{{Status: checks.Skip, Resource: "namespace/" + k.Namespace, Message: "no Ingress in the namespace (nothing is exposed through one)"}}
	}
	var out []checks.Finding
	for _, in := range k.Ingresses {
		res := "Ingress/" + in.Name
		if !in.TLS {
			out = append(out, checks.Finding{Status: checks.Fail, Resource: res, Message: "no spec.tls: hosts " + strings.Join(in.Hosts, ", ") + " are served over plain HTTP"})
			continue
		}
		var uncovered []string
		for _, h := range in.Hosts {
			if !tlsCovers(in.TLSHosts, h) {
				uncovered = append(uncovered, h)
			}
		}
		if len(uncovered) > 0 {
			out = append(out, checks.Finding{Status: checks.Fail, Resource: res, Message: "TLS does not cover " + strings.Join(uncovered, ", ")})
			continue
		}
		out = append(out, checks.Finding{Status: checks.Pass, Resource: res, Message: "TLS for " + strings.Join(in.Hosts, ", "), Evidence: checks.Ev("tls_hosts", strings.Join(in.TLSHosts, ","))})
	}
	return out
})

// tlsCovers reports whether a TLS host list covers host (wildcards one
// label deep, as certificates match).
func tlsCovers(tls []string, host string) bool {
	for _, t := range tls {
		if strings.EqualFold(t, host) {
			return true
		}
		if strings.HasPrefix(t, "*.") {
			if i := strings.IndexByte(host, '.'); i > 0 && strings.EqualFold(host[i:], t[1:]) {
				return true
			}
		}
	}
	return false
}
