package installer

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/calctl/calctl/internal/cronjob"
	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/localhost"
	"github.com/calctl/calctl/templates"
	"gopkg.in/yaml.v3"
)

// renderStep renders every configuration file into memory (State.Files).
// It writes nothing: the write step does.
type renderStep struct{}

func (renderStep) Name() string { return "render" }

func (renderStep) Run(ctx context.Context, s *State) error {
	if s.Repo.Dir == "" {
		repo, err := InspectRepo(s.Answers.Source.Dir)
		if err != nil {
			return err
		}
		if repo.Dir == "" {
			s.Logf("warn", "no checkout at %s yet: assuming Node %d, no API app and no cron routes", s.Answers.Source.Dir, repo.NodeMajor)
		}
		s.Repo = repo
	}
	r, err := RenderFiles(s.Answers, s.Env, s.Repo, s.Secrets, s.Existing)
	if err != nil {
		return err
	}
	for _, f := range r.Files {
		if f.Path == "docker-compose.yml" {
			if _, err := LoadCompose(ctx, s.Answers.InstallDir, s.Answers.Start.Project, f.Data); err != nil {
				return WithRemedy(err, "this is a calctl bug; report it with `calctl render --dry-run` output")
			}
		}
	}
	for _, n := range r.Notes {
		s.Emit(Event{Type: EventLog, Level: n.Level, Message: n.Message, Remedy: n.Remedy})
	}
	s.Files = r.Files
	s.Progress(100, fmt.Sprintf("%d files rendered", len(r.Files)))
	return nil
}

// Note is something the plan says about the rendered install: what is not
// started and why.
type Note struct {
	// Level is "info" or "warn"; Message the one-line note; Remedy what
	// to do about it ("" when nothing).
	Level, Message, Remedy string
}

// Rendered is the output of RenderFiles.
type Rendered struct {
	// Files are the files to write, relative to install_dir.
	Files []File
	// Notes are the Layout's notes (what is not started and why).
	Notes []Note
	// Publish lists the host ports the install publishes, with their users.
	Publish map[int]string
	// API reports whether API v1 runs; Cron whether cron routes are called.
	API, Cron bool
}

// Layout decides what runs: the API when the tree has it and a license key
// is there, the cron runner when the tree schedules cron routes.
type Layout struct {
	// API is true when API v1 runs (the tree has it and api.enabled is
	// not false, or api.enabled is true; and a license key is there).
	// APIv2 is never set today: calctl does not run API v2, and a note
	// says so. Cron is true when the tree schedules cron routes.
	API, APIv2, Cron bool
	// APIDir is API v1's directory relative to the checkout (default
	// apps/api/v1).
	APIDir string
	// APIPackage is its package name for yarn workspace commands (default
	// @calcom/api).
	APIPackage string
	// Notes say what is not started and why.
	Notes []Note
}

// LayoutFor decides what an install of repo with these answers runs.
func LayoutFor(a *Answers, repo Repo, sec Secrets) Layout {
	l := Layout{APIDir: repo.APIDir, APIPackage: repo.APIPackage}
	if l.APIDir == "" {
		l.APIDir = "apps/api/v1"
	}
	if l.APIPackage == "" {
		l.APIPackage = "@calcom/api"
	}
	wanted := repo.HasAPI && a.API.Enabled != "false" || a.API.Enabled == "true"
	switch {
	case wanted && sec.LicenseKey.IsZero():
		l.Notes = append(l.Notes, Note{"warn",
			fmt.Sprintf("API v1 (%s) is not started: without a license key it answers 401 \"Invalid or missing CALCOM_LICENSE_KEY\" to every request in production", l.APIDir),
			"export the key and set api.license_key_env to its variable name (e.g. CALCOM_LICENSE_KEY), or api.enabled: false to silence this"})
	case wanted:
		l.API = true
	}
	if repo.HasAPIV2 {
		l.Notes = append(l.Notes, Note{"warn",
			"API v2 (apps/api/v2) is not started: calctl does not run it yet (it needs Redis, JWT_SECRET and the license key)",
			"run apps/api/v2 yourself if you need it; API v1 and the web app do not depend on it"})
	}
	if len(repo.CronJobs) > 0 {
		l.Cron = true
		l.Notes = append(l.Notes, Note{"info", fmt.Sprintf("%d cron route(s) scheduled as the tree schedules them", len(repo.CronJobs)), ""})
	}
	if len(repo.CronUnscheduled) > 0 {
		l.Notes = append(l.Notes, Note{"warn",
			fmt.Sprintf("cron routes the tree schedules nowhere are not called: %s", strings.Join(repo.CronUnscheduled, ", ")),
			"call them yourself if you need them: POST with header `authorization: $CRON_API_KEY` (from .env)"})
	}
	return l
}

// BindHost is the address the app's ports are published on: loopback
// behind Caddy, and with proxy none when public_url does not name the app
// port directly (your own proxy on this host forwards to it); all
// interfaces only when public_url is the app port itself on a non-local
// host, the one way that URL can work without a proxy.
func BindHost(a *Answers) string {
	if a.Proxy == ProxyCaddy {
		return "127.0.0.1"
	}
	u, err := url.Parse(a.PublicURLClean())
	if err != nil {
		return "127.0.0.1"
	}
	if u.Port() == strconv.Itoa(a.Web.Port) && !localhost.IsLoopback(u.Hostname()) {
		return "0.0.0.0"
	}
	return "127.0.0.1"
}

// PublicPort is public_url's port (443/80 by scheme when absent).
func PublicPort(a *Answers) int {
	u, err := url.Parse(a.PublicURLClean())
	if err != nil {
		return 443
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if u.Scheme == "http" {
		return 80
	}
	return 443
}

// RenderFiles renders every file of the install described by a. It does no
// I/O: the same inputs give the same bytes. ex are the files of an earlier
// run, edited in place.
func RenderFiles(a *Answers, env EnvSecrets, repo Repo, sec Secrets, ex Existing) (*Rendered, error) {
	urls, err := DatabaseURLsFor(a, env, repo, sec)
	if err != nil {
		return nil, err
	}
	if a.Target == TargetCompose && a.Database.Mode == DBBundled {
		if sec.DBTLS.Key.IsZero() || sec.DBTLS.Cert == "" || sec.DBTLS.CA == "" {
			// the secrets step makes them; a render without them would
			// serve the database without TLS
			return nil, fmt.Errorf("the bundled database's TLS key and certificates are missing (%s, %s, %s; the secrets step makes them)", DBTLSKeyVar, DBTLSCertVar, DBTLSCAVar)
		}
	}
	lay := LayoutFor(a, repo, sec)
	r := &Rendered{Notes: lay.Notes, Publish: map[int]string{}, API: lay.API, Cron: lay.Cron}
	add := func(p string, data []byte, mode uint32, secret bool) {
		r.Files = append(r.Files, File{Path: p, Data: data, Mode: fsMode(mode), Secret: secret})
	}
	envBytes, err := renderDotenv(ex.Env, envHeader, appEnv(a, env, sec, urls, lay.API))
	if err != nil {
		return nil, err
	}
	nodeMajor := repo.NodeMajor
	if nodeMajor == 0 {
		nodeMajor = 18
	}
	bindHost := BindHost(a)
	r.Publish[a.Web.Port] = "web"
	if lay.API {
		r.Publish[a.API.Port] = "API v1"
	}
	if a.Proxy == ProxyCaddy {
		r.Publish[80] = "Caddy (HTTP, ACME)"
		if p := PublicPort(a); p != 80 {
			r.Publish[p] = "Caddy (HTTPS)"
		}
	}
	cronCfg := func(base string) ([]byte, error) {
		c := cronjob.Config{BaseURL: base, Jobs: repo.CronJobs}
		b, err := yaml.Marshal(c)
		if err != nil {
			return nil, err
		}
		return append([]byte("# Generated by calctl from the cron routes and schedules of the checked-out\n# Cal.com tree (.github/workflows/cron-*.yml, apps/web/vercel.json). Read by `calctl cron`.\n"), b...), nil
	}
	switch a.Target {
	case TargetCompose:
		legacyRoles := a.Database.Mode == DBBundled && LegacyDBRoles(a, ex.DBEnv)
		compose, err := composeFor(a, repo, lay, bindHost, urls, legacyRoles)
		if err != nil {
			return nil, err
		}
		add("docker-compose.yml", compose, 0o644, false)
		if a.Web.Dockerfile == "" {
			public := map[string]string{}
			envFile, _ := parseBytes(envBytes)
			for k, v := range envFile {
				if strings.HasPrefix(k, "NEXT_PUBLIC_") || k == "NEXTAUTH_URL" {
					public[k] = v
				}
			}
			img := a.Images.Node
			if img == "" {
				img = DefaultNodeImage(nodeMajor)
			}
			spec := dockerfileSpec{Image: img, NodeMajor: nodeMajor, NodeEngine: repo.NodeEngine, Memory: a.Web.Memory,
				PublicEnv: public, Corepack: repo.NeedsCorepack, BuildMigrates: repo.BuildMigrates, WebPort: a.Web.Port}
			if repo.BuildMigrates && a.Database.Mode == DBBundled {
				spec.BuildCA = DBCAPath(a)
			}
			if lay.API {
				spec.APIPackage, spec.APIDir = lay.APIPackage, lay.APIDir
			}
			df, err := webDockerfile(spec)
			if err != nil {
				return nil, err
			}
			add("build/web.Dockerfile", []byte(df), 0o644, false)
			di, err := templates.Render("compose/dockerignore.tmpl", nil)
			if err != nil {
				return nil, err
			}
			add(".dockerignore", di, 0o644, false)
		}
		add(".env", envBytes, 0o600, true)
		if a.Database.Mode == DBBundled {
			b, err := renderDotenv(ex.DBEnv, "Generated by calctl for the bundled Postgres. Holds secrets: mode 0600.", dbEnvFor(a, sec, legacyRoles))
			if err != nil {
				return nil, err
			}
			add("db.env", b, 0o600, true)
			// TLS and client authentication of the bundled server (dbtls.go):
			// public files, mounted read-only; the key stays in db.env
			for _, c := range []struct{ path, b64 string }{{DBCAFile, sec.DBTLS.CA}, {DBCertFile, sec.DBTLS.Cert}} {
				pb, err := pemOf(c.b64)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", c.path, err)
				}
				add(c.path, pb, 0o644, false)
			}
			add(DBHBAFile, []byte(dbHBA), 0o644, false)
			superuser := SuperuserName
			if legacyRoles {
				superuser = a.Database.User
			}
			add(DBIdentFile, dbIdent(superuser), 0o644, false)
			if legacyRoles {
				r.Notes = append(r.Notes, LegacyDBRolesNote(a))
			} else {
				// executable: the entrypoint executes it (not sources it)
				add(AppRoleScript, []byte(appRoleScript), 0o755, false)
			}
		}
		if lay.Cron {
			b, err := cronCfg(fmt.Sprintf("http://web:%d", a.Web.Port))
			if err != nil {
				return nil, err
			}
			add("cron/cron.yaml", b, 0o644, false)
			ce, err := renderDotenv(nil, "Generated by calctl: the cron runner's keys only (copied from .env). Mode 0600.",
				[]kv{{"CRON_API_KEY", sec.CronAPIKey.Reveal()}, {"CRON_SECRET", sec.CronSecret.Reveal()}})
			if err != nil {
				return nil, err
			}
			add("cron/cron.env", ce, 0o600, true)
		}
	case TargetPM2:
		add(".env", envBytes, 0o600, true)
		js, err := templates.Render("pm2/calcom-env.js", nil)
		if err != nil {
			return nil, err
		}
		add("calcom-env.js", js, 0o644, false)
		for _, f := range pm2Files(a, repo, lay, bindHost) {
			b, err := templates.Render(f.tmpl, f.data)
			if err != nil {
				return nil, err
			}
			add(f.out, b, f.mode, false)
		}
		if lay.Cron {
			b, err := cronCfg(fmt.Sprintf("http://127.0.0.1:%d", a.Web.Port))
			if err != nil {
				return nil, err
			}
			add("cron/cron.yaml", b, 0o644, false)
		}
	}
	if a.Proxy == ProxyCaddy {
		b, err := caddyfile(a)
		if err != nil {
			return nil, err
		}
		add("Caddyfile", b, 0o644, false)
	}
	if a.Billing.Endpoint != "" {
		files, err := agentFiles(a, env)
		if err != nil {
			return nil, err
		}
		r.Files = append(r.Files, files...)
	}
	if a.Backup.Schedule != "" {
		files, err := backupFiles(a)
		if err != nil {
			return nil, err
		}
		r.Files = append(r.Files, files...)
	}
	sort.SliceStable(r.Files, func(i, j int) bool { return r.Files[i].Path < r.Files[j].Path })
	return r, nil
}

func parseBytes(b []byte) (map[string]string, error) {
	f, err := dotenv.Parse(b)
	if err != nil {
		return nil, err
	}
	return f.Map(), nil
}

// composeFor builds docker-compose.yml.
//
// Every service is hardened (issue 13 item 5; the table in docs/checks.md
// "What the rendered install satisfies" says which check each setting
// answers and what is left to the host): see harden for what all get.
func composeFor(a *Answers, repo Repo, lay Layout, bindHost string, urls DatabaseURLs, legacyRoles bool) ([]byte, error) {
	bundled := a.Database.Mode == DBBundled
	c := &composeFile{Services: map[string]*composeService{}, Volumes: map[string]composeVolume{}}
	webImage := a.Start.Project + "-web:local"
	var caMounts []composeMount
	if a.Database.CAFile != "" && !bundled {
		caMounts = []composeMount{bind(a.Database.CAFile, CAInContainer)}
	}
	if bundled {
		// the bundled database's CA at the path the URLs name, the same
		// in the containers as on this host (DBCAPath)
		caMounts = []composeMount{bind("./"+DBCAFile, DBCAPath(a))}
	}
	dbDep := map[string]composeCondition{}
	if bundled {
		dbDep["database"] = composeCondition{"service_healthy"}
		db := &composeService{
			Image: a.Images.Postgres,
			// Server settings as arguments, so an existing volume gets them
			// too: scram-sha-256 for every password set, also on Postgres 13
			// whose default is md5 (PG-005; the entrypoint passes these
			// arguments to its temporary init server too,
			// docker_temp_server_start "$@"); who connected from where, to
			// stderr and so to the rotated container log (PG-008).
			// TLS and pg_hba (PG-001..PG-004) the same way, through the
			// wrapper that puts the key in place (dbtls.go).
			Command: append([]string{"sh", "-c", dbTLSWrapper, "calctl-database",
				"postgres", "-c", "password_encryption=scram-sha-256",
				"-c", "log_connections=on", "-c", "log_disconnections=on",
				"-c", "log_line_prefix=%m [%p] user=%u db=%d app=%a client=%h ", "-c", "log_timezone=UTC"}, dbServerTLSArgs()...),
			Restart: "unless-stopped",
			EnvFile: []string{"db.env"},
			Volumes: []composeMount{{Type: "volume", Source: "database-data", Target: "/var/lib/postgresql/data"},
				bind("./"+DBCertFile, dbCertInContainer), bind("./"+DBHBAFile, dbHBAInContainer), bind("./"+DBIdentFile, dbIdentInContainer)},
			Healthcheck: &composeHealthcheck{Test: []string{"CMD", "pg_isready", "-h", "127.0.0.1", "-U", a.Database.User, "-d", a.Database.Name},
				Interval: "5s", Timeout: "5s", Retries: 30, StartPeriod: "10s"},
			// The official image runs as postgres when started with --user:
			// its entrypoint chowns and re-execs through gosu only when id -u
			// is 0 (docker-library/postgres@6edb0a8:16/alpine3.22/docker-entrypoint.sh,
			// docker_create_db_directories and _main: "allow the container to
			// be started with `--user`"), and the image makes PGDATA owned by
			// postgres (Dockerfile: `install --directory --owner postgres
			// --group postgres --mode 1777 "$PGDATA"`), which a new named
			// volume copies; a volume the root entrypoint initialised is
			// postgres-owned already. The name (not a uid) resolves to 70 on
			// alpine and 999 on Debian, and initdb needs the user in
			// /etc/passwd (docker-library/postgres#253). Never root, so no
			// capability is needed at all (the root entrypoint would need
			// CHOWN, DAC_OVERRIDE, FOWNER, SETUID and SETGID for its find
			// -exec chown and gosu). images.postgres must keep the official
			// image's contract anyway (POSTGRES_* variables, initdb.d,
			// pg_isready), so it is that image or one built FROM it.
			User: "postgres",
			// The entrypoint and server write only PGDATA (the volume), the
			// socket directory /var/run/postgresql and mktemp files in /tmp
			// (nss_wrapper's passwd when the uid has no entry): both tmpfs,
			// root-owned and world-writable with the sticky bit (see tmpfs;
			// the uid differs by variant), so the entrypoint's
			// `chmod 03775 /var/run/postgresql || :` fails harmlessly.
			ReadOnly: true,
			Tmpfs:    []string{tmpfs("/var/run/postgresql"), tmpfs("/tmp")},
		}
		if !legacyRoles {
			db.Volumes = append(db.Volumes, bind("./"+AppRoleScript, AppRoleScriptInContainer))
		}
		harden(db, limitsDatabase)
		c.Services["database"] = db
		c.Volumes["database-data"] = composeVolume{}
	}
	generated := a.Web.Dockerfile == ""
	web := &composeService{
		Image:     webImage,
		Restart:   "unless-stopped",
		EnvFile:   []string{".env"},
		Ports:     []string{fmt.Sprintf("%s:%d:%d", bindHost, a.Web.Port, a.Web.Port)},
		Volumes:   caMounts,
		DependsOn: copyDeps(dbDep),
	}
	if generated {
		web.Build = &composeBuild{Context: ".", Dockerfile: "build/web.Dockerfile"}
		if repo.BuildMigrates {
			web.Build.Args = []string{"DATABASE_URL"}
			if bundled {
				web.Build.Network = a.Start.Project + "_default"
			}
		}
		web.WorkingDir = "/calcom/apps/web"
		appRuntime(web, "/calcom/apps/web")
		// each app starts with its own app's `next` (calcom-facts.md §9 "pm2"):
		// `yarn next` in the app's directory runs the next of that workspace
		web.Command = []string{"yarn", "next", "start", "-p", strconv.Itoa(a.Web.Port)}
		// upstream's healthcheck (docker@4ea7fc4:Dockerfile): wget of the web root
		web.Healthcheck = &composeHealthcheck{Test: []string{"CMD", "wget", "-q", "--spider", fmt.Sprintf("http://127.0.0.1:%d/", a.Web.Port)},
			Interval: "15s", Timeout: "10s", Retries: 20, StartPeriod: "60s"}
	} else {
		ctx := relOrAbs(a.InstallDir, a.Source.Dir)
		if !filepath.IsAbs(ctx) {
			ctx = "./" + ctx
		}
		web.Build = &composeBuild{Context: ctx, Dockerfile: path.Clean(filepath.ToSlash(a.Web.Dockerfile))}
	}
	if len(web.DependsOn) == 0 {
		web.DependsOn = nil
	}
	// (an image of a web.dockerfile of the operator's keeps its own user
	// and a writable root: what it writes is unknown; docs/checks.md)
	harden(web, limitsWeb)
	c.Services["web"] = web
	if lay.API {
		deps := copyDeps(dbDep)
		deps["web"] = composeCondition{"service_started"}
		c.Services["api"] = &composeService{
			Image:       webImage,
			WorkingDir:  "/calcom/" + lay.APIDir,
			Command:     []string{"yarn", "next", "start", "-p", strconv.Itoa(a.API.Port)},
			Restart:     "unless-stopped",
			EnvFile:     []string{".env"},
			Environment: map[string]string{"PORT": strconv.Itoa(a.API.Port)},
			Ports:       []string{fmt.Sprintf("%s:%d:%d", bindHost, a.API.Port, a.API.Port)},
			Volumes:     caMounts,
			DependsOn:   deps,
		}
		if generated {
			appRuntime(c.Services["api"], "/calcom/"+lay.APIDir)
			// API v1 answers 401 to a request without an API key (and to
			// every request without a license key, calcom-facts.md §9), which
			// wget --spider counts as a failure: healthy is any HTTP answer
			// (DK-010; `wget -S` prints the status line, GNU and busybox
			// alike; the generated image is the full node image, with sh)
			c.Services["api"].Healthcheck = &composeHealthcheck{
				Test:     []string{"CMD-SHELL", fmt.Sprintf("wget -q -S -O /dev/null http://127.0.0.1:%d/ 2>&1 | grep -q HTTP/", a.API.Port)},
				Interval: "15s", Timeout: "10s", Retries: 20, StartPeriod: "60s"}
		}
		harden(c.Services["api"], limitsAPI)
	}
	if lay.Cron {
		c.Services["cron"] = &composeService{
			Image:     a.Images.Calctl,
			Command:   []string{"cron", "--config", "/etc/calctl/cron.yaml", "--log-format", "json"},
			Restart:   "unless-stopped",
			EnvFile:   []string{"cron/cron.env"},
			Volumes:   []composeMount{bind("./cron/cron.yaml", "/etc/calctl/cron.yaml")},
			DependsOn: map[string]composeCondition{"web": {"service_started"}},
			// the calctl image is FROM scratch (templates/files/agent/Dockerfile.agent):
			// a numeric uid needs no /etc/passwd; the runner reads its
			// config (0644) and env and writes nothing
			User:     calctlUser,
			ReadOnly: true,
		}
		harden(c.Services["cron"], limitsCalctl)
	}
	if a.Proxy == ProxyCaddy {
		ports := []string{"80:80"}
		if p := PublicPort(a); p != 80 {
			ports = append(ports, fmt.Sprintf("%d:%d", p, p))
		}
		proxy := &composeService{
			Image:   a.Images.Caddy,
			Restart: "unless-stopped",
			Ports:   ports,
			Volumes: []composeMount{bind("./Caddyfile", "/etc/caddy/Caddyfile"),
				{Type: "volume", Source: "caddy-data", Target: "/data"}, {Type: "volume", Source: "caddy-config", Target: "/config"}},
			DependsOn: map[string]composeCondition{"web": {"service_started"}},
			// Caddy keeps its state in $XDG_DATA_HOME=/data and
			// $XDG_CONFIG_HOME=/config (caddy-docker's Dockerfile ENV), both
			// volumes; the root filesystem can be read-only.
			ReadOnly: true,
			Tmpfs:    []string{tmpfs("/tmp")},
		}
		// It stays root: the caddy image has no other user and the volumes
		// of existing installs (certificates, ACME account) are root-owned.
		// Root without capabilities still needs NET_BIND_SERVICE for :80
		// and :443 on engines before 20.10, which do not set
		// net.ipv4.ip_unprivileged_port_start=0 in containers.
		harden(proxy, limitsProxy, "NET_BIND_SERVICE")
		c.Services["proxy"] = proxy
		c.Volumes["caddy-data"], c.Volumes["caddy-config"] = composeVolume{}, composeVolume{}
	}
	if a.Billing.Endpoint != "" {
		vols := []composeMount{bind("./agent", "/etc/calctl"), bind("./.env", "/etc/calctl/cal.env"),
			{Type: "volume", Source: "agent-state", Target: "/var/lib/calctl"}}
		vols = append(vols, caMounts...)
		agent := &composeService{
			Image:   a.Images.Calctl,
			Restart: "unless-stopped",
			Command: []string{"agent", "--config", "/etc/calctl/agent.yaml", "--log-format", "json"},
			Volumes: vols,
			// It stays root: its outbox volume /var/lib/calctl is root-owned
			// (the image's VOLUME creates it so, and existing installs hold
			// unsent billing snapshots there that a non-root agent could not
			// write). Root without any capability writes only what root owns.
			ReadOnly:  true,
			DependsOn: copyDeps(dbDep),
		}
		harden(agent, limitsCalctl)
		if len(agent.DependsOn) == 0 {
			agent.DependsOn = nil
		}
		c.Services["agent"] = agent
		c.Volumes["agent-state"] = composeVolume{}
	}
	if len(c.Volumes) == 0 {
		c.Volumes = nil
	}
	return c.encode("Generated by calctl from your answers. Do not edit: change the answers and\nrun `calctl render` again (secrets are kept). Secrets live in .env, db.env and\ncron/cron.env (mode 0600), never in this file.")
}

// tmpfs is a tmpfs mount a non-root user can write: mode 1777 (sticky,
// like /tmp) where the image has no such directory. Where it has one, the
// runtime gives the tmpfs that directory's mode instead (runc 1.1's
// tmpcopyup, seen with Docker 20.10): the postgres image makes
// /var/run/postgresql 3777 and /tmp 1777 (docker-library/postgres@6edb0a8
// Dockerfile), and the generated Dockerfile leaves no .next/cache behind.
func tmpfs(dir string) string { return dir + ":mode=1777" }

// calctlUser is the uid:gid the cron runner runs as in the calctl image
// (65532, the conventional "nonroot" of distroless images).
const calctlUser = "65532:65532"

// appRuntime runs a service of the generated web image (Node) as the node
// image's node user (uid and gid 1000: docker-library/node's Dockerfile
// `groupadd --gid 1000 node && useradd --uid 1000 --gid node`), numeric so
// no /etc/passwd entry is needed, on a read-only root filesystem. What
// Next.js writes at run time goes to tmpfs: <app>/.next/cache (the image
// optimizer's and fetch caches; next start creates it) and /tmp. HOME is
// /tmp because Yarn 1 and Corepack keep caches under $HOME (Yarn 1 falls
// back to /tmp when its cache folder is not writable). Pages Next.js
// regenerates (ISR) cannot persist to .next/server on a read-only root:
// Next.js logs "Failed to update prerender cache" with EROFS and serves
// them from its in-memory cache (cdklabs/cdk-nextjs#85).
func appRuntime(s *composeService, appDir string) {
	s.User = "1000:1000"
	s.ReadOnly = true
	s.Tmpfs = []string{tmpfs("/tmp"), tmpfs(path.Join(appDir, ".next/cache"))}
	if s.Environment == nil {
		s.Environment = map[string]string{}
	}
	s.Environment["HOME"] = "/tmp"
}

func copyDeps(m map[string]composeCondition) map[string]composeCondition {
	out := map[string]composeCondition{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// caddyfile renders the Caddyfile from validated values only: the host of
// public_url (IDNA-checked) and ports.
func caddyfile(a *Answers) ([]byte, error) {
	u, err := url.Parse(a.PublicURLClean())
	if err != nil {
		return nil, err
	}
	site := u.Host
	if u.Scheme == "http" {
		site = "http://" + u.Host
	}
	upstream := fmt.Sprintf("web:%d", a.Web.Port)
	if a.Target == TargetPM2 {
		upstream = fmt.Sprintf("127.0.0.1:%d", a.Web.Port)
	}
	return templates.Render("proxy/Caddyfile.tmpl", map[string]string{"PublicURL": a.PublicURLClean(), "ProxySite": site, "Upstream": upstream})
}

// agentYAML is agent.yaml, encoded with yaml.v3 (keys of
// reporter/agentconfig.Keys).
type agentYAML struct {
	DeploymentID      string `yaml:"deployment_id"`
	Endpoint          string `yaml:"endpoint"`
	LiveSince         string `yaml:"live_since"`
	Interval          string `yaml:"interval"`
	TokenFile         string `yaml:"token_file"`
	SigningSecretFile string `yaml:"signing_secret_file"`
	DatabaseURLEnv    string `yaml:"database_url_env"`
	EnvFile           string `yaml:"env_file"`
	StateDir          string `yaml:"state_dir"`
}

func agentFiles(a *Answers, env EnvSecrets) ([]File, error) {
	dir, envFile, state := "/etc/calctl", "/etc/calctl/cal.env", "/var/lib/calctl"
	if a.Target == TargetPM2 {
		dir, envFile = filepath.Join(a.InstallDir, "agent"), filepath.Join(a.InstallDir, ".env")
	}
	y := agentYAML{DeploymentID: a.Billing.DeploymentID, Endpoint: a.Billing.Endpoint, LiveSince: a.Billing.LiveSince,
		Interval: a.Billing.Interval, TokenFile: path.Join(filepath.ToSlash(dir), "token"), SigningSecretFile: path.Join(filepath.ToSlash(dir), "signing_secret"),
		DatabaseURLEnv: "CALCTL_DATABASE_URL", EnvFile: envFile, StateDir: state}
	b, err := yaml.Marshal(y)
	if err != nil {
		return nil, err
	}
	head := "# Generated by calctl from the billing answers: the usage agent's config\n# (read by `calctl agent --config`). Mode 0600. The token and signing secret\n# are in the files named below (0600), never here.\n"
	files := []File{
		{Path: "agent/agent.yaml", Data: append([]byte(head), b...), Mode: 0o600},
		{Path: "agent/token", Data: []byte(env.BillingToken.Reveal()), Mode: 0o600, Secret: true},
		{Path: "agent/signing_secret", Data: []byte(env.SigningSecret.Reveal()), Mode: 0o600, Secret: true},
	}
	if a.Target == TargetPM2 {
		unit, err := templates.Render("agent/calctl-agent.service.tmpl", map[string]string{
			"CalctlBin": "/usr/local/bin/calctl", "StateDir": state, "ConfigPath": filepath.Join(a.InstallDir, "agent", "agent.yaml")})
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: "agent/calctl-agent.service", Data: unit, Mode: 0o644})
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
