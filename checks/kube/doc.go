// Package kube holds the K8S-* checks over one Kubernetes namespace, as the
// Kubernetes collector (checks/kubecollect) read it into checks.KubeFacts.
// Each check is pure over checks.Facts and links no client-go, so the lean
// calctl can judge a bundle's facts; the rules follow Pod Security
// "restricted" (https://kubernetes.io/docs/concepts/security/pod-security-standards/)
// and the NSA/CISA Kubernetes Hardening Guide v1.2.
package kube

import (
	"fmt"
	"sort"
	"strings"

	"github.com/calctl/calctl/checks"
)

// Labels and annotations calctl's charts set (installer/kubechart).
const (
	// ComponentLabel names a pod's part of the app (web, api, agent, ...).
	ComponentLabel = "app.kubernetes.io/component"
	// DatabaseLabel marks the bundled database's pods.
	DatabaseLabel = "calctl.dev/database"
	// SecretEnvReason on a pod template records why a Secret must reach
	// the container as an environment variable (K8S-003 accepts it).
	SecretEnvReason = "calctl.dev/secret-env-reason"
)

// Pod Security admission labels on a namespace
// (https://kubernetes.io/docs/concepts/security/pod-security-admission/).
const (
	PSAEnforce = "pod-security.kubernetes.io/enforce"
	PSAWarn    = "pod-security.kubernetes.io/warn"
	PSAAudit   = "pod-security.kubernetes.io/audit"
)

// workloads returns the workloads whose templates to judge: every object
// not owned by another (a CronJob's Jobs and a ReplicaSet's Pods are judged
// through their owner), or a finding saying why there is nothing.
func workloads(f *checks.Facts) ([]checks.KubeWorkload, *checks.Finding) {
	k := f.Kube
	if k == nil {
		return nil, &checks.Finding{Status: checks.Error, Message: "kubernetes: no facts"}
	}
	var out []checks.KubeWorkload
	for _, w := range k.Workloads {
		if w.OwnedBy == "" {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return nil, &checks.Finding{Status: checks.Skip, Resource: "namespace/" + k.Namespace,
			Message: fmt.Sprintf("namespace %s holds no Deployment, StatefulSet, DaemonSet, CronJob, Job or Pod", k.Namespace)}
	}
	return out, nil
}

// perContainer judges each container of each workload; bad returns what is
// wrong with one container ("" when nothing). One finding per workload
// lists the containers at fault.
func perContainer(f *checks.Facts, okMsg string, bad func(w checks.KubeWorkload, c checks.KubeContainer) string) []checks.Finding {
	ws, why := workloads(f)
	if why != nil {
		return []checks.Finding{*why}
	}
	var out []checks.Finding
	for _, w := range ws {
		var faults []string
		for _, c := range w.Pod.Containers {
			if msg := bad(w, c); msg != "" {
				faults = append(faults, containerName(c)+": "+msg)
			}
		}
		if len(faults) > 0 {
			out = append(out, checks.Finding{Status: checks.Fail, Resource: w.Ref(), Message: strings.Join(faults, "; ")})
		} else {
			out = append(out, checks.Finding{Status: checks.Pass, Resource: w.Ref(), Message: okMsg})
		}
	}
	return out
}

func containerName(c checks.KubeContainer) string {
	if c.Init {
		return "init container " + c.Name
	}
	return "container " + c.Name
}

// role is a workload's part of the app: its component label, "database"
// for the bundled database, else "".
func role(w checks.KubeWorkload) string {
	if _, ok := w.PodLabels[DatabaseLabel]; ok {
		return "database"
	}
	if r := w.PodLabels[ComponentLabel]; r != "" {
		return r
	}
	return w.Labels[ComponentLabel]
}

func isTrue(b *bool) bool  { return b != nil && *b }
func isFalse(b *bool) bool { return b != nil && !*b }

func hasFold(list []string, want string) bool {
	for _, v := range list {
		if strings.EqualFold(v, want) {
			return true
		}
	}
	return false
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
