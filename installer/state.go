package installer

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/cronjob"
	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/secret"
	"github.com/docker/docker/client"
)

// File is one file the render step produced, relative to install_dir.
type File struct {
	// Path is relative to install_dir, slash-separated (".env",
	// "docker-compose.yml", "Caddyfile", "agent/agent.yaml", ...).
	Path string
	// Data is the file's full content as it will be written.
	Data []byte
	// Mode is the permission bits the write step gives the file.
	Mode os.FileMode
	// Secret marks files that hold secrets: mode 0600, values masked in diffs.
	Secret bool
}

// Secrets are the secrets calctl generates once and keeps byte for byte.
type Secrets struct {
	// NextAuthSecret is NEXTAUTH_SECRET: kept from .env, else 32 random
	// bytes base64 encoded (NewNextAuthSecret).
	NextAuthSecret secret.Secret
	// EncryptionKey is CALENDSO_ENCRYPTION_KEY: kept from .env, else 32
	// random URL-safe base64 characters (NewEncryptionKey); a kept key of
	// another length is warned about, never replaced.
	EncryptionKey secret.Secret
	// DatabasePassword is the password of the role DATABASE_URL names
	// (the bundled database's app role, or the superuser of a one-role
	// install: render_dbroles.go).
	DatabasePassword secret.Secret
	// SuperuserPassword is the bundled Postgres superuser's (db.env
	// POSTGRES_PASSWORD in the two-role layout); never in .env.
	SuperuserPassword secret.Secret
	// CronAPIKey and CronSecret authenticate calls to Cal.com's cron routes
	// (CRON_API_KEY, CRON_SECRET; calcom-facts.md §9 "Cron").
	CronAPIKey secret.Secret
	// CronSecret is CRON_SECRET: kept from .env, else generated like
	// CronAPIKey.
	CronSecret secret.Secret
	// LicenseKey is CALCOM_LICENSE_KEY: from api.license_key_env, else the
	// one already in .env. Never generated.
	LicenseKey secret.Secret
	// DBTLS is the bundled database's key, certificate and CA (db.env
	// CALCTL_DB_TLS_*; dbtls.go): kept while valid, else made anew.
	DBTLS            DatabaseTLS
	GeneratedThisRun []string // names of secrets created by this run (never their values)
}

// Existing are the files of an earlier run that the render step edits in
// place, keeping every key calctl does not own (nil: no such file).
type Existing struct {
	Env   *dotenv.File // .env
	DBEnv *dotenv.File // db.env
}

// Repo is what calctl learned about the cloned source tree (InspectRepo).
type Repo struct {
	// Dir is the checkout's directory (source.dir); "" when it has no
	// package.json yet, and then defaults apply.
	Dir string
	// Commit is the checked-out HEAD as a full hex hash (the clone step's
	// gitsource result); "" when the tree was only inspected.
	Commit     string
	NodeEngine string // package.json engines.node ("" when absent)
	YarnEngine string // package.json engines.yarn
	PackageMgr string // package.json packageManager
	NodeMajor  int    // the Node major the Dockerfile and pm2 use

	YarnBerry     bool   // Yarn >= 2 (.yarnrc.yml or packageManager yarn@2+)
	YarnPath      string // .yarnrc.yml yarnPath (a Yarn release committed to the tree)
	NeedsCorepack bool   // packageManager yarn@>=2 without yarnPath: `corepack enable` first

	HasAPI      bool   // API v1 exists (apps/api/v1, or apps/api on 2022 trees)
	APIDir      string // apps/api or apps/api/v1, relative to Dir
	APIPackage  string // its package name (@calcom/api)
	APIHasBuild bool   // its package.json has a build script
	HasAPIV2    bool   // apps/api/v2 (NestJS) exists

	BuildMigrates bool   // packages/prisma's build runs `migrate deploy`: the build needs the database
	SeedAppStore  bool   // packages/prisma has a seed-app-store script
	AdapterPG     bool   // packages/prisma uses @prisma/adapter-pg: node-postgres reads DATABASE_URL
	PrismaPackage string // packages/prisma's package name (@calcom/prisma)

	CronJobs        []cronjob.Job // cron routes with the schedules the tree gives them
	CronUnscheduled []string      // cron routes the tree schedules nowhere
}

func sortStrings(s []string) { sort.Strings(s) }

func sortJobs(j []cronjob.Job) {
	sort.Slice(j, func(a, b int) bool {
		if j[a].Path != j[b].Path {
			return j[a].Path < j[b].Path
		}
		return j[a].Schedule < j[b].Schedule
	})
}

// State is what steps share during one run.
type State struct {
	// Answers are the validated answers of the run (defaults applied).
	Answers *Answers
	// Env are the secrets read from the environment variables the answers
	// name (*_env keys: git token, database URL, SMTP password, ...).
	Env EnvSecrets
	// Getenv reads the environment (tests supply their own).
	Getenv func(string) string
	// DryRun makes every step report what it would do and change nothing.
	DryRun bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Stdout and Stderr receive output of commands the steps run (compose).
	Stdout, Stderr io.Writer
	// IgnorePreflight names preflight checks to downgrade to warnings.
	IgnorePreflight []string
	// FailOn is the lowest severity of an unwaived check FAIL that makes the
	// install exit non-zero ("" or "none": never); Check is what the check
	// step found.
	FailOn string
	// Check is the check step's summary; nil until it ran (or when it was
	// skipped).
	Check *contract.CheckSummary

	// Repo is what the clone step (or the render step, from source.dir)
	// learned about the Cal.com tree.
	Repo Repo
	// Secrets are the install's secrets, filled by the secrets step.
	Secrets Secrets
	// Existing are the .env and db.env of an earlier run, read by the
	// secrets step.
	Existing Existing
	// Files are what the render step produced, written by the write step.
	Files []File
	// Written lists the files the write step changed (paths relative to install_dir).
	Written []string
	// Backups lists the backup copies the write step made.
	Backups []string

	// Compose is the compose command preflight found (compose target).
	Compose *preflight.Compose

	docker      *client.Client
	dockerHost  string
	emit        func(Event)
	doneMessage string
}

func (s *State) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Emit sends an event attributed to the running step.
func (s *State) Emit(e Event) {
	if s.emit != nil {
		s.emit(e)
	}
}

// Progress reports progress of the running step.
func (s *State) Progress(percent int, msg string) {
	s.Emit(Event{Type: EventProgress, Percent: percent, Message: msg})
}

// Logf reports a line from the running step at level info, warn or error.
func (s *State) Logf(level, format string, a ...any) {
	s.Emit(Event{Type: EventLog, Level: level, Message: fmt.Sprintf(format, a...)})
}

// Finish sets the message the final done event carries.
func (s *State) Finish(msg string) { s.doneMessage = msg }

// Path returns p joined to install_dir.
func (s *State) Path(p string) string { return filepath.Join(s.Answers.InstallDir, p) }

func fsMode(m uint32) os.FileMode { return os.FileMode(m) }
