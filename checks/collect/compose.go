package collect

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/calctl/calctl/checks"
)

// ParseCompose reads a compose file's services, expanding ${VAR} from env.
// Secret values are reduced by Describe; only line numbers and names remain.
func ParseCompose(path string, data []byte, env map[string]string) (*checks.ComposeFacts, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cf := &checks.ComposeFacts{Path: path}
	if len(doc.Content) == 0 {
		return cf, nil
	}
	root := doc.Content[0]
	services := mapGet(root, "services")
	if services == nil || services.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: no services: mapping", path)
	}
	for i := 0; i+1 < len(services.Content); i += 2 {
		name, node := services.Content[i].Value, services.Content[i+1]
		s := checks.ComposeService{Name: name, Line: services.Content[i].Line, Env: map[string]checks.EnvVar{}}
		exp := func(v string) string { return expand(v, env) }
		if n := mapGet(node, "image"); n != nil {
			s.Image, s.ImageLine = exp(n.Value), n.Line
		}
		s.Build = mapGet(node, "build") != nil
		s.Privileged = scalarBool(mapGet(node, "privileged"))
		s.ReadOnly = scalarBool(mapGet(node, "read_only"))
		s.User = exp(scalar(mapGet(node, "user")))
		s.Restart = exp(scalar(mapGet(node, "restart")))
		s.NetworkMode = scalar(mapGet(node, "network_mode"))
		s.PID = scalar(mapGet(node, "pid"))
		s.Command = strings.Join(scalars(mapGet(node, "command")), " ")
		s.CapAdd = scalars(mapGet(node, "cap_add"))
		s.CapDrop = scalars(mapGet(node, "cap_drop"))
		s.SecurityOpt = scalars(mapGet(node, "security_opt"))
		s.Secrets = mapGet(node, "secrets") != nil
		if hc := mapGet(node, "healthcheck"); hc != nil && !scalarBool(mapGet(hc, "disable")) {
			s.Healthcheck = true
		}
		if lg := mapGet(node, "logging"); lg != nil {
			s.LogDriver = scalar(mapGet(lg, "driver"))
		}
		if env := mapGet(node, "environment"); env != nil {
			switch env.Kind {
			case yaml.MappingNode:
				for j := 0; j+1 < len(env.Content); j += 2 {
					k := env.Content[j].Value
					s.Env[k] = Describe(path, env.Content[j].Line, k, exp(env.Content[j+1].Value))
				}
			case yaml.SequenceNode:
				for _, it := range env.Content {
					k, v, _ := strings.Cut(it.Value, "=")
					s.Env[k] = Describe(path, it.Line, k, exp(v))
				}
			}
		}
		if ps := mapGet(node, "ports"); ps != nil {
			for _, p := range ps.Content {
				s.Ports = append(s.Ports, parsePort(p, exp))
			}
		}
		if vs := mapGet(node, "volumes"); vs != nil {
			for _, v := range vs.Content {
				if v.Kind == yaml.MappingNode {
					s.Volumes = append(s.Volumes, scalar(mapGet(v, "target")))
					continue
				}
				parts := strings.Split(exp(v.Value), ":")
				if len(parts) >= 2 {
					s.Volumes = append(s.Volumes, parts[1])
				} else {
					s.Volumes = append(s.Volumes, parts[0])
				}
			}
		}
		s.Role = serviceRole(s)
		cf.Services = append(cf.Services, s)
	}
	return cf, nil
}

func parsePort(p *yaml.Node, exp func(string) string) checks.PortBinding {
	if p.Kind == yaml.MappingNode {
		return checks.PortBinding{HostIP: scalar(mapGet(p, "host_ip")), HostPort: exp(scalar(mapGet(p, "published"))),
			ContainerPort: exp(scalar(mapGet(p, "target"))), Line: p.Line}
	}
	v := exp(p.Value)
	pb := checks.PortBinding{Line: p.Line}
	// [ip:]host:container[/proto]; IPv6 ips are bracketed.
	if strings.HasPrefix(v, "[") {
		if i := strings.Index(v, "]:"); i > 0 {
			pb.HostIP, v = v[1:i], v[i+2:]
		}
	}
	parts := strings.Split(v, ":")
	switch len(parts) {
	case 1:
		pb.ContainerPort = parts[0]
		pb.HostIP = "unpublished"
	case 2:
		pb.HostPort, pb.ContainerPort = parts[0], parts[1]
	default:
		pb.HostIP, pb.HostPort, pb.ContainerPort = strings.Join(parts[:len(parts)-2], ":"), parts[len(parts)-2], parts[len(parts)-1]
	}
	return pb
}

func serviceRole(s checks.ComposeService) string {
	envKeys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		envKeys = append(envKeys, k)
	}
	var ports []string
	for _, p := range s.Ports {
		ports = append(ports, portOnly(p.ContainerPort))
	}
	return Role(s.Name, s.Image, s.Command, envKeys, ports)
}

func portOnly(p string) string {
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

// Role tags a container or service: db, app, api, studio, redis or "".
func Role(name, image, cmd string, envKeys, ports []string) string {
	img := strings.ToLower(image)
	switch {
	case strings.Contains(cmd, "prisma studio") || strings.Contains(strings.ToLower(name), "studio"):
		return "studio"
	case strings.Contains(img, "calcom-api") || strings.Contains(img, "cal.com-api") || strings.HasSuffix(strings.ToLower(name), "api"):
		return "api"
	case strings.Contains(img, "calcom/cal.com") || strings.Contains(img, "cal.com") || strings.Contains(img, "calcom"):
		return "app"
	case strings.Contains(img, "redis"):
		return "redis"
	case strings.Contains(img, "postgres"):
		return "db"
	}
	for _, k := range envKeys {
		if strings.HasPrefix(k, "POSTGRES_") {
			return "db"
		}
		if k == "NEXTAUTH_SECRET" || k == "CALENDSO_ENCRYPTION_KEY" {
			return "app"
		}
	}
	for _, p := range ports {
		if p == "3000" {
			return "app"
		}
	}
	return ""
}

var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expand performs compose-style ${VAR}, ${VAR:-default} and $VAR expansion.
func expand(s string, env map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	s = strings.ReplaceAll(s, "$$", "\x00")
	s = varRE.ReplaceAllStringFunc(s, func(m string) string {
		g := varRE.FindStringSubmatch(m)
		name := g[1]
		if name == "" {
			name = g[4]
		}
		v, ok := env[name]
		if !ok {
			v, ok = os.LookupEnv(name)
		}
		switch g[2] {
		case ":-":
			if v == "" {
				return g[3]
			}
		case "-":
			if !ok {
				return g[3]
			}
		case ":+":
			if v != "" {
				return g[3]
			}
			return ""
		}
		return v
	})
	return strings.ReplaceAll(s, "\x00", "$")
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func scalarBool(n *yaml.Node) bool {
	s := strings.ToLower(scalar(n))
	return s == "true" || s == "yes" || s == "on"
}

func scalars(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if n.Value == "" {
			return nil
		}
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		if c.Kind == yaml.ScalarNode {
			out = append(out, c.Value)
		}
	}
	return out
}
