package kube

import (
	"testing"

	"github.com/calctl/calctl/checks"
)

func TestImageRef(t *testing.T) {
	d := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for img, want := range map[string]string{
		"postgres":                           "floating",
		"postgres:latest":                    "floating",
		"localhost:5000/calcom/web":          "floating",
		"localhost:5000/calcom/web:v5.1.0":   "tag",
		"postgres:16-alpine":                 "tag",
		"registry.example.com/web@" + d:      "digest",
		"registry.example.com/web:v1@" + d:   "digest",
		"registry.example.com/web@sha256:ab": "floating",
	} {
		if got := imageRef(img); got != want {
			t.Errorf("imageRef(%q) = %s, want %s", img, got, want)
		}
	}
}

func TestTLSCovers(t *testing.T) {
	for _, c := range []struct {
		tls  []string
		host string
		want bool
	}{
		{[]string{"cal.example.com"}, "cal.example.com", true},
		{[]string{"*.example.com"}, "cal.example.com", true},
		{[]string{"*.example.com"}, "a.cal.example.com", false},
		{[]string{"api.example.com"}, "cal.example.com", false},
	} {
		if got := tlsCovers(c.tls, c.host); got != c.want {
			t.Errorf("tlsCovers(%v, %s) = %v", c.tls, c.host, got)
		}
	}
}

func TestSelectorMatches(t *testing.T) {
	l := map[string]string{"app": "web", "tier": "front"}
	for _, c := range []struct {
		s    checks.KubeSelector
		want bool
	}{
		{checks.KubeSelector{}, true},
		{checks.KubeSelector{Match: map[string]string{"app": "web"}}, true},
		{checks.KubeSelector{Match: map[string]string{"app": "api"}}, false},
		{checks.KubeSelector{Expr: []checks.KubeSelectorReq{{Key: "app", Operator: "In", Values: []string{"web", "api"}}}}, true},
		{checks.KubeSelector{Expr: []checks.KubeSelectorReq{{Key: "app", Operator: "NotIn", Values: []string{"web"}}}}, false},
		{checks.KubeSelector{Expr: []checks.KubeSelectorReq{{Key: "db", Operator: "DoesNotExist"}}}, true},
		{checks.KubeSelector{Expr: []checks.KubeSelectorReq{{Key: "db", Operator: "Exists"}}}, false},
		{checks.KubeSelector{Expr: []checks.KubeSelectorReq{{Key: "app", Operator: "Bogus"}}}, false},
	} {
		if got := c.s.Matches(l); got != c.want {
			t.Errorf("%+v matches = %v", c.s, got)
		}
	}
}

// TestNetworkPolicyPeers: the web pod's allowed sources and the
// database's, one policy shape per row.
func TestNetworkPolicyPeers(t *testing.T) {
	web := checks.KubeWorkload{Kind: "Deployment", Name: "web", PodLabels: map[string]string{ComponentLabel: "web"}}
	db := checks.KubeWorkload{Kind: "StatefulSet", Name: "db", PodLabels: map[string]string{DatabaseLabel: "cal"}}
	deny := checks.KubeNetworkPolicy{Name: "deny", Ingress: true, Egress: true}
	all := &checks.KubeSelector{}
	ingressNS := &checks.KubeSelector{Match: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}}
	app := &checks.KubeSelector{Match: map[string]string{"calctl.dev/db-client": "true"}}
	for _, c := range []struct {
		name   string
		w      checks.KubeWorkload
		allow  []checks.KubePeer
		status checks.Status
	}{
		{"web-from-ingress-ns", web, []checks.KubePeer{{Namespaces: ingressNS}}, checks.Pass},
		{"web-from-every-namespace", web, []checks.KubePeer{{Namespaces: all}}, checks.Fail},
		{"web-from-anywhere", web, []checks.KubePeer{{CIDR: "0.0.0.0/0"}}, checks.Fail},
		{"web-any-source", web, nil, checks.Fail},
		{"db-from-app", db, []checks.KubePeer{{Pods: app}}, checks.Pass},
		{"db-from-other-namespaces", db, []checks.KubePeer{{Pods: app, Namespaces: all}}, checks.Fail},
		{"db-from-cidr", db, []checks.KubePeer{{CIDR: "10.0.0.0/8"}}, checks.Fail},
		{"db-from-every-pod", db, []checks.KubePeer{{Pods: all}}, checks.Fail},
	} {
		t.Run(c.name, func(t *testing.T) {
			allow := checks.KubeNetworkPolicy{Name: "allow", Ingress: true, IngressRules: []checks.KubePolicyRule{{Peers: c.allow}}}
			f := &checks.Facts{Kube: &checks.KubeFacts{Namespace: "ns", NamespaceFound: true, Workloads: []checks.KubeWorkload{c.w},
				NetworkPolicies: []checks.KubeNetworkPolicy{deny, allow}}}
			f.SetSource(checks.SourceKube, checks.SourceState{Collected: true})
			rs := NetworkPolicies.Run(f)
			if len(rs) != 1 || rs[0].Status != c.status {
				t.Fatalf("%+v", rs)
			}
		})
	}
}
