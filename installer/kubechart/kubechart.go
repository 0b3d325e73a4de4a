// Package kubechart renders calctl's Helm charts for Cal.com on Kubernetes
// into files: the app chart (chart/calcom: web, API, ingress, migrations
// hook, usage agent, cron routes, backups, network policies), the bundled
// database chart (chart/calcom-postgres) when asked, and the Secret
// manifest (secrets/<release>-secrets.yaml, mode 0600) that holds every
// secret. Secrets never go into values.yaml or a ConfigMap: the charts name
// the Secret and calctl applies it before Helm runs.
//
// The templates are ordinary Helm templates embedded from charts/; the
// values.yaml is generated from Config, so a user can also install the
// rendered chart with their own helm. Render does no I/O and links neither
// Helm nor client-go.
package kubechart

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed all:charts
var charts embed.FS

// File is one rendered file, its path relative to the install directory.
type File struct {
	// Path is slash-separated, relative to the install directory
	// ("chart/calcom/values.yaml", "secrets/<release>-secrets.yaml").
	Path string
	// Data is the file's content.
	Data []byte
	// Mode is the permission bits to write it with (0644, 0600 for the
	// Secret manifest).
	Mode fs.FileMode
	// Secret is true for the Secret manifest: keep it private, mask it in
	// diffs.
	Secret bool
}

// Config is what the charts are rendered from. It is built from the
// installer's answers; every value has already been validated there.
type Config struct {
	// Release is the Helm release name (kubernetes.release); every object
	// name derives from it.
	Release string
	// Namespace is where the release and its Secret go
	// (kubernetes.namespace).
	Namespace string
	// PublicURL is the app's public URL (answers public_url): the pods'
	// NEXT_PUBLIC_WEBAPP_URL, and NEXTAUTH_URL with /api/auth appended.
	PublicURL  string
	AppVersion string // Cal.com commit or tag the image was built from
	// Images are the images the pods run.
	Images Images
	// PullSecrets name existing docker-registry Secrets for
	// imagePullSecrets (kubernetes.pull_secret); nil for none.
	PullSecrets []string
	// Web is the web Deployment (always enabled).
	Web Workload
	// API is the API v1 Deployment; Enabled when the tree has it and
	// api.enabled is not false, or api.enabled is true.
	API Workload
	// APIDir is the API app's directory in the monorepo (apps/api/v1).
	APIDir string
	// Ingress is the one Ingress in front of web and API.
	Ingress Ingress
	// StorageClass is every PVC's storageClassName; "" uses the cluster
	// default.
	StorageClass string
	// Database says where Postgres is and, when bundled, how to run it.
	Database Database
	// Migrate is the pre-install/pre-upgrade migrations hook Job.
	Migrate Migrate
	// Agent is the usage agent Deployment (enabled with a billing
	// endpoint).
	Agent Agent
	// Cron are the CronJobs that call Cal.com's cron routes.
	Cron Cron
	// Backup is the nightly pg_dump CronJob.
	Backup Backup
	// EmailPort is the SMTP port the app may reach (0: no mail).
	EmailPort int
	// JobResources are the migrate and backup Jobs' container resources
	// (kubernetes.resources.jobs).
	JobResources Resources
	// SecretChecksum changes when any Secret value changes; pod templates
	// carry it so a changed secret rolls the pods.
	SecretChecksum string
}

// Images are the container images the charts run.
type Images struct {
	Web      string // the Cal.com image, pinned by digest (repo@sha256:...)
	Calctl   string // the usage agent
	Postgres string // bundled database, migration guard, backups
}

// Workload configures the web or API Deployment.
type Workload struct {
	// Enabled renders the Deployment, Service and HPA.
	Enabled bool
	// Port is the container and Service port (answers web.port or
	// api.port; web defaults to 3000).
	Port int
	// Replicas is the Deployment's replicas when autoscaling is off.
	Replicas int
	// Autoscaling is the HPA on CPU.
	Autoscaling Autoscaling
	// Resources are the container's requests and limits.
	Resources Resources
}

// Autoscaling configures a HorizontalPodAutoscaler on CPU.
type Autoscaling struct {
	// Enabled renders the HPA (kubernetes.autoscaling.*.enabled "true").
	Enabled bool
	// MinReplicas is the HPA's minReplicas.
	MinReplicas int
	// MaxReplicas is the HPA's maxReplicas.
	MaxReplicas int
	// TargetCPU is the target average CPU utilisation, in percent of the
	// CPU request.
	TargetCPU int
}

// Resources are a container's requests and limits.
type Resources struct {
	// Requests is what the scheduler reserves.
	Requests ResourceList `yaml:"requests"`
	// Limits is the ceiling.
	Limits ResourceList `yaml:"limits"`
}

// ResourceList is cpu and memory as Kubernetes quantities.
type ResourceList struct {
	// CPU is in cores ("500m", "2"); "" leaves it unset.
	CPU string `yaml:"cpu,omitempty"`
	// Memory is in bytes with a suffix ("512Mi", "1Gi"); "" leaves it unset.
	Memory string `yaml:"memory,omitempty"`
}

// Ingress configures the Ingress and its TLS.
type Ingress struct {
	// Enabled renders the Ingress (always, from kubeinstall).
	Enabled bool
	// ClassName is ingressClassName (kubernetes.ingress_class); "" uses
	// the cluster's default class.
	ClassName string
	// Host is PublicURL's host name, routed to web.
	Host string
	// APIHost is the API's host name (kubernetes.api_host); "" (or the
	// API disabled) leaves the API off the Ingress.
	APIHost string
	// ControllerNamespace is where the ingress controller runs: the only
	// namespace allowed to reach web and api.
	ControllerNamespace string
	// TLS is the Ingress certificate.
	TLS TLS
}

// TLS says where the Ingress certificate comes from: a cert-manager
// (Cluster)Issuer, or an existing Secret named SecretName.
type TLS struct {
	// Enabled adds the tls: section (PublicURL is https).
	Enabled bool
	// ClusterIssuer names a cert-manager ClusterIssuer (annotation
	// cert-manager.io/cluster-issuer); "" when none.
	ClusterIssuer string
	// Issuer names a namespaced cert-manager Issuer (annotation
	// cert-manager.io/issuer); "" when none.
	Issuer string
	// SecretName is the kubernetes.io/tls Secret the Ingress serves:
	// cert-manager's target with an issuer, else an existing Secret.
	SecretName string
}

// Database says where Postgres is.
type Database struct {
	Mode string // bundled, external, rds
	// Port is the database's TCP port (5432 from kubeinstall), allowed by
	// the egress NetworkPolicy.
	Port int
	// EgressCIDRs are where an external/RDS database may be reached
	// (kubernetes.database_cidrs); unused when bundled, where the policy
	// selects the database pods instead.
	EgressCIDRs []string
	CACert      bool // the Secret holds db-ca.pem
	// Name and User are the bundled database's name and role (answers
	// database.name and database.user).
	Name, User string
	// Storage is the bundled database's PVC size
	// (kubernetes.database_storage).
	Storage string
	// Resources are the bundled Postgres container's.
	Resources Resources
}

// Migrate configures the migrations hook.
type Migrate struct {
	// Enabled renders the hook (answers migrate.skip false).
	Enabled bool
	// Command is the migration argv run in the web image from /calcom
	// (answers migrate.command; default `npx prisma migrate deploy`).
	Command []string
	// TimeoutSeconds is the Job's activeDeadlineSeconds (1800 from
	// kubeinstall).
	TimeoutSeconds int
}

// Agent configures the usage agent.
type Agent struct {
	// Enabled renders the agent (answers billing.endpoint set).
	Enabled bool
	Config  string // agent.yaml (no secrets)
	// Storage is the agent's state PVC size ("1Gi" from kubeinstall).
	Storage string
	// BillingPort is the endpoint's TCP port (443 unless the URL names
	// one), the agent's only egress.
	BillingPort int
	// Resources are the agent container's.
	Resources Resources
}

// Cron configures the CronJobs that call Cal.com's cron routes.
type Cron struct {
	// Routes are one CronJob each; nil when kubernetes.cron is false.
	Routes []CronRoute
	// Resources are each cron Job's container resources
	// (kubernetes.resources.jobs).
	Resources Resources
}

// CronRoute is one cron route of the web app.
type CronRoute struct {
	// Name is a DNS label for the route; the CronJob is
	// <release>-cron-<name>.
	Name string `yaml:"name"`
	// Path is the route's URL path on the web Service
	// ("/api/cron/<route>").
	Path string `yaml:"path"`
	// Schedule is the CronJob's five-field schedule.
	Schedule string `yaml:"schedule"`
	// Method is GET or POST ("" is GET).
	Method string `yaml:"method,omitempty"`
	// Auth is how the route checks its caller, internal/cronjob's
	// vocabulary: "api_key" (`authorization: <CRON_API_KEY>`, the default)
	// or "bearer" (`authorization: Bearer <CRON_SECRET>`; the Secret's
	// .env sets CRON_SECRET to the same key).
	Auth string `yaml:"auth,omitempty"`
}

// Backup configures the pg_dump CronJob.
type Backup struct {
	// Enabled renders the CronJob and its backups PVC.
	Enabled bool
	// Schedule is the CronJob's five-field schedule.
	Schedule string
	// Storage is the backups PVC size.
	Storage string
	// Keep is how many newest dumps the Job keeps.
	Keep int
}

// UIDs the pods run as: node's "node" user in the Node images, postgres
// in the alpine Postgres images, and nonroot for the FROM-scratch calctl
// image (which has no user of its own).
const (
	NodeUID     = 1000
	PostgresUID = 70
	CalctlUID   = 65532
)

// Chart directories inside the install directory.
const (
	AppChartDir      = "chart/calcom"
	DatabaseChartDir = "chart/calcom-postgres"
)

// SecretName is the one Secret of a release.
func SecretName(release string) string { return release + "-secrets" }

// DatabaseRelease is the release (and Service) name of the bundled database.
func DatabaseRelease(release string) string { return release + "-postgres" }

// SecretPath is where the Secret manifest is kept in the install directory.
func SecretPath(release string) string { return "secrets/" + release + "-secrets.yaml" }

// Render renders the charts (and nothing secret) for c.
func Render(c Config) ([]File, error) {
	var out []File
	app, err := chartFiles("charts/calcom", AppChartDir, chartYAML("calcom", "Cal.com, rendered by calctl from your answers", c.AppVersion), appValues(c))
	if err != nil {
		return nil, err
	}
	out = append(out, app...)
	if c.Database.Mode == "bundled" {
		db, err := chartFiles("charts/calcom-postgres", DatabaseChartDir, chartYAML("calcom-postgres", "The bundled Postgres of a calctl Cal.com install", c.AppVersion), dbValues(c))
		if err != nil {
			return nil, err
		}
		out = append(out, db...)
	}
	return out, nil
}

func chartYAML(name, desc, appVersion string) []byte {
	if appVersion == "" {
		appVersion = "unknown"
	}
	return fmt.Appendf(nil, `# Generated by calctl. Install it with calctl, or with your own helm:
# see README.md next to this file.
apiVersion: v2
name: %s
description: %s
type: application
version: 1.0.0
appVersion: %q
kubeVersion: ">=1.27.0-0"
`, name, desc, appVersion)
}

func chartFiles(src, dst string, chartYAML, values []byte) ([]File, error) {
	out := []File{
		{Path: dst + "/Chart.yaml", Data: chartYAML, Mode: 0o644},
		{Path: dst + "/values.yaml", Data: values, Mode: 0o644},
	}
	err := fs.WalkDir(charts, src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := charts.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, File{Path: dst + "/" + strings.TrimPrefix(p, src+"/"), Data: b, Mode: 0o644})
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

type autoscalingValues struct {
	Enabled     bool `yaml:"enabled"`
	MinReplicas int  `yaml:"minReplicas"`
	MaxReplicas int  `yaml:"maxReplicas"`
	TargetCPU   int  `yaml:"targetCPUUtilizationPercentage"`
}

type workloadValues struct {
	Enabled     bool              `yaml:"enabled"`
	Dir         string            `yaml:"dir,omitempty"`
	Port        int               `yaml:"port"`
	Replicas    int               `yaml:"replicas"`
	UID         int               `yaml:"uid"`
	Autoscaling autoscalingValues `yaml:"autoscaling"`
	Resources   Resources         `yaml:"resources"`
}

func workload(w Workload, dir string) workloadValues {
	return workloadValues{Enabled: w.Enabled, Dir: dir, Port: w.Port, Replicas: w.Replicas, UID: NodeUID,
		Autoscaling: autoscalingValues{Enabled: w.Autoscaling.Enabled, MinReplicas: w.Autoscaling.MinReplicas,
			MaxReplicas: w.Autoscaling.MaxReplicas, TargetCPU: w.Autoscaling.TargetCPU},
		Resources: w.Resources}
}

func appValues(c Config) []byte {
	type m = map[string]any
	agentConfig := c.Agent.Config
	if agentConfig == "" {
		agentConfig = "{}"
	}
	// Ordered YAML: a yaml.Node keeps the order a reader expects.
	v := []kv{
		{"publicURL", c.PublicURL},
		{"image", []kv{{"web", c.Images.Web}, {"calctl", c.Images.Calctl}, {"postgres", c.Images.Postgres}}},
		{"imagePullSecrets", nonNil(c.PullSecrets)},
		{"postgresUID", PostgresUID},
		{"secret", []kv{{"name", SecretName(c.Release)}, {"checksum", c.SecretChecksum}}},
		{"web", workload(c.Web, "")},
		{"api", workload(c.API, c.APIDir)},
		{"ingress", []kv{{"enabled", c.Ingress.Enabled}, {"className", c.Ingress.ClassName}, {"host", c.Ingress.Host},
			{"apiHost", c.Ingress.APIHost}, {"controllerNamespace", c.Ingress.ControllerNamespace},
			{"tls", []kv{{"enabled", c.Ingress.TLS.Enabled}, {"clusterIssuer", c.Ingress.TLS.ClusterIssuer},
				{"issuer", c.Ingress.TLS.Issuer}, {"secretName", c.Ingress.TLS.SecretName}}}}},
		{"storageClass", c.StorageClass},
		{"database", []kv{{"mode", c.Database.Mode}, {"port", c.Database.Port}, {"egressCIDRs", nonNil(c.Database.EgressCIDRs)}, {"caCert", c.Database.CACert}}},
		{"migrate", []kv{{"enabled", c.Migrate.Enabled}, {"command", nonNil(c.Migrate.Command)}, {"timeoutSeconds", c.Migrate.TimeoutSeconds}}},
		{"jobResources", c.JobResources},
		{"agent", []kv{{"enabled", c.Agent.Enabled}, {"uid", CalctlUID}, {"storage", c.Agent.Storage}, {"billingPort", c.Agent.BillingPort},
			{"resources", c.Agent.Resources}, {"config", agentConfig}}},
		{"cron", []kv{{"routes", nonNilRoutes(c.Cron.Routes)}, {"resources", c.Cron.Resources}}},
		{"backup", []kv{{"enabled", c.Backup.Enabled}, {"schedule", c.Backup.Schedule}, {"storage", c.Backup.Storage}, {"keep", c.Backup.Keep}}},
		{"email", m{"port": c.EmailPort}},
	}
	return valuesFile(v)
}

func dbValues(c Config) []byte {
	v := []kv{
		{"appRelease", c.Release},
		{"image", c.Images.Postgres},
		{"imagePullSecrets", nonNil(c.PullSecrets)},
		{"uid", PostgresUID},
		{"user", c.Database.User},
		{"database", c.Database.Name},
		{"storage", c.Database.Storage},
		{"storageClass", c.StorageClass},
		{"resources", c.Database.Resources},
		{"secret", []kv{{"name", SecretName(c.Release)}, {"checksum", c.SecretChecksum}}},
	}
	return valuesFile(v)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilRoutes(s []CronRoute) []CronRoute {
	if s == nil {
		return []CronRoute{}
	}
	return s
}

// kv is one key of an ordered YAML mapping.
type kv struct {
	k string
	v any
}

func toNode(v any) *yaml.Node {
	if list, ok := v.([]kv); ok {
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, e := range list {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: e.k}, toNode(e.v))
		}
		return n
	}
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		panic(err) // only plain values reach here
	}
	return n
}

func valuesFile(v []kv) []byte {
	var buf bytes.Buffer
	buf.WriteString("# Generated by calctl from your answers: change the answers and run `calctl render`\n" +
		"# again rather than editing this file. It holds no secret: the pods read them from the\n" +
		"# Secret named under secret.name, which calctl applies before installing this chart.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(toNode(v)); err != nil {
		panic(err)
	}
	_ = enc.Close()
	return buf.Bytes()
}

// Checksum is the sha256 of the secret values in key order; it reveals
// nothing of them.
func Checksum(data map[string][]byte) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%d:", k, len(data[k]))
		h.Write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SecretManifest is the Secret holding every secret of the release, as a
// manifest calctl applies (server-side) and keeps in the install directory
// with mode 0600, like .env. Values are base64 in data, so they round-trip
// byte for byte.
func SecretManifest(release, namespace string, data map[string][]byte) File {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, `# Generated by calctl. Holds secrets: keep it mode 0600 and out of git.
# calctl applies it before the chart; re-renders keep every value byte for byte.
apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: %s
  labels:
    app.kubernetes.io/name: calcom
    app.kubernetes.io/instance: %s
    app.kubernetes.io/managed-by: calctl
    app.kubernetes.io/part-of: calcom
type: Opaque
data:
`, SecretName(release), namespace, release)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %s\n", k, b64(data[k]))
	}
	return File{Path: SecretPath(release), Data: []byte(b.String()), Mode: 0o600, Secret: true}
}

// ParseSecretManifest reads back the data of a manifest SecretManifest wrote.
func ParseSecretManifest(b []byte) (map[string][]byte, error) {
	var m struct {
		Kind string            `yaml:"kind"`
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("secret manifest: %w", err)
	}
	if m.Kind != "Secret" {
		return nil, fmt.Errorf("secret manifest: kind %q, want Secret", m.Kind)
	}
	out := make(map[string][]byte, len(m.Data))
	for k, v := range m.Data {
		d, err := unb64(v)
		if err != nil {
			return nil, fmt.Errorf("secret manifest: key %s: %w", k, err)
		}
		out[k] = d
	}
	return out, nil
}

// ChartFiles lists the embedded template files of the app chart (for docs
// and tests).
func ChartFiles() []string {
	var out []string
	_ = fs.WalkDir(charts, "charts", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path.Clean(p))
		}
		return nil
	})
	return out
}
