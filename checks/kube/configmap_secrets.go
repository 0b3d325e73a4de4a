package kube

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// ConfigMapSecrets is K8S-014: no secret value sits in a ConfigMap.
// ConfigMaps are not encrypted at rest by the API server's encryption
// config for Secrets, are readable by roles that may not read Secrets, and
// end up in support bundles and GitOps repositories. The collector flags
// secret-named keys and values shaped like credentials (private keys, URLs
// with passwords, JWTs, cloud tokens) and keeps only key and rule names.
var ConfigMapSecrets = checks.New(checks.Meta{
	ID: "K8S-014", Title: "No secret values in ConfigMaps", Severity: checks.High,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Move the value into a Secret (and rotate it: the ConfigMap's history may have leaked it); keep ConfigMaps for non-secret settings only.",
}, func(f *checks.Facts) []checks.Finding {
	k := f.Kube
	if len(k.ConfigMaps) == 0 {
		return []checks.Finding{{Status: checks.Pass, Resource: "namespace/" + k.Namespace, Message: "no ConfigMap in the namespace"}}
	}
	var out []checks.Finding
	for _, cm := range k.ConfigMaps {
		res := "ConfigMap/" + cm.Name
		if len(cm.SecretKeys) == 0 {
			out = append(out, checks.Finding{Status: checks.Pass, Resource: res, Message: "no secret-looking key or value"})
			continue
		}
		out = append(out, checks.Finding{Status: checks.Fail, Resource: res,
			Message:  "secret-looking values under keys " + strings.Join(cm.SecretKeys, ", "),
			Evidence: checks.Ev("keys", strings.Join(cm.SecretKeys, ","), "rules", strings.Join(cm.SecretRules, ","))})
	}
	return out
})
