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
	Context string `json:"context,omitempty"`
	// ServerVersion is the API server's git version (v1.37.2).
	ServerVersion string `json:"server_version,omitempty"`
	// Namespace is the namespace checked; NamespaceFound is false when it
	// does not exist.
	Namespace      string            `json:"namespace"`
	NamespaceFound bool              `json:"namespace_found"`
	NamespaceLabel map[string]string `json:"namespace_labels,omitempty"`
	// Nodes is how many nodes are registered (0: no pod can run).
	Nodes           int                  `json:"nodes"`
	Workloads       []KubeWorkload       `json:"workloads,omitempty"`
	NetworkPolicies []KubeNetworkPolicy  `json:"network_policies,omitempty"`
	ServiceAccounts []KubeServiceAccount `json:"service_accounts,omitempty"`
	Ingresses       []KubeIngress        `json:"ingresses,omitempty"`
	Secrets         []KubeKeyed          `json:"secrets,omitempty"`
	ConfigMaps      []KubeKeyed          `json:"config_maps,omitempty"`
	PDBs            []KubePDB            `json:"pdbs,omitempty"`
	HPAs            []KubeHPA            `json:"hpas,omitempty"`
}

// KubeWorkload is a Deployment, StatefulSet, DaemonSet, CronJob, Job or a
// bare Pod, with its pod template.
type KubeWorkload struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Labels are the object's labels; PodLabels the pod template's.
	Labels    map[string]string `json:"labels,omitempty"`
	PodLabels map[string]string `json:"pod_labels,omitempty"`
	// Annotations are the pod template's calctl.dev/* annotations (others
	// are not kept: they may carry anything).
	Annotations map[string]string `json:"annotations,omitempty"`
	// Replicas is spec.replicas (Deployment, StatefulSet; nil: unset).
	Replicas *int32 `json:"replicas,omitempty"`
	// OwnedBy is the controller owning it (a Job of a CronJob, a Pod of a
	// ReplicaSet); checks judge the owner's template instead.
	OwnedBy string      `json:"owned_by,omitempty"`
	Pod     KubePodSpec `json:"pod"`
}

// Ref is Kind/name.
func (w KubeWorkload) Ref() string { return w.Kind + "/" + w.Name }

// KubePodSpec is the part of a pod spec the checks judge.
type KubePodSpec struct {
	ServiceAccount string `json:"service_account,omitempty"`
	// AutomountToken is automountServiceAccountToken (nil: unset).
	AutomountToken *bool `json:"automount_token,omitempty"`
	HostNetwork    bool  `json:"host_network,omitempty"`
	HostPID        bool  `json:"host_pid,omitempty"`
	HostIPC        bool  `json:"host_ipc,omitempty"`
	// RunAsNonRoot, RunAsUser and Seccomp are the pod-level security context.
	RunAsNonRoot *bool  `json:"run_as_non_root,omitempty"`
	RunAsUser    *int64 `json:"run_as_user,omitempty"`
	Seccomp      string `json:"seccomp,omitempty"`
	// HostPaths are the hostPath volumes (volume name: path).
	HostPaths  []string        `json:"host_paths,omitempty"`
	Containers []KubeContainer `json:"containers"`
}

// KubeContainer is one container or init container.
type KubeContainer struct {
	Name  string `json:"name"`
	Init  bool   `json:"init,omitempty"`
	Image string `json:"image"`
	// The container's securityContext (nil: unset).
	Privileged      *bool    `json:"privileged,omitempty"`
	AllowEscalation *bool    `json:"allow_privilege_escalation,omitempty"`
	ReadOnlyRootFS  *bool    `json:"read_only_root_fs,omitempty"`
	RunAsNonRoot    *bool    `json:"run_as_non_root,omitempty"`
	RunAsUser       *int64   `json:"run_as_user,omitempty"`
	Seccomp         string   `json:"seccomp,omitempty"`
	CapAdd          []string `json:"cap_add,omitempty"`
	CapDrop         []string `json:"cap_drop,omitempty"`
	// Requests and Limits are resource name → quantity.
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
	// SecretEnv lists env vars filled from a Secret ("VAR ← secret/key")
	// and envFrom Secrets ("* ← secret").
	SecretEnv []string `json:"secret_env,omitempty"`
	HostPorts []int32  `json:"host_ports,omitempty"`
	Readiness bool     `json:"readiness_probe,omitempty"`
	Liveness  bool     `json:"liveness_probe,omitempty"`
}

// KubeSelector is a label selector (nil Match and Expr: everything).
type KubeSelector struct {
	Match map[string]string `json:"match,omitempty"`
	Expr  []KubeSelectorReq `json:"expr,omitempty"`
}

// KubeSelectorReq is one matchExpressions entry.
type KubeSelectorReq struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
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
	Name        string       `json:"name"`
	PodSelector KubeSelector `json:"pod_selector"`
	Ingress     bool         `json:"isolates_ingress"`
	Egress      bool         `json:"isolates_egress"`
	// IngressRules and EgressRules are the allow rules.
	IngressRules []KubePolicyRule `json:"ingress_rules,omitempty"`
	EgressRules  []KubePolicyRule `json:"egress_rules,omitempty"`
}

// KubePolicyRule is one ingress or egress rule; no peers means any peer.
type KubePolicyRule struct {
	Peers []KubePeer `json:"peers,omitempty"`
	Ports []string   `json:"ports,omitempty"`
}

// KubePeer is one from/to entry.
type KubePeer struct {
	// Pods and Namespaces are the selectors (nil: not given).
	Pods       *KubeSelector `json:"pods,omitempty"`
	Namespaces *KubeSelector `json:"namespaces,omitempty"`
	CIDR       string        `json:"cidr,omitempty"`
}

// KubeServiceAccount is a ServiceAccount and its token automount setting.
type KubeServiceAccount struct {
	Name           string `json:"name"`
	AutomountToken *bool  `json:"automount_token,omitempty"`
}

// KubeIngress is an Ingress: its hosts and the hosts its TLS covers.
type KubeIngress struct {
	Name     string   `json:"name"`
	Hosts    []string `json:"hosts,omitempty"`
	TLSHosts []string `json:"tls_hosts,omitempty"`
	// TLS is true when spec.tls has any entry.
	TLS bool `json:"tls"`
	// Address is the load balancer's address in status (empty: none yet).
	Address string `json:"address,omitempty"`
}

// KubeKeyed is a Secret or ConfigMap reduced to its key names. SecretKeys
// are the ConfigMap keys whose name is secret-named or whose value looks
// like a credential (rule names in SecretRules, never the value).
type KubeKeyed struct {
	Name        string   `json:"name"`
	Type        string   `json:"type,omitempty"`
	Keys        []string `json:"keys,omitempty"`
	SecretKeys  []string `json:"secret_keys,omitempty"`
	SecretRules []string `json:"secret_rules,omitempty"`
}

// KubePDB is a PodDisruptionBudget.
type KubePDB struct {
	Name           string       `json:"name"`
	Selector       KubeSelector `json:"selector"`
	MinAvailable   string       `json:"min_available,omitempty"`
	MaxUnavailable string       `json:"max_unavailable,omitempty"`
}

// KubeHPA is a HorizontalPodAutoscaler.
type KubeHPA struct {
	Name        string `json:"name"`
	TargetKind  string `json:"target_kind"`
	TargetName  string `json:"target_name"`
	MinReplicas int32  `json:"min_replicas"`
	MaxReplicas int32  `json:"max_replicas"`
}
