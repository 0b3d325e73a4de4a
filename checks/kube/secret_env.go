package kube

import (
	"fmt"
	"strings"

	"github.com/calctl/calctl/checks"
)

// SecretEnv is K8S-003: Secrets reach containers as mounted files, not
// environment variables, where a file works. Environment variables leak
// into crash dumps, child processes and `kubectl describe`-style tooling;
// a mounted Secret is readable only inside the container and is updated in
// place. A pod template annotated calctl.dev/secret-env-reason records why a
// file cannot work (Prisma's migrate reads DATABASE_URL only from the
// environment) and passes with the reason shown.
var SecretEnv = checks.New(checks.Meta{
	ID: "K8S-003", Title: "Secrets mounted as files, not environment variables", Severity: checks.Medium,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Mount the Secret as a volume (Cal.com reads /calcom/.env: mount the Secret's dotenv key there) instead of env valueFrom.secretKeyRef / envFrom.secretRef; where a program reads only its environment, record why in the pod template annotation calctl.dev/secret-env-reason.",
}, func(f *checks.Facts) []checks.Finding {
	ws, why := workloads(f)
	if why != nil {
		return []checks.Finding{*why}
	}
	var out []checks.Finding
	for _, w := range ws {
		var uses []string
		for _, c := range w.Pod.Containers {
			for _, e := range c.SecretEnv {
				uses = append(uses, c.Name+": "+e)
			}
		}
		switch reason := w.Annotations[SecretEnvReason]; {
		case len(uses) == 0:
			out = append(out, checks.Finding{Status: checks.Pass, Resource: w.Ref(), Message: "no Secret in the environment"})
		case reason != "":
			out = append(out, checks.Finding{Status: checks.Pass, Resource: w.Ref(),
				Message:  fmt.Sprintf("Secrets in the environment with a recorded reason: %s", reason),
				Evidence: checks.Ev("secret_env", strings.Join(uses, ", "), "reason", reason)})
		default:
			out = append(out, checks.Finding{Status: checks.Fail, Resource: w.Ref(),
				Message:  "Secret values in environment variables: " + strings.Join(uses, ", "),
				Evidence: checks.Ev("secret_env", strings.Join(uses, ", "))})
		}
	}
	return out
})
