package contract

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// TargetKubernetes installs Cal.com on a Kubernetes cluster from a Helm
// chart calctl renders (answers block `kubernetes:`, docs/kubernetes.md).
const TargetKubernetes = "kubernetes"

// Kubernetes configures target kubernetes. The key names are the contract
// of issue 17; docs/answers.md lists each with its default.
type Kubernetes struct {
	// Kubeconfig is the kubeconfig path (default $KUBECONFIG, then ~/.kube/config).
	Kubeconfig string `yaml:"kubeconfig"`
	// Context is the kubeconfig context (default: its current context).
	Context string `yaml:"context"`
	// Namespace is where the release goes (default calcom).
	Namespace string `yaml:"namespace"`
	// Release is the Helm release name (default calcom).
	Release string `yaml:"release"`
	// Registry is the image repository the web image is pushed to, e.g.
	// registry.example.com/calcom/web.
	Registry string `yaml:"registry"`
	// PullSecret names an existing docker-registry Secret the pods pull with.
	PullSecret string `yaml:"pull_secret"`
	// Replicas of web and API (when autoscaling is off, and the HPA minimum when on).
	Replicas KubeReplicas `yaml:"replicas"`
	// Autoscaling configures an HPA on CPU for web and API.
	Autoscaling KubeAutoscalingSet `yaml:"autoscaling"`
	// IngressClass is the Ingress's ingressClassName (empty: the cluster default).
	IngressClass string `yaml:"ingress_class"`
	// IngressNamespace is where the ingress controller runs: the one
	// namespace the NetworkPolicies let reach web and API (default ingress-nginx).
	IngressNamespace string `yaml:"ingress_namespace"`
	// APIHost is the API's host name on the Ingress (default api.<public host>).
	APIHost string `yaml:"api_host"`
	// TLS says where the Ingress certificate comes from.
	TLS KubeTLS `yaml:"tls"`
	// StorageClass of every PVC (empty: the cluster default).
	StorageClass string `yaml:"storage_class"`
	// Resources are requests and limits per workload.
	Resources KubeResourcesSet `yaml:"resources"`
	// DatabaseStorage is the bundled database's PVC size (default 20Gi).
	DatabaseStorage string `yaml:"database_storage"`
	// DatabaseCIDRs are where an external/RDS database is, for the egress
	// NetworkPolicy (default 0.0.0.0/0 on the database port: narrow it).
	DatabaseCIDRs []string `yaml:"database_cidrs"`
	// Backup configures the pg_dump CronJob.
	Backup KubeBackup `yaml:"backup"`
	// Cron runs Cal.com's cron routes as CronJobs: true (default) or false.
	Cron string `yaml:"cron"`
	// Timeout bounds the Helm install/upgrade and its rollout wait (default 10m).
	Timeout string `yaml:"timeout"`
}

// KubeReplicas are replica counts.
type KubeReplicas struct {
	// Web is the web Deployment's replicas, 1 to 100 (default 2).
	Web int `yaml:"web"`
	// API is the API v1 Deployment's replicas, 1 to 100 (default 2).
	API int `yaml:"api"`
}

// KubeAutoscalingSet holds the HPA settings of web and API.
type KubeAutoscalingSet struct {
	// Web is the web HPA (enabled by default).
	Web KubeAutoscaling `yaml:"web"`
	// API is the API HPA (disabled by default).
	API KubeAutoscaling `yaml:"api"`
}

// KubeAutoscaling is one HPA: enabled "true" or "false", replica bounds and
// the CPU utilisation target in percent.
type KubeAutoscaling struct {
	// Enabled is "true" or "false" (a string so that an unset key takes
	// the default: web true, API false).
	Enabled string `yaml:"enabled"`
	// MinReplicas is the HPA's minReplicas (default: the replicas count).
	MinReplicas int `yaml:"min_replicas"`
	// MaxReplicas is the HPA's maxReplicas, at most 100 (default 3 ×
	// MinReplicas).
	MaxReplicas int `yaml:"max_replicas"`
	// TargetCPU is the average CPU utilisation target in percent of the
	// CPU request, 1 to 100 (default 70).
	TargetCPU int `yaml:"target_cpu"`
}

// KubeTLS is the Ingress certificate: a cert-manager issuer, or an existing
// kubernetes.io/tls Secret.
type KubeTLS struct {
	// Issuer names the cert-manager issuer that signs the certificate;
	// "" when Secret is an existing certificate.
	Issuer string `yaml:"issuer"`
	// IssuerKind is ClusterIssuer (default) or Issuer (namespaced).
	IssuerKind string `yaml:"issuer_kind"`
	// Secret is the kubernetes.io/tls Secret the Ingress serves: an
	// existing one, or where cert-manager writes (default <release>-tls
	// with an Issuer).
	Secret string `yaml:"secret"`
}

// KubeResourcesSet are the requests and limits of each workload.
type KubeResourcesSet struct {
	// Web is the web container's (default 500m/1Gi, limits 2/2Gi).
	Web KubeResources `yaml:"web"`
	// API is the API v1 container's (default 250m/512Mi, limits 1/1Gi).
	API KubeResources `yaml:"api"`
	// Database is the bundled Postgres's (default 250m/512Mi, limits
	// 2/2Gi).
	Database KubeResources `yaml:"database"`
	// Agent is the billing agent's (default 50m/64Mi, limits 500m/256Mi).
	Agent KubeResources `yaml:"agent"`
	// Jobs are the migrate, backup and cron Jobs' (default 250m/512Mi,
	// limits 1/2Gi).
	Jobs KubeResources `yaml:"jobs"`
}

// KubeResources are one container's requests and limits.
type KubeResources struct {
	// Requests is what the scheduler reserves.
	Requests KubeResourceList `yaml:"requests"`
	// Limits is the ceiling; each request must be > 0 and <= its limit.
	Limits KubeResourceList `yaml:"limits"`
}

// KubeResourceList is cpu and memory as Kubernetes quantities (500m, 2, 1Gi).
type KubeResourceList struct {
	// CPU is in cores ("500m" = half a core, "2").
	CPU string `yaml:"cpu"`
	// Memory is in bytes with a suffix ("512Mi", "1Gi").
	Memory string `yaml:"memory"`
}

// KubeBackup configures the backup CronJob.
type KubeBackup struct {
	// Enabled renders the nightly pg_dump CronJob and its PVC (default
	// false).
	Enabled bool `yaml:"enabled"`
	// Schedule is the CronJob's five-field cron schedule (default
	// "17 3 * * *"; the chart sets no timeZone).
	Schedule string `yaml:"schedule"`
	// Storage is the size of the backups PVC (default 50Gi).
	Storage string `yaml:"storage"`
	// Keep is how many dumps to keep, 1 to 365 (default 7).
	Keep int `yaml:"keep"`
}

// MaxReleaseLen keeps every derived name within Kubernetes' limits: a
// CronJob name (release-cron-route) must leave 11 characters for its Jobs'
// suffix within 63.
const MaxReleaseLen = 30

func (a *Answers) applyKubernetesDefaults() {
	k := &a.Kubernetes
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&k.Namespace, "calcom")
	def(&k.Release, "calcom")
	def(&k.IngressNamespace, "ingress-nginx")
	def(&k.TLS.IssuerKind, "ClusterIssuer")
	if k.TLS.Secret == "" && k.TLS.Issuer != "" && k.Release != "" {
		// cert-manager writes the certificate into this Secret
		k.TLS.Secret = k.Release + "-tls"
	}
	if k.Replicas.Web == 0 {
		k.Replicas.Web = 2
	}
	if k.Replicas.API == 0 {
		k.Replicas.API = 2
	}
	hpa := func(h *KubeAutoscaling, on string, replicas int) {
		def(&h.Enabled, on)
		if h.MinReplicas == 0 {
			h.MinReplicas = replicas
		}
		if h.MaxReplicas == 0 {
			// 3 × the minimum, within the 100 the rules allow (40 web
			// replicas must not default to an invalid maximum of 120)
			h.MaxReplicas = min(max(3*h.MinReplicas, h.MinReplicas), 100)
		}
		if h.TargetCPU == 0 {
			h.TargetCPU = 70
		}
	}
	hpa(&k.Autoscaling.Web, "true", k.Replicas.Web)
	hpa(&k.Autoscaling.API, "false", k.Replicas.API)
	res := func(r *KubeResources, rc, rm, lc, lm string) {
		def(&r.Requests.CPU, rc)
		def(&r.Requests.Memory, rm)
		def(&r.Limits.CPU, lc)
		def(&r.Limits.Memory, lm)
	}
	res(&k.Resources.Web, "500m", "1Gi", "2", "2Gi")
	res(&k.Resources.API, "250m", "512Mi", "1", "1Gi")
	res(&k.Resources.Database, "250m", "512Mi", "2", "2Gi")
	res(&k.Resources.Agent, "50m", "64Mi", "500m", "256Mi")
	res(&k.Resources.Jobs, "250m", "512Mi", "1", "2Gi")
	def(&k.DatabaseStorage, "20Gi")
	if len(k.DatabaseCIDRs) == 0 && a.Database.Mode != DBBundled {
		k.DatabaseCIDRs = []string{"0.0.0.0/0"}
	}
	def(&k.Backup.Schedule, "17 3 * * *")
	def(&k.Backup.Storage, "50Gi")
	if k.Backup.Keep == 0 {
		k.Backup.Keep = 7
	}
	def(&k.Cron, "true")
	def(&k.Timeout, "10m")
	if a.PublicURL != "" && k.APIHost == "" {
		if u, err := url.Parse(a.PublicURL); err == nil && u.Hostname() != "" {
			k.APIHost = "api." + u.Hostname()
		}
	}
}

var (
	// RFC 1123 label (namespaces) and RFC 1035 label (release names: Helm
	// requires them, and Service names derive from them).
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1035Label = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	// An image repository without tag or digest: host[:port]/path, lower case.
	imageRepo = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)+$`)
	quantity  = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$`)
	cronField = regexp.MustCompile(`^[0-9*/,-]+$`)
)

// QuantityValue parses the subset of Kubernetes quantities the answers
// accept into a number (cpu in cores, memory in bytes).
func QuantityValue(s string) (float64, bool) {
	m := quantity.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	mult := map[string]float64{"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}[m[3]]
	return v * mult, true
}

// validateKubernetes returns the problems of the kubernetes block; the
// rules keep every rendered object acceptable to the API server.
func (a *Answers) validateKubernetes() []Problem {
	var ps []Problem
	k := a.Kubernetes
	bad := func(path, msg, expected string) {
		ps = append(ps, Problem{Path: "kubernetes." + path, Message: msg, Expected: expected})
	}
	if len(k.Namespace) > 63 || !dns1123Label.MatchString(k.Namespace) {
		bad("namespace", fmt.Sprintf("%q is not a namespace name", k.Namespace), "lower-case letters, digits and -, at most 63 characters")
	} else if strings.HasPrefix(k.Namespace, "kube-") || k.Namespace == "default" {
		bad("namespace", fmt.Sprintf("%q is a system namespace", k.Namespace), "a namespace of its own, such as calcom")
	}
	if len(k.Release) > MaxReleaseLen || !dns1035Label.MatchString(k.Release) {
		bad("release", fmt.Sprintf("%q is not a release name", k.Release), fmt.Sprintf("a lower-case letter, then letters, digits and -, at most %d characters", MaxReleaseLen))
	}
	if k.Registry == "" {
		bad("registry", "missing", "the image repository calctl pushes the web image to, e.g. registry.example.com/calcom/web")
	} else if len(k.Registry) > 200 || !imageRepo.MatchString(k.Registry) {
		bad("registry", fmt.Sprintf("%q is not an image repository", k.Registry), "host[:port]/path in lower case, without tag or digest, e.g. registry.example.com/calcom/web")
	}
	for path, v := range map[string]string{"pull_secret": k.PullSecret, "ingress_class": k.IngressClass, "storage_class": k.StorageClass, "tls.issuer": k.TLS.Issuer, "tls.secret": k.TLS.Secret} {
		if v != "" && (len(v) > 253 || !dnsSubdomain.MatchString(v)) {
			bad(path, fmt.Sprintf("%q is not an object name", v), "lower-case letters, digits, - and .")
		}
	}
	if len(k.IngressNamespace) > 63 || !dns1123Label.MatchString(k.IngressNamespace) {
		bad("ingress_namespace", fmt.Sprintf("%q is not a namespace name", k.IngressNamespace), "the namespace of your ingress controller, e.g. ingress-nginx")
	}
	if u, err := url.Parse(a.PublicURL); err == nil && u.Hostname() != "" {
		if net.ParseIP(u.Hostname()) != nil || !dnsSubdomain.MatchString(u.Hostname()) || !strings.Contains(u.Hostname(), ".") {
			bad("(public_url)", fmt.Sprintf("%q cannot be an Ingress host", u.Hostname()), "a lower-case DNS name with a dot, such as cal.example.com (an Ingress host is never an IP address)")
		}
		if u.Scheme == "https" && k.TLS.Issuer == "" && k.TLS.Secret == "" {
			bad("tls", "public_url is https but no certificate source is given", "tls.issuer (a cert-manager issuer) or tls.secret (an existing TLS Secret)")
		}
	}
	if a.API.Enabled != "false" && k.APIHost != "" && (!dnsSubdomain.MatchString(k.APIHost) || !strings.Contains(k.APIHost, ".")) {
		bad("api_host", fmt.Sprintf("%q is not a host name", k.APIHost), "a lower-case DNS name such as api.cal.example.com")
	}
	switch k.TLS.IssuerKind {
	case "ClusterIssuer", "Issuer":
	default:
		bad("tls.issuer_kind", fmt.Sprintf("%q is not an issuer kind", k.TLS.IssuerKind), "ClusterIssuer or Issuer")
	}
	for path, r := range map[string]int{"replicas.web": k.Replicas.Web, "replicas.api": k.Replicas.API} {
		if r < 1 || r > 100 {
			bad(path, fmt.Sprintf("%d replicas", r), "1 to 100 (2 or more keeps the app up through a node drain)")
		}
	}
	for path, h := range map[string]KubeAutoscaling{"autoscaling.web": k.Autoscaling.Web, "autoscaling.api": k.Autoscaling.API} {
		if h.Enabled != "true" && h.Enabled != "false" {
			bad(path+".enabled", fmt.Sprintf("%q is not true or false", h.Enabled), "true or false")
		}
		if h.MinReplicas < 1 || h.MaxReplicas > 100 || h.MinReplicas > h.MaxReplicas {
			bad(path, fmt.Sprintf("min_replicas %d, max_replicas %d", h.MinReplicas, h.MaxReplicas), "1 <= min_replicas <= max_replicas <= 100")
		}
		if h.TargetCPU < 1 || h.TargetCPU > 100 {
			bad(path+".target_cpu", fmt.Sprintf("%d%%", h.TargetCPU), "1 to 100 (percent of the CPU request)")
		}
	}
	for name, r := range map[string]KubeResources{"web": k.Resources.Web, "api": k.Resources.API, "database": k.Resources.Database, "agent": k.Resources.Agent, "jobs": k.Resources.Jobs} {
		p := "resources." + name
		checkPair := func(kind, req, lim string) {
			rv, ok1 := QuantityValue(req)
			lv, ok2 := QuantityValue(lim)
			if !ok1 {
				bad(p+".requests."+kind, fmt.Sprintf("%q is not a quantity", req), "a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi")
			}
			if !ok2 {
				bad(p+".limits."+kind, fmt.Sprintf("%q is not a quantity", lim), "a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi")
			}
			if ok1 && ok2 && (rv <= 0 || rv > lv) {
				bad(p+".requests."+kind, fmt.Sprintf("request %s is zero or above the limit %s", req, lim), "0 < request <= limit")
			}
		}
		checkPair("cpu", r.Requests.CPU, r.Limits.CPU)
		checkPair("memory", r.Requests.Memory, r.Limits.Memory)
	}
	for path, q := range map[string]string{"database_storage": k.DatabaseStorage, "backup.storage": k.Backup.Storage} {
		if v, ok := QuantityValue(q); !ok || v < 1<<20 {
			bad(path, fmt.Sprintf("%q is not a storage size", q), "a size such as 20Gi")
		}
	}
	for i, c := range k.DatabaseCIDRs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			bad(fmt.Sprintf("database_cidrs[%d]", i), fmt.Sprintf("%q is not a CIDR", c), "an address range such as 10.0.0.0/16")
		}
	}
	if k.Backup.Enabled {
		if f := strings.Fields(k.Backup.Schedule); len(f) != 5 || !allMatch(f, cronField) {
			bad("backup.schedule", fmt.Sprintf("%q is not a cron schedule", k.Backup.Schedule), "five fields such as \"17 3 * * *\"")
		}
		if k.Backup.Keep < 1 || k.Backup.Keep > 365 {
			bad("backup.keep", fmt.Sprintf("%d", k.Backup.Keep), "1 to 365 dumps")
		}
	}
	if k.Cron != "true" && k.Cron != "false" {
		bad("cron", fmt.Sprintf("%q is not true or false", k.Cron), "true or false")
	}
	if d, err := time.ParseDuration(k.Timeout); err != nil || d < time.Minute {
		bad("timeout", fmt.Sprintf("%q is not a duration of at least 1m", k.Timeout), "a Go duration such as 10m")
	}
	if a.Proxy != ProxyNone {
		ps = append(ps, Problem{Path: "proxy", Message: "target kubernetes terminates TLS at the Ingress", Expected: "none (use kubernetes.tls)"})
	}
	return ps
}

func allMatch(fs []string, re *regexp.Regexp) bool {
	for _, f := range fs {
		if !re.MatchString(f) {
			return false
		}
	}
	return true
}
