package contract

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/strictyaml"
)

// Answers describe one install. They come from an answers file (YAML),
// flags override them, and the environment supplies the secrets they name.
// Every key is documented in docs/answers.md.
type Answers struct {
	// InstallDir is where calctl writes the rendered configuration.
	InstallDir string `yaml:"install_dir"`
	// Source says where the Cal.com monorepo comes from.
	Source Source `yaml:"source"`
	// Target is the process manager: compose or pm2.
	Target string `yaml:"target"`
	// PublicURL is the URL users type; it becomes NEXT_PUBLIC_WEBAPP_URL.
	PublicURL string `yaml:"public_url"`
	// Database says where Postgres runs.
	Database Database `yaml:"database"`
	// Proxy is the TLS proxy in front of the app: caddy or none.
	Proxy string `yaml:"proxy"`
	// Email configures outgoing mail (optional).
	Email Email `yaml:"email"`
	// Billing configures the usage agent (optional).
	Billing Billing `yaml:"billing"`
	// Backup schedules encrypted calctl backups (optional).
	Backup BackupSchedule `yaml:"backup"`
	// Web configures the web app.
	Web Web `yaml:"web"`
	// API configures the API app (used when the repo has apps/api).
	API API `yaml:"api"`
	// Images overrides container images (registry mirrors, air-gapped hosts).
	Images Images `yaml:"images"`
	// PM2 configures the pm2 target.
	PM2 PM2 `yaml:"pm2"`
	// Migrate configures the migrate step.
	Migrate Migrate `yaml:"migrate"`
	// Start configures the start step.
	Start Start `yaml:"start"`
	// Kubernetes configures target kubernetes (answers_kubernetes.go).
	Kubernetes Kubernetes `yaml:"kubernetes"`
}

// Source says where the Cal.com monorepo comes from.
type Source struct {
	// URL is the git URL (https, http, ssh, git@host:path, file); a
	// password in it is refused (TokenEnv names the token instead).
	URL string `yaml:"url"`
	// Ref is the branch, tag or commit to check out.
	Ref string `yaml:"ref"`
	// Submodules is one of SubmoduleModes: resolve, flatten or skip.
	Submodules string `yaml:"submodules"`
	// TokenEnv names the environment variable with an HTTPS token.
	TokenEnv string `yaml:"token_env"`
	// SSHKey is the private key file for ssh and git@ URLs.
	SSHKey string `yaml:"ssh_key"`
	// Dir is where the clone goes (default <install_dir>/src).
	Dir string `yaml:"dir"`
	// Depth is the clone depth; 0 is the full history.
	Depth int `yaml:"depth"`
}

// Database says where Postgres runs.
type Database struct {
	// Mode is one of DatabaseModes: bundled, external or rds.
	Mode string `yaml:"mode"`
	// URLEnv names the environment variable with the external/RDS
	// database URL (a secret: never in the answers).
	URLEnv string `yaml:"url_env"`
	// CAFile is the PEM CA bundle that signed the database's certificate
	// (required for rds); calctl adds sslmode=verify-full with it.
	CAFile string `yaml:"ca_file"`
	// Version is the bundled Postgres major (13 to 17).
	Version int `yaml:"version"`
	// Name is the bundled database's name.
	Name string `yaml:"name"`
	// User is the bundled database's user.
	User string `yaml:"user"`
}

// Email configures outgoing SMTP mail.
type Email struct {
	// Host is the SMTP server (EMAIL_SERVER_HOST).
	Host string `yaml:"host"`
	// Port is the SMTP port: 587 for STARTTLS, 465 for TLS.
	Port int `yaml:"port"`
	// User is the SMTP user name.
	User string `yaml:"user"`
	// PasswordEnv names the environment variable with the SMTP password.
	PasswordEnv string `yaml:"password_env"`
	// From is the sender address (EMAIL_FROM).
	From string `yaml:"from"`
	// FromName is the sender name (EMAIL_FROM_NAME).
	FromName string `yaml:"from_name"`
}

// Billing configures the usage agent of the Infrastructure Plan.
type Billing struct {
	// Endpoint is the billing endpoint; setting it enables the usage agent.
	Endpoint string `yaml:"endpoint"`
	// DeploymentID is the id the Infrastructure Plan gave this deployment.
	DeploymentID string `yaml:"deployment_id"`
	// TokenEnv names the environment variable with the billing API token.
	TokenEnv string `yaml:"token_env"`
	// SigningSecretEnv names the environment variable with the secret
	// that signs reports.
	SigningSecretEnv string `yaml:"signing_secret_env"`
	// LiveSince is YYYY-MM-DD: nothing is billed before this day.
	LiveSince string `yaml:"live_since"`
	// Interval is how often the agent reports (a Go duration, at least 1m).
	Interval string `yaml:"interval"`
}

// BackupSchedule schedules `calctl backup` with a systemd timer on the
// host (docs/backup.md).
type BackupSchedule struct {
	// Schedule is a systemd OnCalendar expression ("daily", "*-*-* 03:00");
	// setting it enables scheduled backups.
	Schedule string `yaml:"schedule"`
	// Dir receives the backups (default <install_dir>/backups; better a
	// mount of another device).
	Dir string `yaml:"dir"`
	// Recipient is the age public key (age1…) backups are encrypted to;
	// the identity that opens them stays off the host.
	Recipient string `yaml:"recipient"`
	// Retain is how many backups to keep (default 14).
	Retain int `yaml:"retain"`
}

// Web configures the Cal.com web app.
type Web struct {
	// Port is the web app's port.
	Port int `yaml:"port"`
	// Dockerfile is a Dockerfile inside the repository to build instead
	// of calctl's generated one ("" for the generated one).
	Dockerfile string `yaml:"dockerfile"`
	// Memory is the Node heap for the build in MB (--max-old-space-size).
	Memory string `yaml:"memory"`
}

// API configures Cal.com's API v1 app (apps/api/v1, or apps/api on 2022
// trees). It runs only with a license key: without one it answers 401 to
// every request in production (calcom-facts.md §9).
type API struct {
	// Port is the API app's port.
	Port int `yaml:"port"`
	// Enabled is auto (run it when apps/api exists), true or false.
	Enabled string `yaml:"enabled"`
	// LicenseKeyEnv names the environment variable holding the license key
	// (CALCOM_LICENSE_KEY in .env, mode 0600; never anywhere else).
	LicenseKeyEnv string `yaml:"license_key_env"`
}

// Images overrides the container images of the compose target.
type Images struct {
	// Node is the generated Dockerfile's base image (default: the Node
	// major package.json engines.node asks for).
	Node string `yaml:"node"`
	// Postgres is the bundled database's image, pinned to a major.
	Postgres string `yaml:"postgres"`
	// Caddy is the proxy's image.
	Caddy string `yaml:"caddy"`
	// Calctl is the image that runs `calctl agent` (DefaultCalctlImage).
	Calctl string `yaml:"calctl"`
}

// PM2 configures the pm2 target.
type PM2 struct {
	// Node is the Node interpreter pm2 runs (the one preflight checked).
	Node string `yaml:"node"`
	// Instances is the number of web instances; above 1, cluster mode.
	Instances int `yaml:"instances"`
	// MaxMemoryRestart is the memory above which pm2 restarts an app (1536M).
	MaxMemoryRestart string `yaml:"max_memory_restart"`
	// LogDir holds pm2's log files (default <install_dir>/logs).
	LogDir string `yaml:"log_dir"`
}

// Migrate configures the migrate step.
type Migrate struct {
	// Command applies the migrations, in the web container (compose) or
	// the clone (pm2); default DefaultMigrateCommand.
	Command []string `yaml:"command"`
	// Skip skips the migrate step.
	Skip bool `yaml:"skip"`
}

// Start configures the start step.
type Start struct {
	// Timeout is how long the start step waits for healthy containers.
	Timeout string `yaml:"timeout"`
	// Project is the compose project name (container and volume prefix).
	Project string `yaml:"project"`
}

// Targets, database modes, proxies and submodule modes the answers accept.
const (
	TargetCompose = "compose"
	TargetPM2     = "pm2"

	DBBundled  = "bundled"
	DBExternal = "external"
	DBRDS      = "rds"

	ProxyCaddy = "caddy"
	ProxyNone  = "none"
)

// The values the answers accept, each list written once: Validate, the
// command-line flags and their shell completion all use it.
var (
	// ageRecipient is an age X25519 public key: "age1" and 58 Bech32
	// characters (https://age-encryption.org/v1).
	ageRecipient   = regexp.MustCompile(`^age1[02-9ac-hj-np-z]{58}$`)
	Targets        = []string{TargetCompose, TargetPM2, TargetKubernetes}
	DatabaseModes  = []string{DBBundled, DBExternal, DBRDS}
	Proxies        = []string{ProxyCaddy, ProxyNone}
	SubmoduleModes = []string{"resolve", "flatten", "skip"}
)

// DefaultPostgresMajor is the Postgres major of the bundled database.
// 16 is the newest major old Cal.com images are known to work with
// (calcom/docker#387: "make sure you are running postgres v16 and not v17").
const DefaultPostgresMajor = 16

// DefaultMigrateCommand runs Prisma's production migration in the web container.
var DefaultMigrateCommand = []string{"npx", "prisma", "migrate", "deploy", "--schema", "packages/prisma/schema.prisma"}

// Problem is one thing wrong with the answers: where, and what is expected
// (internal/strictyaml's, which finds most of them).
type Problem = strictyaml.Problem

// MaxAnswersBytes caps an answers file: one is a few KB. A larger file is
// refused unread (a 50 MB one used to take 2.6 GB to refuse).
const MaxAnswersBytes = 1 << 20

// AnswersError lists every problem found in the answers; nothing has been
// changed on disk when it is returned.
type AnswersError struct {
	// Source is where the answers came from: a file, "flags" or
	// "environment" ("" reads as "answers").
	Source string
	// Problems are every problem found, sorted by key path.
	Problems []Problem
}

func (e *AnswersError) Error() string {
	var b strings.Builder
	src := e.Source
	if src == "" {
		src = "answers"
	}
	fmt.Fprintf(&b, "%s: %d problem(s), nothing was changed:", src, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - " + p.String())
	}
	return b.String()
}

// LoadAnswersFile reads and decodes an answers file. Defaults are NOT applied
// and values are NOT validated; call Finish for that.
func LoadAnswersFile(path string) (*Answers, error) {
	b, err := strictyaml.ReadFile(path, MaxAnswersBytes)
	var se *strictyaml.Error
	if errors.As(err, &se) {
		return nil, &AnswersError{Source: path, Problems: se.Problems}
	}
	if err != nil {
		return nil, fmt.Errorf("read answers: %w", err)
	}
	a, err := DecodeAnswers(b)
	var ae *AnswersError
	if errors.As(err, &ae) {
		ae.Source = path
	}
	return a, err
}

// DecodeAnswers decodes YAML answers with internal/strictyaml: unknown keys,
// repeated keys and wrong types are refused with their key path and line,
// and more than MaxAnswersBytes is refused unread.
func DecodeAnswers(b []byte) (*Answers, error) {
	a := &Answers{}
	_, err := strictyaml.Decode(b, a, strictyaml.Options{MaxBytes: MaxAnswersBytes,
		Expected: "a YAML mapping like the one `calctl install --print-answers` prints"})
	var se *strictyaml.Error
	if errors.As(err, &se) {
		return nil, &AnswersError{Problems: se.Problems}
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Set assigns one answer by its key path (e.g. "database.mode"), as a flag
// or --set would. Lists take comma-separated values.
func (a *Answers) Set(path, value string) error {
	return setPath(a, path, value)
}

// ApplyDefaults fills every answer left empty with its default.
func (a *Answers) ApplyDefaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&a.InstallDir, "/opt/calcom")
	def(&a.Source.URL, "https://github.com/calcom/cal.com.git")
	def(&a.Source.Ref, "main")
	def(&a.Source.Submodules, "skip")
	def(&a.Target, TargetCompose)
	def(&a.Database.Mode, DBBundled)
	def(&a.Proxy, ProxyNone)
	def(&a.Database.Name, "calendso")
	def(&a.Database.User, "calcom")
	if a.Database.Mode != DBBundled {
		def(&a.Database.URLEnv, "DATABASE_URL")
	}
	if a.Database.Version == 0 {
		a.Database.Version = DefaultPostgresMajor
	}
	if a.Source.Depth == 0 {
		a.Source.Depth = 1
	}
	if a.Web.Port == 0 {
		a.Web.Port = 3000
	}
	if a.API.Port == 0 {
		a.API.Port = 3003
	}
	def(&a.API.Enabled, "auto")
	def(&a.Web.Memory, "4096")
	def(&a.Images.Postgres, fmt.Sprintf("postgres:%d-alpine", a.Database.Version))
	def(&a.Images.Caddy, "caddy:2-alpine")
	def(&a.Images.Calctl, DefaultCalctlImage())
	def(&a.PM2.Node, "node")
	if a.PM2.Instances == 0 {
		a.PM2.Instances = 1
	}
	def(&a.PM2.MaxMemoryRestart, "1536M")
	def(&a.Start.Timeout, "10m")
	def(&a.Start.Project, "calcom")
	if a.Email.Host != "" && a.Email.Port == 0 {
		a.Email.Port = 587
	}
	def(&a.Email.FromName, "Cal.com")
	if a.Backup.Schedule != "" {
		if a.Backup.Dir == "" && a.InstallDir != "" {
			a.Backup.Dir = filepath.Join(a.InstallDir, "backups")
		}
		if a.Backup.Retain == 0 {
			a.Backup.Retain = 14
		}
	}
	if a.Billing.Endpoint != "" {
		def(&a.Billing.TokenEnv, "CALCTL_BILLING_TOKEN")
		def(&a.Billing.SigningSecretEnv, "CALCTL_SIGNING_SECRET")
		def(&a.Billing.Interval, "6h")
	}
	if len(a.Migrate.Command) == 0 {
		a.Migrate.Command = append([]string(nil), DefaultMigrateCommand...)
	}
	if a.Source.Dir == "" && a.InstallDir != "" {
		a.Source.Dir = filepath.Join(a.InstallDir, "src")
	}
	if a.PM2.LogDir == "" && a.InstallDir != "" {
		a.PM2.LogDir = filepath.Join(a.InstallDir, "logs")
	}
	if a.Target == TargetKubernetes {
		a.applyKubernetesDefaults()
	}
}

var (
	envName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	memSize     = regexp.MustCompile(`^[0-9]+[KMG]?$`)
	projectName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	deployID    = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
	commandName = regexp.MustCompile(`^[A-Za-z0-9_.+-]+$`)
)

// Validate checks every value (after ApplyDefaults) and returns all problems
// at once, or nil.
func (a *Answers) Validate() error {
	var ps []Problem
	bad := func(path, msg, expected string) {
		// messages quote the value: never a URL's password (issue 11.7)
		ps = append(ps, Problem{Path: path, Message: redact.URL(msg), Expected: expected})
	}
	ps = append(ps, controlProblems(a)...)
	if err := checkAbsPath(a.InstallDir); err != nil {
		bad("install_dir", err.Error(), "an absolute directory such as /opt/calcom")
	}
	for path, p := range map[string]string{"source.dir": a.Source.Dir, "source.ssh_key": a.Source.SSHKey, "database.ca_file": a.Database.CAFile, "pm2.log_dir": a.PM2.LogDir} {
		if p != "" {
			if err := checkAbsPath(p); err != nil {
				bad(path, err.Error(), "an absolute path")
			}
		}
	}
	if strings.Contains(a.PM2.Node, "/") {
		if err := checkAbsPath(a.PM2.Node); err != nil {
			bad("pm2.node", err.Error(), "node (found on PATH) or the absolute path of a node binary")
		}
	} else if !commandName.MatchString(a.PM2.Node) {
		bad("pm2.node", fmt.Sprintf("%q is not a command name", a.PM2.Node), "node (found on PATH) or the absolute path of a node binary")
	}
	for path, img := range map[string]string{"images.postgres": a.Images.Postgres, "images.caddy": a.Images.Caddy, "images.calctl": a.Images.Calctl, "images.node": a.Images.Node} {
		if img == "" && path == "images.node" {
			continue
		}
		if err := checkImage(img); err != nil {
			bad(path, err.Error(), "an image reference such as postgres:16-alpine or registry.example.com/mirror/node:18")
		}
	}
	if err := checkGitURL(a.Source.URL); err != nil {
		bad("source.url", err.Error(), "an https://, http://, ssh://, git@host:path or file:// URL of a git repository")
	}
	if !slices.Contains(SubmoduleModes, a.Source.Submodules) {
		bad("source.submodules", fmt.Sprintf("%q is not a submodule mode", a.Source.Submodules), "one of resolve, flatten, skip")
	}
	if a.Source.TokenEnv != "" && !envName.MatchString(a.Source.TokenEnv) {
		bad("source.token_env", fmt.Sprintf("%q is not an environment variable name", a.Source.TokenEnv), "a name like CALCTL_GIT_TOKEN")
	}
	if a.Source.Depth < 0 {
		bad("source.depth", "must not be negative", "0 (full history) or a positive depth")
	}
	// Targets holds every target answers files, --target and the wizard
	// accept (the wizard hands kubernetes to calctl-kubernetes).
	if !slices.Contains(Targets, a.Target) {
		bad("target", fmt.Sprintf("%q is not a target", a.Target), "compose, pm2 or kubernetes")
	}
	if a.Target == TargetKubernetes {
		ps = append(ps, a.validateKubernetes()...)
	}
	if err := checkPublicURL(a.PublicURL); err != nil {
		bad("public_url", err.Error(), "an absolute http(s) URL such as https://cal.example.com (no path, query or fragment)")
	}
	switch a.Database.Mode {
	case DBBundled:
		if a.Target == TargetPM2 {
			bad("database.mode", "bundled Postgres runs only with target compose", "external or rds for target pm2")
		}
		if a.Database.Version < 13 || a.Database.Version > 17 {
			bad("database.version", fmt.Sprintf("%d is not a supported Postgres major", a.Database.Version), "13 to 17 (Cal.com needs >= 13; 16 is the default)")
		}
		if strings.HasSuffix(a.Images.Postgres, ":latest") || !strings.Contains(lastSegment(a.Images.Postgres), ":") && !strings.Contains(a.Images.Postgres, "@") {
			bad("images.postgres", fmt.Sprintf("%q is not pinned", a.Images.Postgres), "an image with a pinned major tag such as postgres:16-alpine (never latest)")
		}
	case DBExternal, DBRDS:
		if !envName.MatchString(a.Database.URLEnv) {
			bad("database.url_env", fmt.Sprintf("%q is not an environment variable name", a.Database.URLEnv), "a name like DATABASE_URL")
		}
		if a.Database.Mode == DBRDS && a.Database.CAFile == "" {
			bad("database.ca_file", "rds needs the RDS CA bundle for sslmode=verify-full", "a path such as /etc/calcom/rds-global-bundle.pem (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)")
		}
	default:
		bad("database.mode", fmt.Sprintf("%q is not a database mode", a.Database.Mode), "bundled, external or rds")
	}
	if !envName.MatchString(a.Database.Name) {
		bad("database.name", fmt.Sprintf("%q is not a plain database name", a.Database.Name), "letters, digits and _")
	}
	if !envName.MatchString(a.Database.User) {
		bad("database.user", fmt.Sprintf("%q is not a plain user name", a.Database.User), "letters, digits and _")
	}
	if !slices.Contains(Proxies, a.Proxy) {
		bad("proxy", fmt.Sprintf("%q is not a proxy", a.Proxy), "caddy or none")
	}
	if a.Email.Host != "" || a.Email.From != "" || a.Email.User != "" {
		if a.Email.Host == "" {
			bad("email.host", "missing", "the SMTP host name")
		}
		if a.Email.Port < 1 || a.Email.Port > 65535 {
			bad("email.port", fmt.Sprintf("%d is not a port", a.Email.Port), "1-65535 (587 for STARTTLS, 465 for TLS)")
		}
		if a.Email.Host != "" {
			if err := checkHost(a.Email.Host); err != nil {
				bad("email.host", err.Error(), "the SMTP server's host name")
			}
		}
		if err := checkEmail(a.Email.From); err != nil {
			bad("email.from", err.Error(), "an address such as cal@example.com")
		}
		if a.Email.PasswordEnv != "" && !envName.MatchString(a.Email.PasswordEnv) {
			bad("email.password_env", fmt.Sprintf("%q is not an environment variable name", a.Email.PasswordEnv), "a name like SMTP_PASSWORD")
		}
	}
	if a.Backup != (BackupSchedule{}) {
		if a.Backup.Schedule == "" {
			bad("backup.schedule", "is empty but other backup answers are set", "a systemd OnCalendar expression such as daily or \"*-*-* 03:00\"")
		} else if strings.ContainsAny(a.Backup.Schedule, "\n\r\"'`$;|&") {
			bad("backup.schedule", fmt.Sprintf("%q is not an OnCalendar expression", a.Backup.Schedule), "e.g. daily or \"*-*-* 03:00\"")
		}
		if !ageRecipient.MatchString(a.Backup.Recipient) {
			bad("backup.recipient", "is not an age public key", "the age1… line `calctl backup keygen` prints; backups are never written unencrypted")
		}
		if a.Backup.Dir != "" && (!filepath.IsAbs(a.Backup.Dir) || strings.ContainsAny(a.Backup.Dir, " \t\n\"'\\%$;")) {
			bad("backup.dir", fmt.Sprintf("%q is not an absolute path", a.Backup.Dir), "an absolute directory, ideally another device")
		}
		if a.Backup.Retain < 0 {
			bad("backup.retain", fmt.Sprintf("%d", a.Backup.Retain), "0 (keep all) or more")
		}
	}
	if a.Billing != (Billing{}) {
		// the same rule `calctl report` applies (rules.go)
		if err := CheckBillingEndpoint(a.Billing.Endpoint); err != nil {
			bad("billing.endpoint", err.Error(), "the billing endpoint URL, e.g. https://billing.example.com (http only to a loopback address)")
		}
		if !deployID.MatchString(a.Billing.DeploymentID) {
			bad("billing.deployment_id", fmt.Sprintf("%q is not a deployment id", a.Billing.DeploymentID), "the id from your Infrastructure Plan, e.g. dep_123")
		}
		for path, v := range map[string]string{"billing.token_env": a.Billing.TokenEnv, "billing.signing_secret_env": a.Billing.SigningSecretEnv} {
			if !envName.MatchString(v) {
				bad(path, fmt.Sprintf("%q is not an environment variable name", v), "a name like CALCTL_BILLING_TOKEN")
			}
		}
		if _, err := time.Parse("2006-01-02", a.Billing.LiveSince); err != nil {
			bad("billing.live_since", fmt.Sprintf("%q is not a date", a.Billing.LiveSince), "YYYY-MM-DD, the first day the deployment is live")
		}
		if d, err := time.ParseDuration(a.Billing.Interval); err != nil || d < time.Minute {
			bad("billing.interval", fmt.Sprintf("%q is not a duration of at least 1m", a.Billing.Interval), "a Go duration such as 1h")
		}
	}
	for path, p := range map[string]int{"web.port": a.Web.Port, "api.port": a.API.Port} {
		if p < 1 || p > 65535 {
			bad(path, fmt.Sprintf("%d is not a port", p), "1-65535")
		}
	}
	if a.Web.Port == a.API.Port {
		bad("api.port", "same as web.port", "a different port")
	}
	if a.Web.Dockerfile != "" && (filepath.IsAbs(a.Web.Dockerfile) || strings.Contains(filepath.ToSlash(a.Web.Dockerfile), "..")) {
		bad("web.dockerfile", fmt.Sprintf("%q is not a path inside the repository", a.Web.Dockerfile), "a relative path such as docker/Dockerfile, or empty for calctl's generated Dockerfile")
	}
	if n, err := strconv.Atoi(a.Web.Memory); err != nil || n < 512 {
		bad("web.memory", fmt.Sprintf("%q is not a heap size", a.Web.Memory), "megabytes for Node's --max-old-space-size during the build, at least 512 (4096 recommended)")
	}
	if a.API.LicenseKeyEnv != "" && !envName.MatchString(a.API.LicenseKeyEnv) {
		bad("api.license_key_env", fmt.Sprintf("%q is not an environment variable name", a.API.LicenseKeyEnv), "a name like CALCOM_LICENSE_KEY")
	}
	switch a.API.Enabled {
	case "auto", "true", "false":
	default:
		bad("api.enabled", fmt.Sprintf("%q is not a choice", a.API.Enabled), "auto (when apps/api exists), true or false")
	}
	if a.PM2.Instances < 1 {
		bad("pm2.instances", fmt.Sprintf("%d instances", a.PM2.Instances), "1 or more")
	}
	if !memSize.MatchString(a.PM2.MaxMemoryRestart) {
		bad("pm2.max_memory_restart", fmt.Sprintf("%q is not a size", a.PM2.MaxMemoryRestart), "a size such as 1536M or 2G")
	}
	if d, err := time.ParseDuration(a.Start.Timeout); err != nil || d <= 0 {
		bad("start.timeout", fmt.Sprintf("%q is not a duration", a.Start.Timeout), "a Go duration such as 10m")
	}
	if !projectName.MatchString(a.Start.Project) {
		bad("start.project", fmt.Sprintf("%q is not a compose project name", a.Start.Project), "lower-case letters, digits, - and _")
	}
	if len(a.Migrate.Command) == 0 {
		bad("migrate.command", "empty", "the command that applies migrations in the web container")
	}
	if len(ps) == 0 {
		return nil
	}
	sortProblems(ps)
	return &AnswersError{Problems: ps}
}

// DefaultCalctlImage is the usage agent's image: the tag of this calctl's
// own release, so the agent never drifts from the installer; "latest" only
// for an unreleased development build.
func DefaultCalctlImage() string {
	tag := "latest"
	if v := buildinfo.Version; v != "" && v != "dev" {
		tag = "v" + strings.TrimPrefix(v, "v")
	}
	return "ghcr.io/calctl/calctl:" + tag
}

func lastSegment(image string) string {
	if i := strings.LastIndex(image, "/"); i >= 0 {
		return image[i+1:]
	}
	return image
}

func sortProblems(ps []Problem) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Path < ps[j-1].Path; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

var scpLike = regexp.MustCompile(`^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:[^/].*|^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:/.*`)

func checkGitURL(s string) error {
	if s == "" {
		return errors.New("missing")
	}
	if scpLike.MatchString(s) {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", s, err)
	}
	switch u.Scheme {
	case "https", "http", "ssh", "git":
		if u.Host == "" {
			return fmt.Errorf("%q has no host", s)
		}
	case "file":
		if u.Path == "" {
			return fmt.Errorf("%q has no path", s)
		}
	default:
		return fmt.Errorf("%q has no supported scheme", s)
	}
	if u.User != nil {
		if _, hasPass := u.User.Password(); hasPass {
			return errors.New("the URL holds a password; put the token in the environment variable named by source.token_env instead")
		}
	}
	return nil
}

func checkPublicURL(s string) error {
	if s == "" {
		return errors.New("missing")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.ForceQuery || strings.Contains(s, "#") {
		return fmt.Errorf("%q has a path, query, fragment or user", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
			return fmt.Errorf("%q has a bad port", s)
		}
	}
	if strings.Contains(u.Host, "%") {
		return fmt.Errorf("%q has a percent-encoded host", s)
	}
	if err := checkHost(u.Hostname()); err != nil {
		return err
	}
	return nil
}

// PublicURLClean returns public_url without a trailing slash.
func (a *Answers) PublicURLClean() string { return strings.TrimRight(a.PublicURL, "/") }

// Finish applies defaults and validates; it is what every command calls
// after loading the file and applying flags.
func (a *Answers) Finish() error {
	a.ApplyDefaults()
	return a.Validate()
}
