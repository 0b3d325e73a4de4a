package preflight

import (
	"context"
	"fmt"
)

// dockerCheck: the Docker engine answers and meets Constraints["docker"].
var dockerCheck = Check{
	Name:    "docker",
	Applies: func(in *Input) bool { return in.Target == "compose" },
	Run: func(ctx context.Context, in *Input) []Finding {
		if in.Docker == nil {
			return []Finding{{Severity: Error, Message: "no Docker client", Remedy: "install Docker Engine 20.10 or newer"}}
		}
		v, err := in.Docker.ServerVersion(ctx)
		if err != nil {
			return []Finding{{Severity: Error, Message: fmt.Sprintf("the Docker engine at %s does not answer: %v", in.DockerHost, err),
				Remedy: "start Docker (systemctl start docker), check DOCKER_HOST, and make sure this user may use the socket (docker group or root)"}}
		}
		ok, err := Satisfies("docker", v.Version)
		if err != nil {
			return []Finding{{Severity: Warning, Message: fmt.Sprintf("cannot read Docker version %q: %v", v.Version, err)}}
		}
		if !ok {
			c := Constraints["docker"]
			return []Finding{{Severity: Error, Message: fmt.Sprintf("Docker %s does not satisfy %s (%s)", v.Version, c.Range, c.Why),
				Remedy: "upgrade Docker Engine: https://docs.docker.com/engine/install/"}}
		}
		return nil
	},
}
