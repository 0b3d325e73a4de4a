package installer

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/templates"
)

// CAInContainer is where the database CA file is mounted in containers.
const CAInContainer = "/etc/calcom/db-ca.pem"

// renderStep renders every configuration file from the embedded templates
// into memory (State.Files). It writes nothing: the write step does.
type renderStep struct{}

func (renderStep) Name() string { return "render" }

func (renderStep) Run(ctx context.Context, s *State) error {
	if s.Repo.Dir == "" {
		repo, err := InspectRepo(s.Answers.Source.Dir)
		if err != nil {
			return err
		}
		if repo.Dir == "" {
			s.Logf("warn", "no checkout at %s yet: assuming Node %d and no apps/api", s.Answers.Source.Dir, repo.NodeMajor)
		}
		s.Repo = repo
	}
	files, err := RenderFiles(s.Answers, s.Env, s.Repo, s.Secrets)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.Path == "docker-compose.yml" {
			if _, err := LoadCompose(ctx, s.Answers.InstallDir, s.Answers.Start.Project, f.Data); err != nil {
				return WithRemedy(err, "this is a calctl bug or a bad images.* answer; report it with `calctl render --dry-run` output")
			}
		}
	}
	s.Files = files
	s.Progress(100, fmt.Sprintf("%d files rendered", len(files)))
	return nil
}

// renderData is what the templates see.
type renderData struct {
	Version             string
	PublicURL           string
	Bundled, Caddy      bool
	Agent               bool
	PostgresImage       string
	CaddyImage          string
	CalctlImage         string
	WebImage            string
	NodeImage           string
	NodeMajor           int
	NodeEngine          string
	Memory              string
	DBUser, DBName      string
	DBPassword          string
	BuildContext        string
	Dockerfile          string
	GeneratedDockerfile bool
	BindHost            string
	ListenHost          string
	WebPort, APIPort    int
	HasAPI              bool
	APIDir              string
	CAFile              string
	CAInContainer       string
	NextAuthSecret      string
	EncryptionKey       string
	DatabaseURL         string
	SMTPPassword        string
	Email               Email
	ProxySite, Upstream string
	// pm2
	InstallDir, SrcDir, EnvFile, NextBin, WebDir, APIDirAbs string
	NodeBin, MaxMemoryRestart                               string
	Instances                                               int
	WebOutLog, WebErrLog, APIOutLog, APIErrLog              string
	MigrateCommand                                          string
	// agent
	Billing       Billing
	AgentDir      string // where agent.yaml, token and signing_secret are, as the agent sees them
	AgentEnvFile  string // Cal.com's .env as the agent sees it
	AgentStateDir string
	CalctlBin     string
	ConfigPath    string // for templates/files/agent/calctl-agent.service.tmpl
	StateDir      string
}

// DatabaseURL builds the DATABASE_URL the app uses. For bundled Postgres it
// points at the database service; for external and RDS it is the URL from
// the environment with TLS settings enforced.
func DatabaseURL(a *Answers, env EnvSecrets, sec Secrets) (string, error) {
	if a.Database.Mode == DBBundled {
		u := url.URL{Scheme: "postgresql", User: url.UserPassword(a.Database.User, sec.DatabasePassword.Reveal()),
			Host: "database:5432", Path: "/" + a.Database.Name}
		return u.String(), nil
	}
	raw := env.DatabaseURL.Reveal()
	if raw == "" {
		return "", WithRemedy(fmt.Errorf("database.url_env: %s is empty", a.Database.URLEnv), "export %s=postgresql://USER:PASSWORD@HOST:5432/DB", a.Database.URLEnv)
	}
	if err := contract.CheckDatabaseURL(a.Database.Mode, raw); err != nil {
		return "", WithRemedy(fmt.Errorf("database.url_env: %s: %w", a.Database.URLEnv, err), "use TLS to the database: sslmode=verify-full with database.ca_file")
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	ca := ""
	if a.Database.CAFile != "" {
		ca = a.Database.CAFile
		if a.Target == TargetCompose {
			ca = CAInContainer
		}
	}
	if a.Database.Mode == DBRDS {
		q.Set("sslmode", "verify-full")
	}
	if ca != "" {
		q.Set("sslrootcert", ca)
		if q.Get("sslmode") == "" {
			q.Set("sslmode", "verify-full")
		}
	}
	// Slashes are legal in a query; keeping them readable helps people who
	// read the .env (libpq and Prisma decode either form).
	u.RawQuery = strings.ReplaceAll(q.Encode(), "%2F", "/")
	return u.String(), nil
}

// RenderFiles renders every file of the install described by a. It does no
// I/O: the same inputs give the same bytes.
func RenderFiles(a *Answers, env EnvSecrets, repo Repo, sec Secrets) ([]File, error) {
	dbURL, err := DatabaseURL(a, env, sec)
	if err != nil {
		return nil, err
	}
	pub := a.PublicURLClean()
	pu, _ := url.Parse(pub)
	d := renderData{
		Version:        buildinfo.Version,
		PublicURL:      pub,
		Bundled:        a.Database.Mode == DBBundled,
		Caddy:          a.Proxy == ProxyCaddy,
		Agent:          a.Billing.Endpoint != "",
		PostgresImage:  a.Images.Postgres,
		CaddyImage:     a.Images.Caddy,
		CalctlImage:    a.Images.Calctl,
		WebImage:       a.Start.Project + "-web:local",
		NodeMajor:      repo.NodeMajor,
		NodeEngine:     repo.NodeEngine,
		NodeImage:      a.Images.Node,
		Memory:         a.Web.Memory,
		DBUser:         a.Database.User,
		DBName:         a.Database.Name,
		DBPassword:     sec.DatabasePassword.Reveal(),
		WebPort:        a.Web.Port,
		APIPort:        a.API.Port,
		HasAPI:         repo.HasAPI && a.API.Enabled != "false" || a.API.Enabled == "true",
		APIDir:         repo.APIDir,
		NextAuthSecret: sec.NextAuthSecret.Reveal(),
		EncryptionKey:  sec.EncryptionKey.Reveal(),
		DatabaseURL:    dbURL,
		SMTPPassword:   env.SMTPPassword.Reveal(),
		Email:          a.Email,
		Billing:        a.Billing,
		InstallDir:     a.InstallDir,
		SrcDir:         a.Source.Dir,
		EnvFile:        filepath.Join(a.InstallDir, ".env"),
		CAInContainer:  CAInContainer,
	}
	if d.APIDir == "" {
		d.APIDir = "apps/api/v1"
	}
	if d.NodeMajor == 0 {
		d.NodeMajor = 18
	}
	if d.NodeImage == "" {
		d.NodeImage = fmt.Sprintf("node:%d-bullseye-slim", d.NodeMajor)
	}
	if a.Database.Mode != DBBundled {
		d.CAFile = a.Database.CAFile
	}
	for _, v := range []string{d.NextAuthSecret, d.EncryptionKey, d.DatabaseURL, d.SMTPPassword, env.BillingToken.Reveal(), env.SigningSecret.Reveal(), d.DBPassword} {
		if strings.ContainsAny(v, "\n\r") {
			return nil, fmt.Errorf("a secret contains a line break; it cannot go in a .env file")
		}
	}
	if a.Web.Dockerfile == "" {
		d.BuildContext, d.Dockerfile, d.GeneratedDockerfile = ".", "build/web.Dockerfile", true
	} else {
		d.BuildContext, d.Dockerfile = relOrAbs(a.InstallDir, a.Source.Dir), path.Clean(filepath.ToSlash(a.Web.Dockerfile))
		if !filepath.IsAbs(d.BuildContext) {
			d.BuildContext = "./" + d.BuildContext
		}
	}
	if d.Caddy {
		d.BindHost, d.ListenHost = "127.0.0.1:", "127.0.0.1"
	} else {
		d.ListenHost = "0.0.0.0"
	}
	d.ProxySite = pu.Host
	if pu.Scheme == "http" {
		d.ProxySite = "http://" + pu.Host
	}
	var files []File
	add := func(tmpl, out string, mode uint32, secret bool) error {
		b, err := templates.Render(tmpl, d)
		if err != nil {
			return err
		}
		files = append(files, File{Path: out, Data: b, Mode: fsMode(mode), Secret: secret})
		return nil
	}
	type spec struct {
		tmpl, out string
		mode      uint32
		secret    bool
		when      bool
	}
	var specs []spec
	switch a.Target {
	case TargetCompose:
		d.Upstream = fmt.Sprintf("web:%d", a.Web.Port)
		d.AgentDir, d.AgentEnvFile, d.AgentStateDir = "/etc/calctl", "/etc/calctl/cal.env", "/var/lib/calctl"
		specs = []spec{
			{"compose/docker-compose.yml.tmpl", "docker-compose.yml", 0o644, false, true},
			{"compose/web.Dockerfile.tmpl", "build/web.Dockerfile", 0o644, false, d.GeneratedDockerfile},
			{"compose/dockerignore.tmpl", ".dockerignore", 0o644, false, d.GeneratedDockerfile},
			{"env/dotenv.tmpl", ".env", 0o600, true, true},
			{"env/db.env.tmpl", "db.env", 0o600, true, d.Bundled},
			{"proxy/Caddyfile.tmpl", "Caddyfile", 0o644, false, d.Caddy},
			{"install/agent.yaml.tmpl", "agent/agent.yaml", 0o600, false, d.Agent},
		}
	case TargetPM2:
		d.Upstream = fmt.Sprintf("127.0.0.1:%d", a.Web.Port)
		d.NodeBin = a.PM2.Node
		d.Instances = a.PM2.Instances
		d.MaxMemoryRestart = a.PM2.MaxMemoryRestart
		d.NextBin = filepath.Join(a.Source.Dir, "node_modules/next/dist/bin/next")
		d.WebDir = filepath.Join(a.Source.Dir, "apps/web")
		d.APIDirAbs = filepath.Join(a.Source.Dir, filepath.FromSlash(d.APIDir))
		d.WebOutLog = filepath.Join(a.PM2.LogDir, "web.out.log")
		d.WebErrLog = filepath.Join(a.PM2.LogDir, "web.err.log")
		d.APIOutLog = filepath.Join(a.PM2.LogDir, "api.out.log")
		d.APIErrLog = filepath.Join(a.PM2.LogDir, "api.err.log")
		d.MigrateCommand = shellJoin(a.Migrate.Command)
		d.AgentDir, d.AgentEnvFile, d.AgentStateDir = filepath.Join(a.InstallDir, "agent"), filepath.Join(a.InstallDir, ".env"), "/var/lib/calctl"
		d.CalctlBin, d.StateDir = "/usr/local/bin/calctl", "/var/lib/calctl"
		d.ConfigPath = filepath.Join(a.InstallDir, "agent", "agent.yaml")
		specs = []spec{
			{"pm2/ecosystem.config.js.tmpl", "ecosystem.config.js", 0o644, false, true},
			{"pm2/install-commands.sh.tmpl", "install-commands.sh", 0o755, false, true},
			{"env/dotenv.tmpl", ".env", 0o600, true, true},
			{"proxy/Caddyfile.tmpl", "Caddyfile", 0o644, false, d.Caddy},
			{"install/agent.yaml.tmpl", "agent/agent.yaml", 0o600, false, d.Agent},
			{"agent/calctl-agent.service.tmpl", "agent/calctl-agent.service", 0o644, false, d.Agent},
		}
	}
	for _, sp := range specs {
		if !sp.when {
			continue
		}
		if err := add(sp.tmpl, sp.out, sp.mode, sp.secret); err != nil {
			return nil, err
		}
	}
	if d.Agent {
		// the agent reads its secrets from files (0600), never from its config
		files = append(files,
			File{Path: "agent/token", Data: []byte(env.BillingToken.Reveal()), Mode: 0o600, Secret: true},
			File{Path: "agent/signing_secret", Data: []byte(env.SigningSecret.Reveal()), Mode: 0o600, Secret: true})
	}
	return files, nil
}

func relOrAbs(base, p string) string {
	r, err := filepath.Rel(base, p)
	if err != nil || strings.HasPrefix(r, "..") {
		return p
	}
	return filepath.ToSlash(r)
}

func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=@:") == "" {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}
