package collect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/redact"
)

// DockerClient returns o.DockerClient or one from the environment.
func DockerClient(o Options) (*client.Client, bool, error) {
	if o.DockerClient != nil {
		return o.DockerClient, false, nil
	}
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	return c, true, err
}

// ListContainers lists containers (all states) with the label filter.
func ListContainers(ctx context.Context, cli *client.Client, label string) ([]container.Summary, error) {
	args := filters.NewArgs()
	if label != "" {
		args.Add("label", label)
	}
	return cli.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
}

// Compose labels set by docker compose (v2) and docker-compose (v1.29) on
// every container of a project.
const (
	labelProject    = "com.docker.compose.project"
	labelService    = "com.docker.compose.service"
	labelWorkingDir = "com.docker.compose.project.working_dir"
	labelConfig     = "com.docker.compose.project.config_files"
)

// dockerResult is what the Docker collector hands to the Postgres collector
// (never stored in Facts): the addresses of the targeted containers.
type dockerResult struct {
	// addrs maps a compose service name and a container name to the
	// container's address on its first network with one.
	addrs map[string]string
}

func collectDocker(ctx context.Context, f *checks.Facts, o Options, compose *checks.ComposeFacts, out *dockerResult) error {
	cli, owned, err := DockerClient(o)
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	if owned {
		defer cli.Close()
	}
	if _, err := cli.Ping(ctx); err != nil {
		if o.DockerOptional {
			return skipf("the Docker daemon does not answer (%v)", err)
		}
		return fmt.Errorf("the Docker daemon does not answer: %w", err)
	}
	d := &checks.DockerFacts{}
	info, err := cli.Info(ctx)
	if err != nil {
		return fmt.Errorf("docker info: %w", err)
	}
	d.Warnings, d.SecurityOptions, d.LiveRestore, d.LoggingDriver = info.Warnings, info.SecurityOptions, info.LiveRestoreEnabled, info.LoggingDriver
	if v, err := cli.ServerVersion(ctx); err == nil {
		d.EngineVersion, d.APIVersion = v.Version, v.APIVersion
	}
	if nw, err := cli.NetworkInspect(ctx, "bridge", network.InspectOptions{}); err == nil {
		if v, ok := nw.Options["com.docker.network.bridge.enable_icc"]; ok {
			icc := v != "false"
			d.ICC = &icc
		}
	}
	daemonPosture(cli.DaemonHost(), d)
	all, err := ListContainers(ctx, cli, o.ContainerLabel)
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	list, scope, err := target(all, o, compose)
	if err != nil {
		return err
	}
	d.Scope = scope
	engine := all
	if o.ContainerLabel != "" {
		if engine, err = ListContainers(ctx, cli, ""); err != nil {
			return fmt.Errorf("list containers: %w", err)
		}
	}
	d.LogShippers = logShippers(engine, cli.DaemonHost())
	if o.ContainerLabel == "" {
		d.Other = len(all) - len(list)
	}
	f.Docker = d
	if out.addrs == nil {
		out.addrs = map[string]string{}
	}
	for _, s := range list {
		c, addr, err := inspectContainer(ctx, cli, s.ID)
		if err != nil {
			return err
		}
		if addr != "" {
			out.addrs[c.Name] = addr
			if c.Service != "" {
				out.addrs[c.Service] = addr
			}
		}
		d.Containers = append(d.Containers, c)
	}
	sort.Slice(d.Containers, func(i, j int) bool { return d.Containers[i].Name < d.Containers[j].Name })
	return nil
}

// target picks the containers to judge: the install's compose project (by
// its labels: working directory or config file, else project name), unless
// --container-label or --all-containers says otherwise. Judging every
// container on a shared engine reported other projects' containers as the
// install's (222 of 263 rows on one host).
func target(all []container.Summary, o Options, compose *checks.ComposeFacts) ([]container.Summary, string, error) {
	switch {
	case o.ContainerLabel != "":
		return all, "label " + o.ContainerLabel, nil
	case o.AllContainers:
		return all, "all", nil
	case compose == nil:
		if o.Profile == "pm2" || o.PM2File != "" {
			return nil, "", skipf("a pm2 install runs no containers")
		}
		return nil, "", skipf("no compose install to aim at: pass --dir of a compose install (or --compose-file), --container-label k=v, or --all-containers")
	}
	absCompose, _ := filepath.Abs(compose.Path)
	var byDir, byName []container.Summary
	for _, c := range all {
		l := c.Labels
		if l[labelProject] == "" {
			continue
		}
		if l[labelWorkingDir] != "" || l[labelConfig] != "" {
			if samePath(l[labelWorkingDir], compose.Dir) || configHas(l[labelConfig], absCompose) {
				byDir = append(byDir, c)
			}
			continue
		}
		// compose versions without the working-dir labels: the project name.
		if l[labelProject] == compose.Project {
			byName = append(byName, c)
		}
	}
	list := append(byDir, byName...)
	name := compose.Project
	if len(list) > 0 {
		name = list[0].Labels[labelProject]
	}
	return list, fmt.Sprintf("project %s (%s)", name, compose.Dir), nil
}

func samePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ra, e1 := filepath.EvalSymlinks(a)
	rb, e2 := filepath.EvalSymlinks(b)
	return e1 == nil && e2 == nil && ra == rb
}

func configHas(list, file string) bool {
	for _, p := range strings.Split(list, ",") {
		if samePath(strings.TrimSpace(p), file) {
			return true
		}
	}
	return false
}

func inspectContainer(ctx context.Context, cli *client.Client, id string) (checks.Container, string, error) {
	j, err := cli.ContainerInspect(ctx, id)
	if err != nil {
		return checks.Container{}, "", fmt.Errorf("inspect %s: %w", id[:12], err)
	}
	c := checks.Container{ID: j.ID[:12], Name: strings.TrimPrefix(j.Name, "/"), RestartCount: j.RestartCount, PlainEnv: map[string]string{},
		AppArmor: j.AppArmorProfile}
	addr := ""
	if j.NetworkSettings != nil {
		nets := make([]string, 0, len(j.NetworkSettings.Networks))
		for n := range j.NetworkSettings.Networks {
			nets = append(nets, n)
		}
		sort.Strings(nets)
		for _, n := range nets {
			if ip := j.NetworkSettings.Networks[n].IPAddress; ip != "" && addr == "" {
				addr = ip
			}
		}
	}
	if j.Config != nil {
		argv := append(append([]string{}, j.Config.Entrypoint...), j.Config.Cmd...)
		c.Image, c.User, c.Cmd = j.Config.Image, j.Config.User, strings.Join(RedactArgv(argv), " ")
		c.Project, c.Service = j.Config.Labels[labelProject], j.Config.Labels[labelService]
		if hc := j.Config.Healthcheck; hc != nil && len(hc.Test) > 0 && hc.Test[0] != "NONE" {
			c.Healthcheck = true
		}
		for p := range j.Config.ExposedPorts {
			c.ExposedPorts = append(c.ExposedPorts, string(p))
		}
		sort.Strings(c.ExposedPorts)
	}
	if j.State != nil {
		c.State = j.State.Status
		if j.State.Health != nil {
			c.Health = j.State.Health.Status
		}
	}
	if h := j.HostConfig; h != nil {
		c.Privileged, c.ReadonlyRootfs = h.Privileged, h.ReadonlyRootfs
		c.RestartPolicy = string(h.RestartPolicy.Name)
		c.LogDriver, c.LogOpts = h.LogConfig.Type, h.LogConfig.Config
		c.CapAdd, c.CapDrop, c.SecurityOpt = h.CapAdd, h.CapDrop, h.SecurityOpt
		c.NetworkMode, c.PidMode, c.IpcMode, c.UTSMode = string(h.NetworkMode), string(h.PidMode), string(h.IpcMode), string(h.UTSMode)
		c.Limits = checks.Limits{MemoryBytes: h.Memory, CPUs: float64(h.NanoCPUs) / 1e9}
		if h.CPUQuota > 0 && h.CPUPeriod > 0 && c.Limits.CPUs == 0 {
			c.Limits.CPUs = float64(h.CPUQuota) / float64(h.CPUPeriod)
		}
		if h.PidsLimit != nil && *h.PidsLimit > 0 {
			c.Limits.Pids = *h.PidsLimit
		}
		for p := range h.Tmpfs {
			c.Tmpfs = append(c.Tmpfs, p)
		}
		sort.Strings(c.Tmpfs)
	}
	if j.NetworkSettings != nil {
		for port, bs := range j.NetworkSettings.Ports {
			for _, b := range bs {
				c.Ports = append(c.Ports, checks.PortBinding{HostIP: b.HostIP, HostPort: b.HostPort, ContainerPort: string(port)})
			}
		}
	}
	if len(c.Ports) == 0 && j.HostConfig != nil {
		// Not running: the bindings it will publish when started.
		for port, bs := range j.HostConfig.PortBindings {
			for _, b := range bs {
				c.Ports = append(c.Ports, checks.PortBinding{HostIP: b.HostIP, HostPort: b.HostPort, ContainerPort: string(port)})
			}
		}
	}
	{
		sort.Slice(c.Ports, func(a, b int) bool {
			return c.Ports[a].ContainerPort+c.Ports[a].HostIP < c.Ports[b].ContainerPort+c.Ports[b].HostIP
		})
	}
	for _, m := range j.Mounts {
		c.Mounts = append(c.Mounts, checks.Mount{Type: string(m.Type), Source: m.Source, Destination: m.Destination, ReadOnly: !m.RW})
	}
	secrets := map[string]string{} // key -> value, only to search the image; never stored
	var envKeys, ports []string
	if j.Config != nil {
		for _, kv := range j.Config.Env {
			k, v, _ := strings.Cut(kv, "=")
			envKeys = append(envKeys, k)
			switch {
			case strings.HasSuffix(k, "_FILE"):
				c.FileEnvKeys = append(c.FileEnvKeys, k)
			case redact.IsSecretKey(k) || hasURLPassword(v):
				if v != "" {
					c.SecretEnvKeys = append(c.SecretEnvKeys, k)
					secrets[k] = v
				}
			case plainEnvKeys[k]:
				c.PlainEnv[k] = v
			}
		}
	}
	sort.Strings(c.SecretEnvKeys)
	for _, p := range c.Ports {
		ports = append(ports, portOnly(p.ContainerPort))
	}
	c.Role = Role(c.Name, c.Image, c.Cmd, envKeys, ports)
	if c.State == "running" {
		if top, err := cli.ContainerTop(ctx, id, nil); err == nil {
			col := -1
			for i, t := range top.Titles {
				if t == "UID" || t == "USER" {
					col = i
				}
			}
			seen := map[string]bool{}
			for _, p := range top.Processes {
				if col >= 0 && col < len(p) && !seen[p[col]] {
					seen[p[col]] = true
					c.ProcessUsers = append(c.ProcessUsers, p[col])
				}
			}
			sort.Strings(c.ProcessUsers)
		}
	}
	c.SecretsInImage = secretsInImage(ctx, cli, j.Image, secrets)
	return c, addr, nil
}

// secretsInImage names the secret env keys whose values also appear in the
// image's own env or build history (build args leak there).
func secretsInImage(ctx context.Context, cli *client.Client, imageID string, secrets map[string]string) []string {
	if len(secrets) == 0 {
		return nil
	}
	var hay []string
	if ii, err := cli.ImageInspect(ctx, imageID); err == nil && ii.Config != nil {
		hay = append(hay, ii.Config.Env...)
	}
	if hist, err := cli.ImageHistory(ctx, imageID); err == nil {
		for _, h := range hist {
			hay = append(hay, h.CreatedBy)
		}
	}
	all := strings.Join(hay, "\n")
	var out []string
	for k, v := range secrets {
		if len(v) >= 6 && strings.Contains(all, v) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// plainEnvKeys are the only container env values kept in Facts (the checks
// need them); every other value is dropped, secret-named or not.
var plainEnvKeys = map[string]bool{"PGDATA": true, "NODE_VERSION": true, "POSTGRES_HOST_AUTH_METHOD": true, "NODE_ENV": true,
	"POSTGRES_DB": true, "POSTGRES_USER": true, "PG_MAJOR": true, "PG_VERSION": true}

// shipperNames are log shippers: images and process names (fluentd,
// Fluent Bit, Vector, Promtail, Grafana Agent/Alloy, Filebeat, Logstash,
// the Datadog and Splunk agents, the OpenTelemetry Collector, logspout).
var shipperNames = []string{"fluentd", "fluent-bit", "td-agent", "vector", "promtail", "grafana-agent", "alloy", "filebeat",
	"logstash", "datadog-agent", "splunk", "otelcol", "opentelemetry-collector", "logspout", "nxlog"}

func isShipper(s string) string {
	s = strings.ToLower(s)
	for _, n := range shipperNames {
		if strings.Contains(s, n) {
			return n
		}
	}
	return ""
}

// logShippers finds what ships logs off this host: running containers of
// shipper images on the engine, and shipper processes when the daemon is
// on this host.
func logShippers(all []container.Summary, host string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, c := range all {
		if c.State != "running" {
			continue
		}
		if n := isShipper(c.Image); n != "" {
			add(fmt.Sprintf("container %s (%s)", strings.TrimPrefix(firstName(c), "/"), c.Image))
		}
	}
	if strings.HasPrefix(host, "unix://") {
		ents, _ := os.ReadDir(procRoot)
		for _, e := range ents {
			if e.Name()[0] < '0' || e.Name()[0] > '9' {
				continue
			}
			b, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "comm"))
			if err != nil {
				continue
			}
			if n := isShipper(strings.TrimSpace(string(b))); n != "" {
				add("process " + strings.TrimSpace(string(b)))
			}
		}
	}
	sort.Strings(out)
	return out
}

func firstName(c container.Summary) string {
	if len(c.Names) > 0 {
		return c.Names[0]
	}
	return c.ID[:12]
}
