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
	ReadOnly    bool                        `yaml:"read_only,omitempty"`
	CapDrop     []string                    `yaml:"cap_drop,omitempty"`
	SecurityOpt []string                    `yaml:"security_opt,omitempty"`
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
