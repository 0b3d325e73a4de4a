package installer

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/calctl/calctl/internal/composeload"
)

// LoadCompose loads a rendered docker-compose.yml with compose-go, the
// Compose Specification's reference loader, as `docker compose` would, and
// then checks calctl's own rules on the result. dir is the project directory.
func LoadCompose(ctx context.Context, dir, project string, data []byte) (*types.Project, error) {
	details := types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: "docker-compose.yml", Content: data}},
		Environment: types.Mapping{},
	}
	p, err := composeload.Load(ctx, details, func(o *loader.Options) {
		// env files are rendered beside the compose file but may not be written yet
		o.SkipResolveEnvironment = true
		o.SetProjectName(project, true)
	})
	if err != nil {
		return nil, fmt.Errorf("docker-compose.yml does not load with compose-go: %w", err)
	}
	if err := checkComposeRules(p); err != nil {
		return p, err
	}
	return p, nil
}

// checkComposeRules enforces what calctl promises about its compose files.
func checkComposeRules(p *types.Project) error {
	var errs []string
	for name, s := range p.Services {
		if s.Restart != "unless-stopped" {
			errs = append(errs, fmt.Sprintf("service %s: restart is %q, want unless-stopped", name, s.Restart))
		}
		if s.Build != nil {
			// a secret-named build arg may appear only by name (its value then
			// comes from the project's .env at build time), never with a value
			// written into docker-compose.yml
			for k, v := range s.Build.Args {
				K := strings.ToUpper(k)
				if v != nil && (strings.Contains(K, "SECRET") || strings.Contains(K, "KEY") || strings.Contains(K, "PASSWORD") || strings.Contains(K, "DATABASE_URL")) {
					errs = append(errs, fmt.Sprintf("service %s: secret %s written as a build arg value", name, k))
				}
			}
		}
	}
	if db, ok := p.Services["database"]; ok {
		if len(db.Ports) > 0 {
			errs = append(errs, "service database publishes a port on the host")
		}
		img := db.Image
		if strings.HasSuffix(img, ":latest") || !strings.Contains(path.Base(img), ":") {
			errs = append(errs, fmt.Sprintf("service database: image %q is not pinned to a major", img))
		}
		if db.HealthCheck == nil || len(db.HealthCheck.Test) < 2 || !strings.Contains(strings.Join(db.HealthCheck.Test, " "), "pg_isready") {
			errs = append(errs, "service database has no pg_isready healthcheck")
		}
		named := false
		for _, v := range db.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Target == "/var/lib/postgresql/data" {
				named = true
			}
		}
		if !named {
			errs = append(errs, "service database keeps its data outside a named volume")
		}
	}
	if _, proxied := p.Services["proxy"]; proxied {
		for _, name := range []string{"web", "api"} {
			if s, ok := p.Services[name]; ok {
				for _, port := range s.Ports {
					if port.HostIP != "127.0.0.1" {
						errs = append(errs, fmt.Sprintf("service %s: port %d is published on %q behind a proxy; want 127.0.0.1", name, port.Target, port.HostIP))
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("docker-compose.yml breaks calctl's rules: %s", strings.Join(errs, "; "))
	}
	return nil
}
