package kube

import (
	"fmt"
	"strings"

	"github.com/calctl/calctl/checks"
)

// HostAccess is K8S-015: no pod shares the node's network, PID or IPC
// namespace, mounts a hostPath or binds a hostPort; each of them lets a
// compromised pod see or reach what belongs to the node and its other pods.
var HostAccess = checks.New(checks.Meta{
	ID: "K8S-015", Title: "No host namespaces, hostPath volumes or hostPorts", Severity: checks.High,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Remove hostNetwork, hostPID, hostIPC, hostPath volumes (use a PersistentVolumeClaim) and hostPort (use a Service).",
}, func(f *checks.Facts) []checks.Finding {
	ws, why := workloads(f)
	if why != nil {
		return []checks.Finding{*why}
	}
	var out []checks.Finding
	for _, w := range ws {
		var faults []string
		p := w.Pod
		if p.HostNetwork {
			faults = append(faults, "hostNetwork")
		}
		if p.HostPID {
			faults = append(faults, "hostPID")
		}
		if p.HostIPC {
			faults = append(faults, "hostIPC")
		}
		for _, h := range p.HostPaths {
			faults = append(faults, "hostPath "+h)
		}
		for _, c := range p.Containers {
			for _, hp := range c.HostPorts {
				faults = append(faults, fmt.Sprintf("%s hostPort %d", c.Name, hp))
			}
		}
		if len(faults) > 0 {
			out = append(out, checks.Finding{Status: checks.Fail, Resource: w.Ref(), Message: "uses " + strings.Join(faults, ", ")})
		} else {
			out = append(out, checks.Finding{Status: checks.Pass, Resource: w.Ref(), Message: "no host namespace, hostPath or hostPort"})
		}
	}
	return out
})
