package installer

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

// dockerClient returns the run's Docker client, made once from DOCKER_HOST
// (via State.Getenv) or the default socket.
func (s *State) dockerClient() (*client.Client, string, error) {
	host := ""
	if s.Getenv != nil {
		host = s.Getenv("DOCKER_HOST")
	}
	if s.docker != nil {
		return s.docker, s.dockerHost, nil
	}
	opts := []client.Opt{client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	} else {
		host = client.DefaultDockerHost
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, host, fmt.Errorf("docker client for %s: %w", host, err)
	}
	s.docker, s.dockerHost = cli, host
	return cli, host, nil
}

// projectContainers lists the containers of the compose project, by service.
func projectContainers(ctx context.Context, cli *client.Client, project string) ([]container.Summary, error) {
	f := filters.NewArgs(filters.Arg("label", "com.docker.compose.project="+project))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	sort.Slice(cs, func(i, j int) bool { return serviceOf(cs[i]) < serviceOf(cs[j]) })
	return cs, nil
}

func serviceOf(c container.Summary) string { return c.Labels["com.docker.compose.service"] }

func containerName(c container.Summary) string {
	if len(c.Names) > 0 {
		return strings.TrimPrefix(c.Names[0], "/")
	}
	return c.ID[:12]
}

// serviceContainer finds the running container of one service.
func serviceContainer(ctx context.Context, cli *client.Client, project, service string) (container.Summary, error) {
	cs, err := projectContainers(ctx, cli, project)
	if err != nil {
		return container.Summary{}, err
	}
	for _, c := range cs {
		if serviceOf(c) == service && c.State == "running" {
			return c, nil
		}
	}
	return container.Summary{}, fmt.Errorf("no running %s container in compose project %s", service, project)
}
