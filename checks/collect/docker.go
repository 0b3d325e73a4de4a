package collect

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
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

func collectDocker(ctx context.Context, f *checks.Facts, o Options) error {
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
	f.Docker = d
	info, err := cli.Info(ctx)
	if err != nil {
		return fmt.Errorf("docker info: %w", err)
	}
	d.Warnings, d.SecurityOptions, d.LiveRestore, d.LoggingDriver = info.Warnings, info.SecurityOptions, info.LiveRestoreEnabled, info.LoggingDriver
	if v, err := cli.ServerVersion(ctx); err == nil {
		d.EngineVersion, d.APIVersion = v.Version, v.APIVersion
	}
	list, err := ListContainers(ctx, cli, o.ContainerLabel)
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	for _, s := range list {
		c, err := inspectContainer(ctx, cli, s.ID)
		if err != nil {
			return err
		}
		d.Containers = append(d.Containers, c)
	}
	sort.Slice(d.Containers, func(i, j int) bool { return d.Containers[i].Name < d.Containers[j].Name })
	return nil
}

func inspectContainer(ctx context.Context, cli *client.Client, id string) (checks.Container, error) {
	j, err := cli.ContainerInspect(ctx, id)
	if err != nil {
		return checks.Container{}, fmt.Errorf("inspect %s: %w", id[:12], err)
	}
	c := checks.Container{ID: j.ID[:12], Name: strings.TrimPrefix(j.Name, "/"), RestartCount: j.RestartCount, PlainEnv: map[string]string{}}
	if j.Config != nil {
		c.Image, c.User, c.Cmd = j.Config.Image, j.Config.User, strings.Join(j.Config.Cmd, " ")
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
		c.Mounts = append(c.Mounts, checks.Mount{Type: string(m.Type), Source: m.Source, Destination: m.Destination})
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
	return c, nil
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
