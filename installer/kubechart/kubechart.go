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
	Path   string
	Data   []byte
	Mode   fs.FileMode
	Secret bool
}

// Config is what the charts are rendered from. It is built from the
// installer's answers; every value has already been validated there.
type Config struct {
	Release     string
	Namespace   string
	PublicURL   string
	AppVersion  string // Cal.com commit or tag the image was built from
	Images      Images
	PullSecrets []string
	Web         Workload
	API         Workload
	// APIDir is the API app's directory in the monorepo (apps/api/v1).
	APIDir       string
	Ingress      Ingress
	StorageClass string
	Database     Database
	Migrate      Migrate
	Agent        Agent
	Cron         Cron
	Backup       Backup
	// EmailPort is the SMTP port the app may reach (0: no mail).
	EmailPort    int
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
	Enabled     bool
	Port        int
	Replicas    int
	Autoscaling Autoscaling
	Resources   Resources
}

// Autoscaling configures a HorizontalPodAutoscaler on CPU.
type Autoscaling struct {
	Enabled     bool
	MinReplicas int
	MaxReplicas int
	TargetCPU   int
}

// Resources are a container's requests and limits.
type Resources struct {
	Requests ResourceList `yaml:"requests"`
	Limits   ResourceList `yaml:"limits"`
}

// ResourceList is cpu and memory as Kubernetes quantities.
type ResourceList struct {
	CPU    string `yaml:"cpu,omitempty"`
	Memory string `yaml:"memory,omitempty"`
}

// Ingress configures the Ingress and its TLS.
type Ingress struct {
	Enabled   bool
	ClassName string
	Host      string
	APIHost   string
	// ControllerNamespace is where the ingress controller runs: the only
	// namespace allowed to reach web and api.
	ControllerNamespace string
	TLS                 TLS
}

// TLS says where the Ingress certificate comes from: a cert-manager
// (Cluster)Issuer, or an existing Secret named SecretName.
type TLS struct {
	Enabled       bool
	ClusterIssuer string
	Issuer        string
	SecretName    string
}

// Database says where Postgres is.
type Database struct {
	Mode        string // bundled, external, rds
	Port        int
	EgressCIDRs []string
	CACert      bool // the Secret holds db-ca.pem
	Name, User  string
	Storage     string
	Resources   Resources
}

// Migrate configures the migrations hook.
type Migrate struct {
	Enabled        bool
	Command        []string
	TimeoutSeconds int
}

// Agent configures the usage agent.
type Agent struct {
	Enabled     bool
	Config      string // agent.yaml (no secrets)
	Storage     string
	BillingPort int
	Resources   Resources
}

// Cron configures the CronJobs that call Cal.com's cron routes.
type Cron struct {
	Routes    []CronRoute
	Resources Resources
}

// CronRoute is one cron route of the web app.
type CronRoute struct {
	Name     string `yaml:"name"`
	Path     string `yaml:"path"`
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
	Enabled  bool
	Schedule string
	Storage  string
	Keep     int
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
