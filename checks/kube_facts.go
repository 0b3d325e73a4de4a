package checks

// SourceKube is the Kubernetes collector (checks/kubecollect): the objects
// of one namespace read through the API server.
const SourceKube Source = "kubernetes"

// ProfileKubernetes is Target.Profile for a Kubernetes namespace.
const ProfileKubernetes = "kubernetes"

// KubeFacts is what the Kubernetes collector read from one namespace:
// plain data, no client-go types, and never a Secret value (Secrets and
// ConfigMaps are reduced to key names).
type KubeFacts struct {
	// Server is the API server URL; Context the kubeconfig context used.
	Server  string `json:"server"`
	Context string `json:"context,omitempty"` // kubeconfig context used
	// ServerVersion is the API server's git version (v1.37.2).
	ServerVersion string `json:"server_version,omitempty"`
	// Namespace is the namespace checked; NamespaceFound is false when it
	// does not exist.
	Namespace      string            `json:"namespace"`
	NamespaceFound bool              `json:"namespace_found"`            // false: the namespace does not exist
	NamespaceLabel map[string]string `json:"namespace_labels,omitempty"` // the namespace's labels (Pod Security admission's among them)
	// Nodes is how many nodes are registered (0: no pod can run).
	Nodes           int                  `json:"nodes"`
	Workloads       []KubeWorkload       `json:"workloads,omitempty"`        // every workload with its pod template
	NetworkPolicies []KubeNetworkPolicy  `json:"network_policies,omitempty"` // the namespace's NetworkPolicies
	ServiceAccounts []KubeServiceAccount `json:"service_accounts,omitempty"` // the namespace's ServiceAccounts
	Ingresses       []KubeIngress        `json:"ingresses,omitempty"`        // the namespace's Ingresses
	Secrets         []KubeKeyed          `json:"secrets,omitempty"`          // Secrets: names, types and key names only
	ConfigMaps      []KubeKeyed          `json:"config_maps,omitempty"`      // ConfigMaps: key names and the secret-looking ones
	PDBs            []KubePDB            `json:"pdbs,omitempty"`             // the namespace's PodDisruptionBudgets
	HPAs            []KubeHPA            `json:"hpas,omitempty"`             // the namespace's HorizontalPodAutoscalers
}

// KubeWorkload is a Deployment, StatefulSet, DaemonSet, CronJob, Job or a
// bare Pod, with its pod template.
type KubeWorkload struct {
	Kind string `json:"kind"` // Deployment, StatefulSet, DaemonSet, CronJob, Job or Pod
	Name string `json:"name"` // the object's name
	// Labels are the object's labels; PodLabels the pod template's.
	Labels    map[string]string `json:"labels,omitempty"`
	PodLabels map[string]string `json:"pod_labels,omitempty"` // the pod template's labels
	// Annotations are the pod template's calctl.dev/* annotations (others
	// are not kept: they may carry anything).
	Annotations map[string]string `json:"annotations,omitempty"`
	// Replicas is spec.replicas (Deployment, StatefulSet; nil: unset).
	Replicas *int32 `json:"replicas,omitempty"`
	// OwnedBy is the controller owning it (a Job of a CronJob, a Pod of a
	// ReplicaSet); checks judge the owner's template instead.
	OwnedBy string      `json:"owned_by,omitempty"`
	Pod     KubePodSpec `json:"pod"` // the pod template
}

// Ref is Kind/name.
func (w KubeWorkload) Ref() string { return w.Kind + "/" + w.Name }

// KubePodSpec is the part of a pod spec the checks judge.
type KubePodSpec struct {
	ServiceAccount string `json:"service_account,omitempty"` // serviceAccountName ("": default)
	// AutomountToken is automountServiceAccountToken (nil: unset).
	AutomountToken *bool `json:"automount_token,omitempty"`
	HostNetwork    bool  `json:"host_network,omitempty"` // shares the node's network namespace
	HostPID        bool  `json:"host_pid,omitempty"`     // shares the node's PID namespace
	HostIPC        bool  `json:"host_ipc,omitempty"`     // shares the node's IPC namespace
	// RunAsNonRoot, RunAsUser and Seccomp are the pod-level security context.
	RunAsNonRoot *bool  `json:"run_as_non_root,omitempty"`
	RunAsUser    *int64 `json:"run_as_user,omitempty"` // pod-level runAsUser (nil: unset)
	Seccomp      string `json:"seccomp,omitempty"`     // pod-level seccompProfile.type ("": unset)
	// HostPaths are the hostPath volumes (volume name: path).
	HostPaths  []string        `json:"host_paths,omitempty"`
	Containers []KubeContainer `json:"containers"` // init containers first, then containers
}

// KubeContainer is one container or init container.
type KubeContainer struct {
	Name  string `json:"name"`           // the container's name
	Init  bool   `json:"init,omitempty"` // an init container
	Image string `json:"image"`          // the image reference as written
	// The container's securityContext (nil: unset).
	Privileged      *bool    `json:"privileged,omitempty"`
	AllowEscalation *bool    `json:"allow_privilege_escalation,omitempty"` // allowPrivilegeEscalation
	ReadOnlyRootFS  *bool    `json:"read_only_root_fs,omitempty"`          // readOnlyRootFilesystem
	RunAsNonRoot    *bool    `json:"run_as_non_root,omitempty"`            // runAsNonRoot (nil: the pod's applies)
	RunAsUser       *int64   `json:"run_as_user,omitempty"`                // runAsUser (nil: the pod's applies)
	Seccomp         string   `json:"seccomp,omitempty"`                    // seccompProfile.type ("": the pod's applies)
	CapAdd          []string `json:"cap_add,omitempty"`                    // capabilities.add
	CapDrop         []string `json:"cap_drop,omitempty"`                   // capabilities.drop
	// Requests and Limits are resource name → quantity.
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"` // resources.limits, name → quantity
	// SecretEnv lists env vars filled from a Secret ("VAR ← secret/key")
	// and envFrom Secrets ("* ← secret").
	SecretEnv []string `json:"secret_env,omitempty"`
	HostPorts []int32  `json:"host_ports,omitempty"`      // hostPort of each port that sets one
	Readiness bool     `json:"readiness_probe,omitempty"` // has a readinessProbe
	Liveness  bool     `json:"liveness_probe,omitempty"`  // has a livenessProbe
}

// KubeSelector is a label selector (nil Match and Expr: everything).
type KubeSelector struct {
	Match map[string]string `json:"match,omitempty"` // matchLabels
	Expr  []KubeSelectorReq `json:"expr,omitempty"`  // matchExpressions
}

// KubeSelectorReq is one matchExpressions entry.
type KubeSelectorReq struct {
	Key      string   `json:"key"`              // the label key
	Operator string   `json:"operator"`         // In, NotIn, Exists or DoesNotExist
	Values   []string `json:"values,omitempty"` // the values In and NotIn compare
}

// Matches reports whether labels satisfy the selector.
func (s KubeSelector) Matches(labels map[string]string) bool {
	for k, v := range s.Match {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, r := range s.Expr {
		v, ok := labels[r.Key]
		in := false
		for _, x := range r.Values {
			if ok && v == x {
				in = true
			}
		}
		switch r.Operator {
		case "In":
			if !in {
				return false
			}
		case "NotIn":
			if in {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// KubeNetworkPolicy is a NetworkPolicy: which pods it selects, which
// directions it isolates and its rules' peers.
type KubeNetworkPolicy struct {
	Name        string       `json:"name"`             // the policy's name
	PodSelector KubeSelector `json:"pod_selector"`     // the pods it applies to
	Ingress     bool         `json:"isolates_ingress"` // isolates ingress (policyTypes has Ingress)
	Egress      bool         `json:"isolates_egress"`  // isolates egress (policyTypes has Egress)
	// IngressRules and EgressRules are the allow rules.
	IngressRules []KubePolicyRule `json:"ingress_rules,omitempty"`
	EgressRules  []KubePolicyRule `json:"egress_rules,omitempty"` // egress allow rules
}

// KubePolicyRule is one ingress or egress rule; no peers means any peer.
type KubePolicyRule struct {
	Peers []KubePeer `json:"peers,omitempty"` // from/to entries (none: any peer)
	Ports []string   `json:"ports,omitempty"` // "port/protocol" entries (none: every port)
}

// KubePeer is one from/to entry.
type KubePeer struct {
	// Pods and Namespaces are the selectors (nil: not given).
	Pods       *KubeSelector `json:"pods,omitempty"`
	Namespaces *KubeSelector `json:"namespaces,omitempty"` // namespaceSelector (nil: this namespace only)
	CIDR       string        `json:"cidr,omitempty"`       // ipBlock.cidr
}

// KubeServiceAccount is a ServiceAccount and its token automount setting.
type KubeServiceAccount struct {
	Name           string `json:"name"`                      // the account's name
	AutomountToken *bool  `json:"automount_token,omitempty"` // automountServiceAccountToken (nil: unset, true by default)
}

// KubeIngress is an Ingress: its hosts and the hosts its TLS covers.
type KubeIngress struct {
	Name     string   `json:"name"`                // the Ingress's name
	Hosts    []string `json:"hosts,omitempty"`     // its rules' hosts
	TLSHosts []string `json:"tls_hosts,omitempty"` // the hosts its spec.tls entries cover
	// TLS is true when spec.tls has any entry.
	TLS bool `json:"tls"`
	// Address is the load balancer's address in status (empty: none yet).
	Address string `json:"address,omitempty"`
}

// KubeKeyed is a Secret or ConfigMap reduced to its key names. SecretKeys
// are the ConfigMap keys whose name is secret-named or whose value looks
// like a credential (rule names in SecretRules, never the value).
type KubeKeyed struct {
	Name        string   `json:"name"`                   // the object's name
	Type        string   `json:"type,omitempty"`         // a Secret's type
	Keys        []string `json:"keys,omitempty"`         // every key, sorted
	SecretKeys  []string `json:"secret_keys,omitempty"`  // ConfigMap keys that look secret
	SecretRules []string `json:"secret_rules,omitempty"` // the rules that flagged them (secret-key-name, url-password, jwt, ...)
}

// KubePDB is a PodDisruptionBudget.
type KubePDB struct {
	Name           string       `json:"name"`                      // the budget's name
	Selector       KubeSelector `json:"selector"`                  // the pods it protects
	MinAvailable   string       `json:"min_available,omitempty"`   // minAvailable ("": unset)
	MaxUnavailable string       `json:"max_unavailable,omitempty"` // maxUnavailable ("": unset)
}

// KubeHPA is a HorizontalPodAutoscaler.
type KubeHPA struct {
	Name        string `json:"name"`         // the autoscaler's name
	TargetKind  string `json:"target_kind"`  // scaleTargetRef.kind
	TargetName  string `json:"target_name"`  // scaleTargetRef.name
	MinReplicas int32  `json:"min_replicas"` // minReplicas (1 when unset)
	MaxReplicas int32  `json:"max_replicas"` // maxReplicas
}
