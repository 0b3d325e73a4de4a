package collect

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/calctl/calctl/internal/composeload"
	"gopkg.in/yaml.v3"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/safefile"
)

// maxComposeFile bounds a compose file calctl reads (a real one is a few KiB).
const maxComposeFile = 4 << 20

// ParseCompose loads a compose file the way Compose does, with compose-go:
// YAML merge keys and anchors, `extends`, every profile, and ${VAR}
// interpolation from env (the project's .env). Secret values are reduced
// by Describe; line numbers come from the YAML nodes (a setting reached
// through a merge key points at the anchor that holds it).
//
// Compose's rules (compose-go is what `docker compose` v2 uses to load a
// project: github.com/compose-spec/compose-go, loader.LoadWithContext).
func ParseCompose(path string, data []byte, env map[string]string) (*checks.ComposeFacts, error) {
	return parseCompose(context.Background(), path, data, env)
}

func parseCompose(ctx context.Context, path string, data []byte, env map[string]string) (*checks.ComposeFacts, error) {
	if len(data) > maxComposeFile {
		return nil, fmt.Errorf("%s: larger than %d MiB; not a compose file calctl reads", path, maxComposeFile>>20)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	dir := filepath.Dir(abs)
	// yaml.v3 first: it refuses an anchor that contains itself in
	// microseconds, where compose-go walks it to its 100,000-node visit
	// limit, 5 s of CPU per load for 45 bytes (found by FuzzParseCompose;
	// testdata/fuzz/FuzzParseCompose).
	var probe any
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%s does not load as a compose file: %s", path, oneLine(err.Error()))
	}
	if err := vetComposeRefs(abs, data, env); err != nil {
		return nil, fmt.Errorf("%s: %s", path, oneLine(err.Error()))
	}
	mapping := types.Mapping{}
	for k, v := range env {
		mapping[k] = v
	}
	details := types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: abs, Content: data}},
		Environment: mapping,
	}
	load := func(resolveEnv bool) (*types.Project, error) {
		return composeload.Load(ctx, details, func(o *loader.Options) {
			o.Profiles = []string{"*"} // judge every service a profile could start
			o.SkipResolveEnvironment = !resolveEnv
			o.SkipConsistencyCheck = true
			if name := env["COMPOSE_PROJECT_NAME"]; name != "" {
				o.SetProjectName(loader.NormalizeProjectName(name), true)
			} else {
				o.SetProjectName(loader.NormalizeProjectName(filepath.Base(dir)), false)
			}
		})
	}
	p, err := load(true)
	if err != nil {
		// env_file entries that are missing or that compose-go cannot parse:
		// judge the rest, without their values.
		var err2 error
		if p, err2 = load(false); err2 != nil {
			return nil, fmt.Errorf("%s does not load as a compose file: %s", path, oneLine(err.Error()))
		}
	}
	lines := composeLines(data)
	cf := &checks.ComposeFacts{Path: path, Project: p.Name, Dir: dir}
	names := make([]string, 0, len(p.Services))
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		li, lj := lines.service(names[i]), lines.service(names[j])
		if li != lj {
			return li < lj
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		svc := p.Services[name]
		cf.Services = append(cf.Services, composeService(path, name, svc, lines))
	}
	return cf, nil
}

func composeService(path, name string, svc types.ServiceConfig, lines composeLineIndex) checks.ComposeService {
	line := func(key string) int { return lines.key(name, key) }
	s := checks.ComposeService{Name: name, Line: lines.service(name), Env: map[string]checks.EnvVar{},
		Image: svc.Image, ImageLine: line("image"), Build: svc.Build != nil, Privileged: svc.Privileged,
		User: svc.User, Restart: svc.Restart, ReadOnly: svc.ReadOnly, CapAdd: svc.CapAdd, CapDrop: svc.CapDrop,
		SecurityOpt: svc.SecurityOpt, NetworkMode: svc.NetworkMode, PID: svc.Pid, IpcMode: svc.Ipc, UTSMode: svc.Uts,
		Secrets: len(svc.Secrets) > 0, Profiles: svc.Profiles, Tmpfs: svc.Tmpfs}
	if s.Restart == "" && svc.Deploy != nil && svc.Deploy.RestartPolicy != nil {
		s.Restart = svc.Deploy.RestartPolicy.Condition
	}
	argv := append(append([]string{}, svc.Entrypoint...), svc.Command...)
	s.Command = strings.Join(RedactArgv(argv), " ")
	if hc := svc.HealthCheck; hc != nil && !hc.Disable && len(hc.Test) > 0 && hc.Test[0] != "NONE" {
		s.Healthcheck = true
	}
	if lg := svc.Logging; lg != nil {
		s.LogDriver = lg.Driver
		if len(lg.Options) > 0 {
			s.LogOpts = map[string]string{}
			for k, v := range lg.Options {
				s.LogOpts[k] = v
			}
		}
	}
	for _, k := range sortedKeys(svc.Environment) {
		v := svc.Environment[k]
		val := ""
		if v != nil {
			val = *v
		}
		// Written in the compose file (line > 0), or read from an env_file
		// (line 0: the value is not in the compose file, which CF-006 asks).
		s.Env[k] = Describe(path, lines.envKey(name, k), k, val)
	}
	portLines := lines.items(name, "ports")
	for i, pc := range svc.Ports {
		pb := checks.PortBinding{HostIP: pc.HostIP, HostPort: pc.Published, ContainerPort: strconv.Itoa(int(pc.Target))}
		if pc.Protocol != "" && pc.Protocol != "tcp" {
			pb.ContainerPort += "/" + pc.Protocol
		}
		if pb.HostPort == "" {
			pb.HostIP = "unpublished"
		}
		if i < len(portLines) {
			pb.Line = portLines[i]
		} else {
			pb.Line = line("ports")
		}
		s.Ports = append(s.Ports, pb)
	}
	for _, v := range svc.Volumes {
		s.Volumes = append(s.Volumes, v.Target)
		s.Mounts = append(s.Mounts, checks.Mount{Type: v.Type, Source: v.Source, Destination: v.Target, ReadOnly: v.ReadOnly})
	}
	s.Limits.MemoryBytes, s.Limits.CPUs, s.Limits.Pids = int64(svc.MemLimit), float64(svc.CPUS), svc.PidsLimit
	if d := svc.Deploy; d != nil && d.Resources.Limits != nil {
		l := d.Resources.Limits
		if s.Limits.MemoryBytes == 0 {
			s.Limits.MemoryBytes = int64(l.MemoryBytes)
		}
		if s.Limits.CPUs == 0 {
			s.Limits.CPUs = float64(l.NanoCPUs)
		}
		if s.Limits.Pids == 0 {
			s.Limits.Pids = l.Pids
		}
	}
	s.Role = serviceRole(s)
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// composeLineIndex finds line numbers in the compose file's YAML nodes:
// where each service starts and where its keys are (through merge keys).
type composeLineIndex struct {
	services map[string]*yaml.Node // the service's mapping node
	keys     map[string]*yaml.Node // the service's key node
}

func composeLines(data []byte) composeLineIndex {
	idx := composeLineIndex{services: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return idx
	}
	svcs := mapGet(doc.Content[0], "services")
	if svcs == nil || svcs.Kind != yaml.MappingNode {
		return idx
	}
	for i := 0; i+1 < len(svcs.Content); i += 2 {
		idx.keys[svcs.Content[i].Value] = svcs.Content[i]
		idx.services[svcs.Content[i].Value] = deref(svcs.Content[i+1])
	}
	return idx
}

func (x composeLineIndex) service(name string) int {
	if k := x.keys[name]; k != nil {
		return k.Line
	}
	return 0
}

// value returns the node of key in the service, following merge keys.
func (x composeLineIndex) value(name, key string) (*yaml.Node, *yaml.Node) {
	return mapGetMerged(x.services[name], key, 0)
}

func (x composeLineIndex) key(name, key string) int {
	if k, _ := x.value(name, key); k != nil {
		return k.Line
	}
	return x.service(name)
}

func (x composeLineIndex) items(name, key string) []int {
	_, v := x.value(name, key)
	if v == nil || v.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]int, len(v.Content))
	for i, it := range v.Content {
		out[i] = it.Line
	}
	return out
}

func (x composeLineIndex) envKey(name, env string) int {
	_, v := x.value(name, "environment")
	if v == nil {
		return 0
	}
	switch v.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(v.Content); i += 2 {
			if v.Content[i].Value == env {
				return v.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		for _, it := range v.Content {
			if k, _, _ := strings.Cut(it.Value, "="); k == env {
				return it.Line
			}
		}
	}
	return 0
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// mapGetMerged looks key up in a mapping, then in its `<<` merges.
func mapGetMerged(n *yaml.Node, key string, depth int) (*yaml.Node, *yaml.Node) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 8 {
		return nil, nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case key:
			return n.Content[i], deref(n.Content[i+1])
		case "<<":
			v := deref(n.Content[i+1])
			if v != nil && v.Kind == yaml.SequenceNode {
				merges = append(merges, v.Content...)
			} else {
				merges = append(merges, v)
			}
		}
	}
	for _, m := range merges {
		if k, v := mapGetMerged(m, key, depth+1); k != nil {
			return k, v
		}
	}
	return nil, nil
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
	lname := strings.ToLower(name)
	switch {
	case strings.Contains(cmd, "prisma studio") || strings.Contains(lname, "studio"):
		return "studio"
	case strings.Contains(img, "calcom-api") || strings.Contains(img, "cal.com-api") || strings.HasSuffix(lname, "api") || strings.HasSuffix(lname, "api-1"):
		return "api"
	case strings.Contains(img, "calcom/cal.com") || strings.Contains(img, "cal.com") || strings.Contains(img, "calcom"):
		return "app"
	case strings.Contains(img, "redis"):
		return "redis"
	case strings.Contains(img, "postgres"):
		return "db"
	}
	for _, k := range envKeys {
		if strings.HasPrefix(k, "POSTGRES_") || k == "PGDATA" {
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

func mapGet(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
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

// readRegular reads a file calctl takes from an install through
// internal/safefile: a regular file (a FIFO named .env once hung check
// forever) of at most max bytes, opened non-blocking.
func readRegular(path string, max int64) ([]byte, error) {
	return safefile.ReadFile(path, max)
}

// RedactArgv returns a command line fit for Facts (issue 11 item 4: raw
// compose `command:` and container Cmd once stored `--password X`):
// redact.Argv's rules, without recording a report.
func RedactArgv(argv []string) []string {
	return redact.New(redact.Options{}).Argv("", argv)
}
