// Package kubeinstall is `calctl install` and `calctl render` for target
// kubernetes: it maps the answers onto the charts of installer/kubechart,
// keeps the release Secret (read back from the cluster or from the install
// directory's 0600 manifest, generated only when neither has it), builds
// and pushes the web image, and installs or upgrades the releases through
// installer/kuberelease. Its steps run on installer's Engine and emit the
// same events as the compose and pm2 targets.
package kubeinstall

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/kubechart"
)

// Config maps validated answers (after Finish) onto the charts' input.
// webImage is the pushed image pinned by digest; routes are the cron
// routes found in the clone.
func Config(a *contract.Answers, repo installer.Repo, webImage string, routes []kubechart.CronRoute) kubechart.Config {
	k := a.Kubernetes
	pub := a.PublicURLClean()
	u, _ := url.Parse(pub)
	res := func(r contract.KubeResources) kubechart.Resources {
		return kubechart.Resources{
			Requests: kubechart.ResourceList{CPU: r.Requests.CPU, Memory: r.Requests.Memory},
			Limits:   kubechart.ResourceList{CPU: r.Limits.CPU, Memory: r.Limits.Memory},
		}
	}
	hpa := func(h contract.KubeAutoscaling) kubechart.Autoscaling {
		return kubechart.Autoscaling{Enabled: h.Enabled == "true", MinReplicas: h.MinReplicas, MaxReplicas: h.MaxReplicas, TargetCPU: h.TargetCPU}
	}
	apiOn := repo.HasAPI && a.API.Enabled != "false" || a.API.Enabled == "true"
	c := kubechart.Config{
		Release: k.Release, Namespace: k.Namespace, PublicURL: pub, AppVersion: shortCommit(repo.Commit),
		Images: kubechart.Images{Web: webImage, Calctl: a.Images.Calctl, Postgres: a.Images.Postgres},
		Web: kubechart.Workload{Enabled: true, Port: a.Web.Port, Replicas: k.Replicas.Web,
			Autoscaling: hpa(k.Autoscaling.Web), Resources: res(k.Resources.Web)},
		API: kubechart.Workload{Enabled: apiOn, Port: a.API.Port, Replicas: k.Replicas.API,
			Autoscaling: hpa(k.Autoscaling.API), Resources: res(k.Resources.API)},
		APIDir: repo.APIDir,
		Ingress: kubechart.Ingress{Enabled: true, ClassName: k.IngressClass, Host: u.Hostname(), ControllerNamespace: k.IngressNamespace,
			TLS: kubechart.TLS{Enabled: u.Scheme == "https", SecretName: k.TLS.Secret}},
		StorageClass: k.StorageClass,
		Database: kubechart.Database{Mode: a.Database.Mode, Port: 5432, EgressCIDRs: k.DatabaseCIDRs,
			CACert: a.Database.CAFile != "", Name: a.Database.Name, User: a.Database.User,
			Storage: k.DatabaseStorage, Resources: res(k.Resources.Database)},
		Migrate: kubechart.Migrate{Enabled: !a.Migrate.Skip, Command: a.Migrate.Command, TimeoutSeconds: 1800},
		Agent: kubechart.Agent{Enabled: a.Billing.Endpoint != "", Config: agentConfig(a), Storage: "1Gi",
			BillingPort: billingPort(a.Billing.Endpoint), Resources: res(k.Resources.Agent)},
		Cron:         kubechart.Cron{Routes: routes, Resources: res(k.Resources.Jobs)},
		Backup:       kubechart.Backup{Enabled: k.Backup.Enabled, Schedule: k.Backup.Schedule, Storage: k.Backup.Storage, Keep: k.Backup.Keep},
		JobResources: res(k.Resources.Jobs),
	}
	if k.Cron != "true" {
		c.Cron.Routes = nil
	}
	if c.APIDir == "" {
		c.APIDir = "apps/api/v1"
	}
	if apiOn {
		c.Ingress.APIHost = k.APIHost
	}
	if k.TLS.Issuer != "" {
		if k.TLS.IssuerKind == "Issuer" {
			c.Ingress.TLS.Issuer = k.TLS.Issuer
		} else {
			c.Ingress.TLS.ClusterIssuer = k.TLS.Issuer
		}
	}
	if k.PullSecret != "" {
		c.PullSecrets = []string{k.PullSecret}
	}
	if a.Email.Host != "" {
		c.EmailPort = a.Email.Port
	}
	return c
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func billingPort(endpoint string) int {
	u, err := url.Parse(endpoint)
	if err != nil {
		return 443
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if u.Scheme == "http" {
		return 80
	}
	return 443
}

// agentConfig is the agent's agent.yaml as the pod sees it: secrets are
// files from the Secret, state on the PVC (templates/files/install/agent.yaml.tmpl
// has the same keys for compose).
func agentConfig(a *contract.Answers) string {
	if a.Billing.Endpoint == "" {
		return ""
	}
	b := a.Billing
	return "deployment_id: " + b.DeploymentID + "\n" +
		"endpoint: " + b.Endpoint + "\n" +
		"live_since: " + b.LiveSince + "\n" +
		"interval: " + b.Interval + "\n" +
		"token_file: /etc/calctl/secrets/token\n" +
		"signing_secret_file: /etc/calctl/secrets/signing_secret\n" +
		"database_url_env: DATABASE_URL\n" +
		"env_file: /etc/calctl/secrets/cal.env\n" +
		"state_dir: /var/lib/calctl\n"
}

var routeFile = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// CronRoutes finds Cal.com's cron routes in the clone: files under
// apps/web/pages/api/cron/ and directories with a route.ts under
// apps/web/app/api/cron/ (calcom-facts.md §9 "Cron"). Each gets a CronJob
// every 15 minutes, the interval Cal.com's docs suggest for reminders.
func CronRoutes(srcDir, release string) []kubechart.CronRoute {
	seen := map[string]bool{}
	var paths []string
	if es, err := os.ReadDir(filepath.Join(srcDir, "apps/web/pages/api/cron")); err == nil {
		for _, e := range es {
			n := strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".ts"), ".js")
			if !e.IsDir() && n != e.Name() && routeFile.MatchString(n) && !strings.HasPrefix(n, "_") {
				paths = append(paths, n)
			}
		}
	}
	if es, err := os.ReadDir(filepath.Join(srcDir, "apps/web/app/api/cron")); err == nil {
		for _, e := range es {
			if _, err := os.Stat(filepath.Join(srcDir, "apps/web/app/api/cron", e.Name(), "route.ts")); e.IsDir() && err == nil && routeFile.MatchString(e.Name()) {
				paths = append(paths, e.Name())
			}
		}
	}
	sort.Strings(paths)
	var out []kubechart.CronRoute
	maxName := 52 - len(release) - len("-cron-")
	for _, p := range paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, kubechart.CronRoute{Name: routeName(p, maxName), Path: "/api/cron/" + p, Schedule: "*/15 * * * *"})
	}
	return out
}

// RoutesFor is the cron routes to schedule: the tree's own schedule when
// the clone gives one (installer.Repo.CronJobs: the workflows and
// vercel.json that call each route, with its method and auth, as the
// compose and pm2 targets run them), else every route found in the clone
// every 15 minutes (CronRoutes).
func RoutesFor(repo installer.Repo, srcDir, release string) []kubechart.CronRoute {
	if len(repo.CronJobs) == 0 {
		return CronRoutes(srcDir, release)
	}
	maxName := 52 - len(release) - len("-cron-")
	seen := map[string]int{}
	var out []kubechart.CronRoute
	for _, j := range repo.CronJobs {
		name := routeName(strings.TrimPrefix(j.Path, "/api/cron/"), maxName)
		// one route on two schedules needs two CronJob names
		n := seen[name]
		seen[name]++
		if n > 0 {
			suffix := "-" + strconv.Itoa(n+1)
			if len(name)+len(suffix) > maxName {
				name = strings.TrimRight(name[:maxName-len(suffix)], "-")
			}
			name += suffix
		}
		out = append(out, kubechart.CronRoute{Name: name, Path: j.Path, Schedule: j.Schedule, Method: j.Method, Auth: j.Auth})
	}
	return out
}

// routeName is a DNS label for route p within max characters.
func routeName(p string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(p) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	n := strings.Trim(b.String(), "-")
	if len(n) > max {
		n = strings.TrimRight(n[:max], "-")
	}
	if n == "" {
		n = "route"
	}
	return n
}
