package installer

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// The compose file is built as Go values and encoded with yaml.v3: no
// answer is ever pasted into YAML text, so no value can add a key, a
// service or a line (issue 11 item 8). Every string is escaped for Compose
// interpolation ($ -> $$) before encoding. To give a service one more
// option, add a field here (with omitempty) and set it in composeFileFor.

type composeFile struct {
	Services map[string]*composeService `yaml:"services"`
	Volumes  map[string]composeVolume   `yaml:"volumes,omitempty"`
}

type composeVolume struct{}

type composeService struct {
	Image       string                      `yaml:"image,omitempty"`
	Build       *composeBuild               `yaml:"build,omitempty"`
	WorkingDir  string                      `yaml:"working_dir,omitempty"`
	Command     []string                    `yaml:"command,omitempty"`
	Restart     string                      `yaml:"restart,omitempty"`
	EnvFile     []string                    `yaml:"env_file,omitempty"`
	Environment map[string]string           `yaml:"environment,omitempty"`
	Ports       []string                    `yaml:"ports,omitempty"`
	Volumes     []composeMount              `yaml:"volumes,omitempty"`
	DependsOn   map[string]composeCondition `yaml:"depends_on,omitempty"`
	Healthcheck *composeHealthcheck         `yaml:"healthcheck,omitempty"`
	User        string                      `yaml:"user,omitempty"`
	ReadOnly    bool                        `yaml:"read_only,omitempty"`
	Tmpfs       []string                    `yaml:"tmpfs,omitempty"`
	CapDrop     []string                    `yaml:"cap_drop,omitempty"`
	CapAdd      []string                    `yaml:"cap_add,omitempty"`
	SecurityOpt []string                    `yaml:"security_opt,omitempty"`
	MemLimit    string                      `yaml:"mem_limit,omitempty"`
	CPUs        float64                     `yaml:"cpus,omitempty"`
	PidsLimit   int                         `yaml:"pids_limit,omitempty"`
	Logging     *composeLogging             `yaml:"logging,omitempty"`
}

// composeLogging is a service's log driver and its options.
type composeLogging struct {
	Driver  string            `yaml:"driver"`
	Options map[string]string `yaml:"options,omitempty"`
}

// serviceLimits are a service's resource limits (DK-018..DK-020; CIS Docker
// 5.11, 5.12, 5.29): a runaway or compromised container must not starve the
// database next to it.
type serviceLimits struct {
	Mem  string  // mem_limit, e.g. "2g"
	CPUs float64 // cpus; never above 1 so the file starts on a 1-CPU host (the engine refuses more CPUs than it has)
	Pids int     // pids_limit
}

// Limits of each service calctl renders. Sized for one clinic's Cal.com:
// the web app (Next.js, one Node process) and Postgres get the most; the
// calctl services are one small Go process each. Postgres forks one
// process per connection (max_connections defaults to 100), hence its
// PIDs limit.
var (
	limitsWeb      = serviceLimits{Mem: "2g", CPUs: 1, Pids: 512}
	limitsAPI      = serviceLimits{Mem: "1g", CPUs: 1, Pids: 256}
	limitsDatabase = serviceLimits{Mem: "1g", CPUs: 1, Pids: 512}
	limitsProxy    = serviceLimits{Mem: "256m", CPUs: 0.5, Pids: 128}
	limitsCalctl   = serviceLimits{Mem: "128m", CPUs: 0.25, Pids: 64}
)

// harden applies what every rendered service gets (issue 13 item 5;
// docs/checks.md "What the rendered install satisfies"):
// no-new-privileges and every capability dropped (DK-011; add back only
// what the service needs, with cap_add), the limits (DK-018..DK-020) and
// json-file logs rotated at 10 MB × 5 (DK-021; Docker's json-file
// options max-size/max-file, docs.docker.com/engine/logging/drivers/json-file/).
// The user, read_only and tmpfs are per service: they depend on the image.
func harden(s *composeService, l serviceLimits, capAdd ...string) {
	s.SecurityOpt = []string{"no-new-privileges:true"}
	s.CapDrop = []string{"ALL"}
	s.CapAdd = capAdd
	s.MemLimit, s.CPUs, s.PidsLimit = l.Mem, l.CPUs, l.Pids
	s.Logging = &composeLogging{Driver: "json-file", Options: map[string]string{"max-size": "10m", "max-file": "5"}}
}

type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
	// Network is the network the build's RUN steps join: the project
	// network, when the build needs the database (docker@566bf10:
	// docker-compose.yaml `build: network: stack`).
	Network string `yaml:"network,omitempty"`
	// Args are build arguments named without a value: Compose takes the
	// value from the project's .env (docker-compose v1
	// compose/config/config.py resolve_build_args), so no secret is
	// written into docker-compose.yml.
	Args []string `yaml:"args,omitempty"`
}

// composeMount is the long volume syntax (compose file format 3.2+), so a
// path with ":" or "," stays one path.
type composeMount struct {
	Type     string `yaml:"type"`
	Source   string `yaml:"source"`
	Target   string `yaml:"target"`
	ReadOnly bool   `yaml:"read_only,omitempty"`
}

type composeCondition struct {
	Condition string `yaml:"condition"`
}

type composeHealthcheck struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period,omitempty"`
}

func bind(src, dst string) composeMount {
	return composeMount{Type: "bind", Source: src, Target: dst, ReadOnly: true}
}

// escapeDollars doubles every $ of every string reachable from v, so
// Compose interpolation leaves the values as written.
func escapeDollars(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			escapeDollars(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			escapeDollars(v.Field(i))
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			escapeDollars(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if e.Kind() == reflect.String {
				v.SetMapIndex(k, reflect.ValueOf(strings.ReplaceAll(e.String(), "$", "$$")))
				continue
			}
			if e.Kind() == reflect.Pointer {
				escapeDollars(e)
			}
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(strings.ReplaceAll(v.String(), "$", "$$"))
		}
	}
}

// encode renders the compose file with a header comment.
func (c *composeFile) encode(header string) ([]byte, error) {
	escapeDollars(reflect.ValueOf(c))
	var buf bytes.Buffer
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		buf.WriteString(strings.TrimRight("# "+l, " ") + "\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode docker-compose.yml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
