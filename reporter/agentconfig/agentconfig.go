// Package agentconfig reads the usage agent's configuration file
// (default /etc/calctl/agent.yaml) and the secrets and database URL it
// points to. Unknown keys are refused, as is a config or secret file that
// group or others can read. Secrets come from files or the environment,
// never from the command line.
package agentconfig

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/safefile"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/strictyaml"
)

// DefaultPath is where the agent looks for its configuration.
const DefaultPath = "/etc/calctl/agent.yaml"

// Defaults.
const (
	DefaultStateDir = "/var/lib/calctl"
	DefaultInterval = 6 * time.Hour
	DefaultGrace    = 72 * time.Hour
)

// Environment variables that may hold the secrets instead of files.
const (
	TokenEnv         = "CALCTL_TOKEN"
	SigningSecretEnv = "CALCTL_SIGNING_SECRET"
)

// Config is the agent configuration.
type Config struct {
	// Path is the file it was read from ("" for defaults only).
	Path string
	// DeploymentID is deployment_id: the id the billing side gave this
	// deployment (letters, digits, '_', '-', '.'; required).
	DeploymentID string
	// Endpoint is endpoint: the billing base URL reports are POSTed to
	// (+ /v1/usage-reports); "" allows only --dry-run and --export.
	Endpoint string
	// TokenFile is token_file: the file holding the deployment's Bearer
	// token (mode 0600 or stricter); "" reads TokenEnv instead.
	TokenFile string
	// SigningSecretFile is signing_secret_file: the file holding the HMAC
	// key of X-Calctl-Signature; "" reads SigningSecretEnv instead.
	SigningSecretFile string
	// TokenEnv and SigningSecretEnv name the environment variables read
	// when no file is configured (default CALCTL_TOKEN and
	// CALCTL_SIGNING_SECRET).
	TokenEnv string
	// SigningSecretEnv is signing_secret_env (see TokenEnv).
	SigningSecretEnv string
	// DatabaseURLEnv names the variable holding the database URL, in
	// EnvFile when set, else in the process environment.
	DatabaseURLEnv string
	// EnvFile is Cal.com's .env file.
	EnvFile string
	// StateDir is state_dir: the outbox, watermarks and billing views
	// (default /var/lib/calctl).
	StateDir string
	// LiveSince is when the deployment went live; months ending before it
	// are not billed. Zero means live from the start.
	LiveSince time.Time
	// Interval is interval: time between counts (default 6h, at least 1s).
	Interval time.Duration
	// Grace is grace: how long after a month's end its final report is
	// sent (default 72h).
	Grace time.Duration
	// CAFile is ca_file: a PEM bundle trusted for the endpoint in
	// addition to the system roots; "" means the system roots only.
	CAFile string
}

// Keys are the allowed configuration keys, in documentation order.
var Keys = []string{"deployment_id", "endpoint", "token_file", "signing_secret_file", "database_url_env", "env_file",
	"state_dir", "live_since", "interval", "grace", "ca_file", "token_env", "signing_secret_env"}

// Default returns the configuration used when no file is given.
func Default() Config {
	return Config{StateDir: DefaultStateDir, Interval: DefaultInterval, Grace: DefaultGrace}
}

var deploymentIDRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// Load reads and validates a config file.
func Load(path string) (Config, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := checkPrivate(path, st); err != nil {
		return Config{}, err
	}
	b, err := strictyaml.ReadFile(path, MaxBytes)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

func checkPrivate(path string, st os.FileInfo) error {
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is readable or writable by group/others (mode %04o); it names secrets: run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	return nil
}

// MaxBytes caps a config file: one is a few hundred bytes.
const MaxBytes = 1 << 20

// file is the config file's shape for internal/strictyaml: every key is one
// string, converted and checked by Config.set.
type file struct {
	DeploymentID      string `yaml:"deployment_id"`
	Endpoint          string `yaml:"endpoint"`
	TokenFile         string `yaml:"token_file"`
	SigningSecretFile string `yaml:"signing_secret_file"`
	DatabaseURLEnv    string `yaml:"database_url_env"`
	EnvFile           string `yaml:"env_file"`
	StateDir          string `yaml:"state_dir"`
	LiveSince         string `yaml:"live_since"`
	Interval          string `yaml:"interval"`
	Grace             string `yaml:"grace"`
	CAFile            string `yaml:"ca_file"`
	TokenEnv          string `yaml:"token_env"`
	SigningSecretEnv  string `yaml:"signing_secret_env"`
}

// Parse parses and validates config YAML with internal/strictyaml: unknown
// keys, keys given twice and values that are not single strings are refused
// with their line.
func Parse(b []byte) (Config, error) {
	c := Default()
	var f file
	lines, err := strictyaml.Decode(b, &f, strictyaml.Options{MaxBytes: MaxBytes,
		Expected: "a mapping of keys (" + strings.Join(Keys, ", ") + ")"})
	if err != nil {
		return Config{}, err
	}
	if len(lines) == 0 {
		return Config{}, errors.New("empty file; it needs at least deployment_id")
	}
	v := reflect.ValueOf(f)
	for i := 0; i < v.NumField(); i++ {
		key, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if err := c.set(key, strings.TrimSpace(v.Field(i).String())); err != nil {
			return Config{}, fmt.Errorf("key %q at line %d: %w", key, lines[key], err)
		}
	}
	if c.DeploymentID == "" {
		return Config{}, errors.New("deployment_id is required (the id the billing side gave this deployment)")
	}
	return c, nil
}

func (c *Config) set(key, v string) error {
	if v == "" || v == "~" || v == "null" {
		return nil // an empty value leaves the default (a template may render one)
	}
	var err error
	switch key {
	case "deployment_id":
		if !deploymentIDRE.MatchString(v) {
			return fmt.Errorf("%q: use letters, digits, '_', '-' or '.' (no ':'), at most 128", v)
		}
		c.DeploymentID = v
	case "endpoint":
		c.Endpoint = v
	case "token_file":
		c.TokenFile = v
	case "signing_secret_file":
		c.SigningSecretFile = v
	case "token_env":
		c.TokenEnv = v
	case "signing_secret_env":
		c.SigningSecretEnv = v
	case "database_url_env":
		c.DatabaseURLEnv = v
	case "env_file":
		c.EnvFile = v
	case "state_dir":
		c.StateDir = v
	case "ca_file":
		c.CAFile = v
	case "live_since":
		c.LiveSince, err = parseTime(v)
	case "interval":
		c.Interval, err = parseDuration(v, time.Second)
	case "grace":
		c.Grace, err = parseDuration(v, 0)
	}
	return err
}

func parseTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want a date (2026-01-15) or an RFC 3339 time (2026-01-15T09:00:00Z), UTC", v)
}

func parseDuration(v string, minimum time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 6h, 90m or 72h", v)
	}
	if d < minimum {
		return 0, fmt.Errorf("%q: must be at least %v", v, minimum)
	}
	return d, nil
}

// Secrets returns the deployment token and signing secret, each from its
// file (which must not be readable by group/others) or, when no file is
// configured, from CALCTL_TOKEN / CALCTL_SIGNING_SECRET.
func (c Config) Secrets(getenv func(string) string) (token, signing secret.Secret, err error) {
	token, err = c.Token(getenv)
	if err != nil {
		return "", "", err
	}
	signing, err = c.SigningSecret(getenv)
	return token, signing, err
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Token returns the deployment token (token_file, else the variable
// token_env, default CALCTL_TOKEN).
func (c Config) Token(getenv func(string) string) (secret.Secret, error) {
	return readSecret("token_file", c.TokenFile, or(c.TokenEnv, TokenEnv), getenv)
}

// SigningSecret returns the HMAC key (signing_secret_file, else the
// variable signing_secret_env, default CALCTL_SIGNING_SECRET).
func (c Config) SigningSecret(getenv func(string) string) (secret.Secret, error) {
	return readSecret("signing_secret_file", c.SigningSecretFile, or(c.SigningSecretEnv, SigningSecretEnv), getenv)
}

func readSecret(key, file, env string, getenv func(string) string) (secret.Secret, error) {
	if file == "" {
		if v := strings.TrimSpace(getenv(env)); v != "" {
			return secret.Secret(v), nil
		}
		return "", fmt.Errorf("no %s: set %s in the config (a file with mode 0600) or %s in the environment", strings.TrimSuffix(key, "_file"), key, env)
	}
	st, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	if err := checkPrivate(file, st); err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	b, err := safefile.ReadFile(file, 64<<10) // a secret file: a key, not a FIFO
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s %s is empty", key, file)
	}
	return secret.Secret(v), nil
}

// DatabaseURL finds Cal.com's database URL: in env_file (Cal.com's .env:
// the variable database_url_env, else DATABASE_DIRECT_URL, else
// DATABASE_URL), or in the environment (database_url_env, else
// DATABASE_URL).
func (c Config) DatabaseURL(getenv func(string) string) (secret.Secret, error) {
	if c.EnvFile != "" {
		vars, err := ReadEnvFile(c.EnvFile)
		if err != nil {
			return "", err
		}
		names := []string{"DATABASE_DIRECT_URL", "DATABASE_URL"}
		if c.DatabaseURLEnv != "" {
			names = []string{c.DatabaseURLEnv}
		}
		for _, n := range names {
			if v := vars[n]; v != "" {
				return secret.Secret(v), nil
			}
		}
		return "", fmt.Errorf("env_file %s sets none of %s", c.EnvFile, strings.Join(names, ", "))
	}
	name := c.DatabaseURLEnv
	if name == "" {
		name = "DATABASE_URL"
	}
	if v := getenv(name); v != "" {
		return secret.Secret(v), nil
	}
	return "", fmt.Errorf("no database URL: pass --database-url, set env_file (Cal.com's .env) in the config, or set %s in the environment", name)
}

// ReadEnvFile reads Cal.com's .env with calctl's one dotenv reader
// (internal/dotenv), exactly as docker compose and the installer read it.
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := dotenv.Read(path)
	if err != nil {
		return nil, fmt.Errorf("env_file: %w", err)
	}
	return f.Map(), nil
}
