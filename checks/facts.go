package checks

import (
	"fmt"
	"time"
)

// FactsSchemaVersion is bumped when Facts changes incompatibly.
const FactsSchemaVersion = 1

// Facts is everything the collectors learned, plain and serialisable. It
// never holds a secret value: secret-named values are reduced to length,
// entropy, a short digest and whether they are a known default.
type Facts struct {
	// SchemaVersion is FactsSchemaVersion when collected; a bundle from
	// another version is refused.
	SchemaVersion int `json:"schema_version"`
	// CollectedAt is when collection began; Now returns it, so a bundle
	// judged later judges as the live run did.
	CollectedAt time.Time `json:"collected_at"`
	// Target says what was checked.
	Target Target `json:"target"`
	// Sources records how each collector fared; a check whose sources
	// failed reports ERROR or SKIP with the cause.
	Sources map[Source]SourceState `json:"sources"`
	// Files are the parsed .env, compose and pm2 files (nil: not collected).
	Files *FileFacts `json:"files,omitempty"`
	// PG is what the read-only Postgres session saw.
	PG *PGFacts `json:"postgres,omitempty"`
	// Docker is what the Docker engine reported.
	Docker *DockerFacts `json:"docker,omitempty"`
	// Net is what probing the public URL learned.
	Net *NetFacts `json:"net,omitempty"`
	// Host is what the local host showed (sockets, disks, clock, sshd).
	Host *HostFacts `json:"host,omitempty"`
	// Backup is what calctl found of backups and restore tests.
	Backup *BackupFacts `json:"backup,omitempty"`
	// Kube is what the Kubernetes collector read from one namespace.
	Kube *KubeFacts `json:"kubernetes,omitempty"`
}

// Target says what was checked.
type Target struct {
	// Profile is the deployment profile: compose, pm2, rds or kubernetes
	// (ProfileKubernetes), given or detected.
	Profile string `json:"profile"`
	// Dir is the install directory checked, when given.
	Dir string `json:"dir,omitempty"`
	// EnvFile is the dotenv file read (--env-file, else the first of .env,
	// .env.production, .env.local in Dir); "" when none.
	EnvFile string `json:"env_file,omitempty"`
	// ComposeFile is the compose file read (--compose-file, else the first
	// of docker-compose.yml/.yaml, compose.yml/.yaml in Dir); "" when none.
	ComposeFile string `json:"compose_file,omitempty"`
	// PM2File is the pm2 ecosystem file read (--pm2-file, else the first of
	// ecosystem.config.js/.cjs/.json, ecosystem.json in Dir); "" when none.
	PM2File string `json:"pm2_file,omitempty"`
	// Database is the database URL checked, always without its password
	// (internal/redact.URL).
	Database string `json:"database,omitempty"`
	// PublicURL is the public URL probed (NEXT_PUBLIC_WEBAPP_URL or --url).
	PublicURL string `json:"public_url,omitempty"`
	// Host is the name of the machine calctl ran on.
	Host string `json:"host,omitempty"`
	// Kubernetes is the namespace checked with profile kubernetes:
	// "namespace NS on SERVER (context CTX)".
	Kubernetes string `json:"kubernetes,omitempty"`
}

// SourceState records how a collector fared.
type SourceState struct {
	// Collected is true when the collector ran to the end.
	Collected bool `json:"collected"`
	// Error says why it failed (its checks report ERROR).
	Error string `json:"error,omitempty"`
	// Skipped says why it did not run (its checks report SKIP).
	Skipped string `json:"skipped,omitempty"`
	// DurationMS is how long it took.
	DurationMS int64 `json:"duration_ms"`
}

// Source returns the state of collector s (zero value when never run).
func (f *Facts) Source(s Source) SourceState {
	if f == nil || f.Sources == nil {
		return SourceState{}
	}
	return f.Sources[s]
}

// SetSource records the outcome of collector s.
func (f *Facts) SetSource(s Source, st SourceState) {
	if f.Sources == nil {
		f.Sources = map[Source]SourceState{}
	}
	f.Sources[s] = st
}

// Now is the collection time; time-based checks use it so that a bundle
// judged later gives the same results as the live run.
func (f *Facts) Now() time.Time {
	if f.CollectedAt.IsZero() {
		return time.Now()
	}
	return f.CollectedAt
}

// EnvVar is what calctl keeps about one configuration variable.
type EnvVar struct {
	// File and Line say where the variable was set.
	File string `json:"file"`
	// Line is the 1-based line in File; 0 when the value has no line of its
	// own (a compose env_file value, a pm2 JSON env entry).
	Line int `json:"line,omitempty"`
	// Secret is true when the name is secret-named (redact.IsSecretKey) or
	// the value holds URL credentials: then Value is empty or redacted.
	Secret bool   `json:"secret"`
	Value  string `json:"value,omitempty"` // only when not secret
	// Len is the value's length in bytes.
	Len int `json:"len"`
	// Entropy estimates a secret's strength in bits (length × log2 of
	// the character classes used).
	Entropy float64 `json:"entropy_bits"`
	Digest  string  `json:"digest,omitempty"`  // sha256[:8] hex of the value
	Default bool    `json:"default,omitempty"` // a published default or placeholder
	// URL is the parsed value when it is a postgres:// or postgresql://
	// URL (collect.ParseDBURL); nil otherwise.
	URL *DBURL `json:"url,omitempty"`
}

// DBURL is a parsed database URL without its password.
type DBURL struct {
	// Scheme is "postgres" or "postgresql".
	Scheme string `json:"scheme"`
	// Host is the URL's host name or IP, or the host= query parameter
	// when the authority has none (a unix socket directory).
	Host string `json:"host"`
	// Port is the port as written; "" means the default 5432.
	Port string `json:"port,omitempty"`
	// User is the user name of the URL's user info; "" when none.
	User string `json:"user,omitempty"`
	// Database is the path without its leading "/"; "" when none.
	Database string `json:"database,omitempty"`
	// Params are the query parameters (sslmode, sslrootcert, ...),
	// password excepted.
	Params map[string]string `json:"params,omitempty"`
	// HasPassword is true when the URL carries a password (user info or
	// password=); PasswordLen, PasswordDigest (sha256[:8]) and
	// PasswordWeak (a published default) describe it.
	HasPassword bool `json:"has_password"`
	// PasswordLen is the password's length in bytes (0: no password).
	PasswordLen int `json:"password_len,omitempty"`
	// PasswordDigest is sha256[:8] of the password in hex (collect.Digest),
	// to compare values without holding them.
	PasswordDigest string `json:"password_digest,omitempty"`
	// PasswordWeak is true when the password is a published default or a
	// placeholder (collect.IsDefaultValue: "postgres", "changeme", ...).
	PasswordWeak bool `json:"password_default,omitempty"`
	// Local is true when Host is on this machine (internal/localhost.IsLocal).
	Local bool `json:"local"`
	// Redacted is the URL without its password.
	Redacted string `json:"redacted"`
	// TLS is how each driver that may read the URL would use TLS, keyed
	// "engine" (Prisma's engine: migrations always, the runtime before
	// @prisma/adapter-pg), "node-postgres" and "libpq" (calcom-facts.md §9).
	TLS map[string]URLTLS `json:"tls,omitempty"`
}

// URLTLS is one driver's reading of a database URL's TLS settings.
type URLTLS struct {
	// Encrypted is true when the driver would only talk TLS to the server
	// (internal/dburl.Analyze).
	Encrypted bool `json:"encrypted"`
	// Verified is true when it would also verify the server's certificate
	// and host name.
	Verified bool `json:"verified"`
	// Why is dburl's one-line reason (the sslmode/ssl parameters that
	// decided it).
	Why string `json:"why"`
}

// FileStat is the mode and owner of a config file.
type FileStat struct {
	// Path is the file's path as given or found (not made absolute).
	Path string `json:"path"`
	Kind string `json:"kind"` // env, compose, pm2, pm2-log
	// Exists is false when stat failed; then Mode, UID and GitTracked are
	// zero.
	Exists bool `json:"exists"`
	// Mode is the permission bits; UID the owner.
	Mode uint32 `json:"mode"`
	// UID is the numeric owner from stat(2).
	UID int `json:"uid"`
	// GitTracked is whether git tracks the file (nil: not in a repository).
	GitTracked *bool `json:"git_tracked,omitempty"`
	// Secrets is true when the file holds secret values.
	Secrets bool `json:"holds_secrets"`
}

// FileFacts holds the parsed .env, compose and pm2 files.
type FileFacts struct {
	// Env, Compose and PM2 are the parsed files (nil when absent).
	Env *EnvFacts `json:"env,omitempty"`
	// Compose is the compose file as compose-go loads it (nil: no compose
	// file).
	Compose *ComposeFacts `json:"compose,omitempty"`
	// PM2 is the pm2 ecosystem file plus `pm2 jlist` (nil: no pm2 file).
	PM2 *PM2Facts `json:"pm2,omitempty"`
	// Stats are the files' modes and owners.
	Stats  []FileStat        `json:"stats,omitempty"`
	AppEnv map[string]EnvVar `json:"app_env"` // merged: .env, then compose app env, then pm2 env
	// PrismaDriver is what reads DATABASE_URL at run time: "engine", or
	// "node-postgres" when the checkout's packages/prisma uses
	// @prisma/adapter-pg; "" when no checkout was found (src/ of --dir).
	PrismaDriver string `json:"prisma_driver,omitempty"`
}

// EnvFacts is a parsed dotenv file.
type EnvFacts struct {
	// Path is the env file read (Target.EnvFile).
	Path string `json:"path"`
	// Vars maps each variable set in the file to its description; a key
	// set twice keeps the last assignment, as dotenv does.
	Vars map[string]EnvVar `json:"vars"`
}

// PortBinding is a published port.
type PortBinding struct {
	// HostIP is the host address the port is published on: "", 0.0.0.0
	// or :: for every interface, "unpublished" for a compose port with no
	// host port (container-only).
	HostIP string `json:"host_ip"`
	// HostPort is the published host port or range; "" when unpublished.
	HostPort string `json:"host_port"`
	// ContainerPort is the container port, with "/udp" (or another
	// protocol) appended when not tcp; Docker's form is "3000/tcp".
	ContainerPort string `json:"container_port"`
	// Line is the line of the ports: item in the compose file (the ports:
	// key when items cannot be matched); 0 for a container's binding.
	Line int `json:"line,omitempty"`
}

// ComposeFacts is a compose file as Compose itself loads it (compose-go:
// merge keys, anchors, extends, profiles, interpolation from the .env).
type ComposeFacts struct {
	// Path is the compose file read (Target.ComposeFile).
	Path string `json:"path"`
	// Project is the compose project name (name:, COMPOSE_PROJECT_NAME, or
	// the directory's name normalised) and Dir its working directory; the
	// Docker collector finds the project's containers by them.
	Project string `json:"project,omitempty"`
	// Dir is the project's working directory: the compose file's absolute
	// directory (matched against com.docker.compose.project.working_dir).
	Dir string `json:"dir,omitempty"`
	// Services are every service of the file, all profiles included,
	// ordered by their line in the file.
	Services []ComposeService `json:"services"`
}

// ComposeService is one service of a compose file.
type ComposeService struct {
	// Name is the service's key under services:.
	Name string `json:"name"`
	// Line is the line of that key in the compose file (0 when the key is
	// not in this file's YAML).
	Line int `json:"line"`
	// Image is the image: reference after interpolation; "" for a
	// build-only service.
	Image string `json:"image"`
	// ImageLine is the line of image: (through merge keys), else Line.
	ImageLine int `json:"image_line,omitempty"`
	// Build is true when the service has a build: section.
	Build bool `json:"build,omitempty"`
	// Role is collect.Role's tag: db, app, api, studio, redis or "" (not
	// recognised), from the image, name, command, env keys and ports.
	Role string `json:"role"`
	// Privileged is privileged: true.
	Privileged bool `json:"privileged,omitempty"`
	// User is user: as written ("uid[:gid]" or a name); "" runs as the
	// image's user.
	User string `json:"user,omitempty"`
	// Restart is restart:, else deploy.restart_policy.condition; "" when
	// neither is set (Compose's default "no").
	Restart string `json:"restart,omitempty"`
	// ReadOnly is read_only: true (a read-only root filesystem).
	ReadOnly bool `json:"read_only,omitempty"`
	// Ports are the ports: entries, published or not.
	Ports []PortBinding `json:"ports,omitempty"`
	// Env is the service's environment after env_file and interpolation,
	// each variable reduced by collect.Describe; Line 0 marks a value that
	// came from an env_file rather than the compose file.
	Env     map[string]EnvVar `json:"env,omitempty"`
	Volumes []string          `json:"volumes,omitempty"` // container targets
	// Mounts are the volumes: entries in full (type volume, bind or tmpfs,
	// source, target, read-only).
	Mounts []Mount `json:"mounts,omitempty"`
	// Profiles are the service's profiles:; empty means it always starts.
	Profiles []string `json:"profiles,omitempty"`
	// IpcMode is ipc: ("host", "shareable", "service:x", ...); "" = default.
	IpcMode string `json:"ipc_mode,omitempty"`
	// UTSMode is uts: ("host" shares the host's hostname); "" = default.
	UTSMode string `json:"uts_mode,omitempty"`
	// Tmpfs are the tmpfs: mount targets.
	Tmpfs []string `json:"tmpfs,omitempty"`
	// Limits are mem_limit, cpus and pids_limit, each falling back to
	// deploy.resources.limits.
	Limits Limits `json:"limits"`
	// LogOpts are logging.options (e.g. max-size, max-file); nil when none.
	LogOpts map[string]string `json:"log_opts,omitempty"`
	// CapAdd are cap_add: capabilities as written (e.g. "NET_ADMIN").
	CapAdd []string `json:"cap_add,omitempty"`
	// CapDrop are cap_drop: capabilities as written (e.g. "ALL").
	CapDrop []string `json:"cap_drop,omitempty"`
	// SecurityOpt are security_opt: entries (e.g.
	// "no-new-privileges:true", "seccomp=unconfined").
	SecurityOpt []string `json:"security_opt,omitempty"`
	// NetworkMode is network_mode: ("host", "service:x", ...); "" when
	// not set (the service joins its networks:).
	NetworkMode string `json:"network_mode,omitempty"`
	// PID is pid: ("host" shares the host's process namespace); "" = own.
	PID string `json:"pid,omitempty"`
	// Command is the service's command with secret-looking arguments
	// replaced ("--password [REDACTED]"); checks only look for words like
	// "prisma studio".
	Command string `json:"command,omitempty"`
	// Healthcheck is true when healthcheck: defines a test that is not
	// disabled or NONE (the image's own HEALTHCHECK is not seen here).
	Healthcheck bool `json:"healthcheck,omitempty"`
	// LogDriver is logging.driver; "" means the daemon's default.
	LogDriver string `json:"log_driver,omitempty"`
	Secrets   bool   `json:"secrets,omitempty"` // uses compose secrets:
}

// Limits are a container's resource limits (0 = none).
type Limits struct {
	// MemoryBytes is the memory limit (mem_limit, HostConfig.Memory).
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
	// CPUs is the CPU limit in cores (cpus, NanoCPUs or quota/period).
	CPUs float64 `json:"cpus,omitempty"`
	// Pids is the process limit (pids_limit).
	Pids int64 `json:"pids,omitempty"`
}

// PM2Facts is the pm2 ecosystem file plus `pm2 jlist` when available.
type PM2Facts struct {
	// Path is the ecosystem file read (Target.PM2File).
	Path string `json:"path,omitempty"`
	// Apps are the file's apps (one app for a .js/.cjs file, whose
	// literals are scraped, not executed), plus any app only `pm2 jlist`
	// knows.
	Apps []PM2App `json:"apps"`
	// LogRotate is whether ~/.pm2/module_conf.json names pm2-logrotate;
	// nil when pm2 did not answer `pm2 jlist`.
	LogRotate *bool `json:"logrotate,omitempty"`
	JList     bool  `json:"jlist"` // whether pm2 itself answered
}

// PM2App is one pm2 app.
type PM2App struct {
	// Name is the app's name: ("app" when a .js file names none).
	Name string `json:"name"`
	// User is the user it runs as: pm2_env.username from `pm2 jlist`,
	// else user:/uid: in the file; "" when unknown.
	User string `json:"user,omitempty"`
	// NodeArgs is node_args: joined with spaces (e.g.
	// "--max-old-space-size=4096").
	NodeArgs string `json:"node_args,omitempty"`
	// Env is env: and env_production: (JSON), or the UPPER_CASE literals
	// of a .js file, each reduced by collect.Describe.
	Env map[string]EnvVar `json:"env,omitempty"`
	// Logs are the out and error log files `pm2 jlist` reports (kind
	// pm2-log); nil without jlist.
	Logs []FileStat `json:"logs,omitempty"`
}

// PGFacts is what the Postgres collector saw, over read-only sessions.
type PGFacts struct {
	// Host is the server host of the session (pgx's config: a name, an IP
	// or a unix socket directory); for a bundled Postgres, the compose
	// service name DATABASE_URL uses.
	Host string `json:"host"`
	// Via says how a bundled Postgres was reached ("docker network <ip>").
	Via string `json:"via,omitempty"`
	// Local is true when Host is this machine (internal/localhost.IsLocal)
	// or a container on its Docker network.
	Local bool `json:"local"`
	// AdminSession is true when a second, superuser session read the
	// restricted views (--admin-database-url or CALCTL_ADMIN_DATABASE_URL,
	// or POSTGRES_USER/POSTGRES_PASSWORD of a bundled Postgres).
	AdminSession bool `json:"admin_session"`
	// ServerVersion is current_setting('server_version'), e.g. "16.4".
	ServerVersion string `json:"server_version"`
	// ServerVersionNum is server_version_num, e.g. 160004.
	ServerVersionNum int `json:"server_version_num"`
	// RDS is true when the server has rds.* settings (Amazon RDS).
	RDS bool `json:"rds"`
	// Settings maps pg_settings name to setting as the server reports it
	// (units as in pg_settings.unit), plus the rds.* parameters read by
	// name; restricted ones appear only with an admin session.
	Settings map[string]string `json:"settings"`
	// Unreadable maps a view or setting to the privilege needed to read it.
	Unreadable map[string]string `json:"unreadable,omitempty"`
	// SessionSSL is pg_stat_ssl.ssl of calctl's own session.
	SessionSSL bool `json:"session_ssl"`
	// TLSVersions is what a TLS handshake with the server accepted (nil:
	// the server offers no TLS or was not probed); WeakSuite a TLS 1.2
	// suite it took from the weak list (no forward secrecy, RC4, 3DES, CBC).
	TLSVersions map[string]bool `json:"tls_versions,omitempty"`
	// WeakSuite is the Go name of the weak suite the server accepted
	// (e.g. "TLS_RSA_WITH_AES_128_CBC_SHA"); "" when it refused them all.
	WeakSuite string `json:"weak_suite,omitempty"`
	// PlaintextAccepted says whether the server took a session request
	// without TLS from this host (nil: not probed, e.g. a unix socket);
	// PlaintextProbe is what it answered.
	PlaintextAccepted *bool `json:"plaintext_accepted,omitempty"`
	// PlaintextProbe is the probe's one-line outcome (e.g. "the server
	// asked for a password over plaintext TCP"), password-free.
	PlaintextProbe string `json:"plaintext_probe,omitempty"`
	// SessionTLS is pg_stat_ssl.version of calctl's session ("TLSv1.3");
	// "" when the session is not encrypted.
	SessionTLS string `json:"session_tls_version,omitempty"`
	// HBA are the rows of pg_hba_file_rules (superuser or admin session);
	// nil when unreadable (see Unreadable).
	HBA []HBARule `json:"hba,omitempty"`
	// MD5Roles are login roles whose pg_authid password is an MD5 hash
	// (not SCRAM); read from pg_authid, so only with superuser rights.
	MD5Roles []string `json:"md5_roles,omitempty"`
	// AppRole is the role of DATABASE_URL's session (current_user).
	AppRole RoleFacts `json:"app_role"`
	// LoginSuperusers are the roles with rolsuper and rolcanlogin.
	LoginSuperusers []string `json:"login_superusers"`
	// PublicCreate is true when PUBLIC may CREATE in schema public
	// (the default before PostgreSQL 15; PostgreSQL 15 release notes).
	PublicCreate bool `json:"public_schema_create"`
	// PublicConnectDBs holds the current database when PUBLIC has CONNECT
	// on it (the default: PostgreSQL docs, "Privileges"); empty otherwise.
	PublicConnectDBs []string `json:"public_connect_dbs,omitempty"`
	// Extensions are the installed extensions (pg_extension.extname).
	Extensions []string `json:"extensions,omitempty"`
	// UntrustedLangs are installed untrusted procedural languages
	// (plpython3u, plperlu, ...; c and internal left out).
	UntrustedLangs    []string `json:"untrusted_languages,omitempty"`
	PlaintextSessions []string `json:"plaintext_remote_sessions,omitempty"` // client addresses
	// RoleIdleTimeouts maps a login role to its per-role
	// idle_session_timeout (ALTER ROLE ... SET), as stored, e.g. "10min".
	RoleIdleTimeouts map[string]string `json:"role_idle_timeouts,omitempty"`
	// Users are the Cal.com users-table counts; nil when the table was
	// not readable (Unreadable["users"]) or the query failed.
	Users *UserCounts `json:"users,omitempty"`
	// FailedMigrations are _prisma_migrations rows with no finished_at
	// and no rolled_back_at, oldest first; empty without the table.
	FailedMigrations []Migration `json:"failed_migrations,omitempty"`
	// Archiver is the pg_stat_archiver row; nil when not readable.
	Archiver *Archiver `json:"archiver,omitempty"`
	// DataDirectory is the data_directory setting (needs
	// pg_read_all_settings); "" when hidden from the session.
	DataDirectory string `json:"data_directory,omitempty"`
}

// HBARule is one line of pg_hba_file_rules.
type HBARule struct {
	// Line is line_number in pg_hba.conf.
	Line int `json:"line"`
	// Type is the connection type: local, host, hostssl, hostnossl, ...
	Type string `json:"type"`
	// Database is the rule's database list joined with ",".
	Database string `json:"database"`
	// User is the rule's user list joined with ",".
	User string `json:"user"`
	// Address is the address, "all", "samehost"... ("" for local rules).
	Address string `json:"address,omitempty"`
	// Netmask is the netmask when written apart from Address; often "".
	Netmask string `json:"netmask,omitempty"`
	// AuthMethod is the auth method: trust, md5, scram-sha-256, peer, ...
	AuthMethod string `json:"auth_method"`
	// Error is pg_hba_file_rules.error: why the line does not load.
	Error string `json:"error,omitempty"`
}

// RoleFacts are the app role's attributes.
type RoleFacts struct {
	// Name is pg_roles.rolname of current_user.
	Name string `json:"name"`
	// Super is pg_roles.rolsuper.
	Super bool `json:"superuser"`
	// CreateRole is pg_roles.rolcreaterole.
	CreateRole bool `json:"createrole"`
	// CreateDB is pg_roles.rolcreatedb.
	CreateDB bool `json:"createdb"`
	// Replication is pg_roles.rolreplication.
	Replication bool `json:"replication"`
	// BypassRLS is pg_roles.rolbypassrls.
	BypassRLS bool `json:"bypassrls"`
	// RDSSuperuser is membership of rds_superuser (read on RDS only).
	RDSSuperuser bool `json:"rds_superuser"`
}

// UserCounts are Cal.com account-hygiene counts (never rows).
type UserCounts struct {
	// AdminsWithout2FA counts users with role ADMIN and
	// "twoFactorEnabled" false (locked ones included).
	AdminsWithout2FA int `json:"admins_without_2fa"`
	// PasswordWithout2FA counts unlocked users with identityProvider CAL
	// (email and password) and no 2FA.
	PasswordWithout2FA int `json:"password_users_without_2fa"`
	// Dormant counts unlocked users whose "lastActiveAt" is null or older
	// than 90 days.
	Dormant int `json:"dormant_90d"`
	// Active are unlocked accounts; NoSessionTimeout of them have no
	// metadata.sessionTimeout (NextAuth's 30-day default applies) and
	// LongSessionTimeout one over 60 minutes.
	Active int `json:"active"`
	// NoSessionTimeout counts active users without a numeric
	// metadata.sessionTimeout.
	NoSessionTimeout int `json:"without_session_timeout"`
	// LongSessionTimeout counts active users whose sessionTimeout is over
	// 60 (minutes).
	LongSessionTimeout int `json:"session_timeout_over_60min"`
	// SessionsRead is false when the session-timeout query failed (an
	// older schema without users.metadata): Active and the two counts
	// above are then 0, not measured.
	SessionsRead bool `json:"sessions_read"`
}

// Migration is a Prisma migration that started and did not finish.
type Migration struct {
	// Name is _prisma_migrations.migration_name (the migration's folder,
	// e.g. "20240101000000_add_x").
	Name string `json:"name"`
	// StartedAt is _prisma_migrations.started_at.
	StartedAt time.Time `json:"started_at"`
}

// Archiver is pg_stat_archiver.
type Archiver struct {
	// ArchivedCount is WAL files archived since the stats were reset.
	ArchivedCount int64 `json:"archived_count"`
	// FailedCount is failed archive_command attempts since the reset.
	FailedCount int64 `json:"failed_count"`
	// LastArchived is when the last WAL file was archived; nil: never.
	LastArchived *time.Time `json:"last_archived_time,omitempty"`
	// LastFailed is when archiving last failed; nil: never.
	LastFailed *time.Time `json:"last_failed_time,omitempty"`
}

// DockerFacts is what the Docker collector saw.
type DockerFacts struct {
	// EngineVersion is the engine's version (/version), e.g. "27.3.1";
	// "" when /version failed.
	EngineVersion string `json:"engine_version"`
	// APIVersion is the engine's API version, e.g. "1.47".
	APIVersion string `json:"api_version"`
	// Warnings are the warnings of `docker info` (e.g. "WARNING: No swap
	// limit support").
	Warnings []string `json:"warnings,omitempty"`
	// SecurityOptions are `docker info`'s SecurityOptions
	// ("name=seccomp,profile=builtin", "name=rootless", ...).
	SecurityOptions []string `json:"security_options,omitempty"`
	// LiveRestore is `docker info`'s LiveRestoreEnabled.
	LiveRestore bool `json:"live_restore"`
	// LoggingDriver is the daemon's default log driver (json-file, ...).
	LoggingDriver string `json:"logging_driver"`
	// Scope says which containers were judged: "project <name>" (the
	// install's compose project, by its labels), "label <k=v>" or "all".
	Scope string `json:"scope,omitempty"`
	// Other counts the engine's containers left out by Scope.
	Other int `json:"other_containers,omitempty"`
	// ICC is the default bridge's inter-container communication
	// (com.docker.network.bridge.enable_icc); nil when not read.
	ICC *bool `json:"icc,omitempty"`
	// UserlandProxy is whether dockerd runs docker-proxy for published
	// ports (daemon.json "userland-proxy", default true); nil when unknown.
	UserlandProxy *bool `json:"userland_proxy,omitempty"`
	// LogShippers names what ships container logs off the host: a
	// container of a known shipper image on the engine (any project) or a
	// shipper process on the daemon's host.
	LogShippers []string `json:"log_shippers,omitempty"`
	// DaemonConfig is the daemon.json path read ("" when none).
	DaemonConfig string `json:"daemon_config,omitempty"`
	// Containers are the inspected containers in Scope (every state),
	// sorted by name.
	Containers []Container `json:"containers"`
}

// Mount is a container mount.
type Mount struct {
	// Type is bind, volume, tmpfs, npipe or cluster.
	Type string `json:"type"`
	// Source is the host path of a bind, or the volume's name (compose)
	// or mount point (an inspected container); "" for tmpfs.
	Source string `json:"source"`
	// Destination is the path inside the container.
	Destination string `json:"destination"`
	// ReadOnly is true for a read-only mount (":ro", or RW false).
	ReadOnly bool `json:"read_only,omitempty"`
}

// Container is one inspected container (env values of secret keys dropped).
type Container struct {
	// ID is the container ID's first 12 hex digits.
	ID string `json:"id"`
	// Name is the container's name without its leading "/".
	Name string `json:"name"`
	// Image is Config.Image: the reference it was created from.
	Image string `json:"image"`
	// Role is collect.Role's tag: db, app, api, studio, redis or "".
	Role string `json:"role"`
	// Project and Service are the compose labels (com.docker.compose.*).
	Project string `json:"project,omitempty"`
	// Service is the com.docker.compose.service label; "" outside compose.
	Service string `json:"service,omitempty"`
	// Limits are HostConfig.Memory, NanoCPUs (else CPUQuota/CPUPeriod)
	// and PidsLimit.
	Limits Limits `json:"limits"`
	// Tmpfs are HostConfig.Tmpfs mount points, sorted.
	Tmpfs []string `json:"tmpfs,omitempty"`
	// AppArmor is the AppArmorProfile ("docker-default", "unconfined");
	// "" on hosts without AppArmor.
	AppArmor string `json:"apparmor_profile,omitempty"`
	// State is State.Status: created, running, restarting, exited, ...
	State string `json:"state"`
	// Health is State.Health.Status (starting, healthy, unhealthy); ""
	// without a healthcheck.
	Health string `json:"health,omitempty"`
	// RestartCount is how often the engine restarted it.
	RestartCount int `json:"restart_count"`
	// Privileged is HostConfig.Privileged.
	Privileged bool `json:"privileged"`
	// User is Config.User: the image's USER unless the container
	// overrides it; "" means root.
	User string `json:"user"`
	// ProcessUsers are the distinct UID/USER column values of `docker
	// top` for a running container; nil when not running.
	ProcessUsers []string `json:"process_users,omitempty"`
	// Ports are the live port bindings, or HostConfig.PortBindings for a
	// container that is not running.
	Ports []PortBinding `json:"ports,omitempty"`
	// ExposedPorts are Config.ExposedPorts ("3000/tcp"), sorted.
	ExposedPorts []string `json:"exposed_ports,omitempty"`
	// RestartPolicy is HostConfig.RestartPolicy.Name (no, always,
	// unless-stopped, on-failure; "" = no).
	RestartPolicy string `json:"restart_policy"`
	// LogDriver is HostConfig.LogConfig.Type.
	LogDriver string `json:"log_driver"`
	// LogOpts is HostConfig.LogConfig.Config (max-size, max-file, ...).
	LogOpts map[string]string `json:"log_opts,omitempty"`
	// ReadonlyRootfs is HostConfig.ReadonlyRootfs.
	ReadonlyRootfs bool `json:"readonly_rootfs"`
	// SecretEnvKeys are the env keys with a non-empty secret value
	// (secret-named, or a URL with a password), sorted; values dropped.
	SecretEnvKeys []string `json:"secret_env_keys,omitempty"`
	// FileEnvKeys are env keys ending in _FILE (a secret read from a file).
	FileEnvKeys []string `json:"file_env_keys,omitempty"`
	// PlainEnv are the values of the few env keys checks need (PGDATA,
	// NODE_ENV, POSTGRES_USER, POSTGRES_HOST_AUTH_METHOD, ...); every
	// other value is dropped.
	PlainEnv map[string]string `json:"plain_env,omitempty"`
	// SecretsInImage are SecretEnvKeys whose value (6+ bytes) also appears
	// in the image's env or build history.
	SecretsInImage []string `json:"secrets_in_image,omitempty"`
	Cmd            string   `json:"cmd,omitempty"` // secret-looking arguments replaced
	// Healthcheck is true when Config.Healthcheck has a test other than
	// NONE (the image's HEALTHCHECK included).
	Healthcheck bool `json:"healthcheck"`
	// CapAdd is HostConfig.CapAdd.
	CapAdd []string `json:"cap_add,omitempty"`
	// CapDrop is HostConfig.CapDrop.
	CapDrop []string `json:"cap_drop,omitempty"`
	// SecurityOpt is HostConfig.SecurityOpt ("no-new-privileges", ...).
	SecurityOpt []string `json:"security_opt,omitempty"`
	// NetworkMode is HostConfig.NetworkMode ("host", a network name, ...).
	NetworkMode string `json:"network_mode,omitempty"`
	// PidMode is HostConfig.PidMode ("host" shares the host's PIDs).
	PidMode string `json:"pid_mode,omitempty"`
	// IpcMode is HostConfig.IpcMode ("private", "shareable", "host").
	IpcMode string `json:"ipc_mode,omitempty"`
	// UTSMode is HostConfig.UTSMode ("host" or "").
	UTSMode string `json:"uts_mode,omitempty"`
	// Mounts are the container's mounts as inspected.
	Mounts []Mount `json:"mounts,omitempty"`
}

// NetFacts is what the TLS/HTTP probes of the public URL saw.
type NetFacts struct {
	// URL is the public URL probed (Target.PublicURL).
	URL string `json:"url"`
	// TLS is the certificate chain the server presented; nil for an
	// http:// URL.
	TLS *TLSFacts `json:"tls,omitempty"`
	// HTTP is the plain-HTTP request (--http-url, default http://host/),
	// which should redirect to https.
	HTTP *HTTPProbe `json:"http,omitempty"`
	// HTTPS is the request to URL itself; nil for an http:// URL.
	HTTPS *HTTPProbe `json:"https,omitempty"`
	// Cookies are the Set-Cookie headers of GET <URL>/api/auth/csrf.
	Cookies []Cookie `json:"cookies,omitempty"`
	// CookiesError is why that request failed; "" when it answered.
	CookiesError string          `json:"cookies_error,omitempty"`
	Versions     map[string]bool `json:"versions,omitempty"` // "TLS1.0".. → accepted
	// HandshakeError is set when no TLS handshake succeeded at all
	// (unresolvable host, refused, not TLS): nothing was observed.
	HandshakeError string `json:"handshake_error,omitempty"`
	// InsecureSuite is the Go name of a weak TLS 1.2 suite (no forward
	// secrecy, RC4, 3DES, CBC) the server accepted; "" when none.
	InsecureSuite string `json:"insecure_suite,omitempty"`
}

// TLSFacts describes the certificate chain.
type TLSFacts struct {
	// Error is why the TLS dial failed or no certificate was presented;
	// the other fields are then empty.
	Error string `json:"error,omitempty"`
	// VerifyError is why the leaf did not verify for the host name
	// against the roots (--ca-file, else the system's) at collection
	// time; "" when trusted.
	VerifyError string `json:"verify_error,omitempty"`
	// Subject is the leaf certificate's subject DN.
	Subject string `json:"subject,omitempty"`
	// Issuer is the leaf certificate's issuer DN.
	Issuer string `json:"issuer,omitempty"`
	// NotAfter is the leaf's expiry, UTC.
	NotAfter time.Time `json:"not_after"`
	// Version is the TLS version negotiated by default ("TLS 1.3").
	Version string `json:"version,omitempty"`
}

// HTTPProbe is one request without following redirects.
type HTTPProbe struct {
	// URL is the URL requested (GET, any certificate accepted).
	URL string `json:"url"`
	// Status is the response status code; 0 when the request failed.
	Status int `json:"status,omitempty"`
	// Location is the Location header (a redirect's target).
	Location string `json:"location,omitempty"`
	// HSTS is the Strict-Transport-Security header; "" when absent.
	HSTS string `json:"hsts,omitempty"`
	// Error is why the request failed ("connection refused", ...).
	Error string `json:"error,omitempty"`
}

// Cookie is a Set-Cookie header's attributes (never the value).
type Cookie struct {
	// Name is the cookie's name as set, prefix included.
	Name string `json:"name"`
	// Secure is the Secure attribute.
	Secure bool `json:"secure"`
	// HTTPOnly is the HttpOnly attribute.
	HTTPOnly bool `json:"http_only"`
	// SameSite is "Lax", "Strict" or "None"; "" when not set.
	SameSite string `json:"same_site,omitempty"`
}

// Listener is a TCP socket in LISTEN state.
type Listener struct {
	// Addr is the local address class: "0.0.0.0", "::", "127.0.0.1",
	// "::1", or "other" for any specific address.
	Addr string `json:"addr"`
	// Port is the local TCP port.
	Port int `json:"port"`
	// Process names the listening process; /proc/net/tcp does not say,
	// so the host collector leaves it "" (checks/net prints it if set).
	Process string `json:"process,omitempty"`
}

// HostFacts is what the local host collector saw.
type HostFacts struct {
	// Listeners are the TCP sockets in LISTEN state from /proc/net/tcp
	// and tcp6 (this network namespace).
	Listeners []Listener `json:"listeners,omitempty"`
	// ListenersError is why /proc/net/tcp could not be read.
	ListenersError string `json:"listeners_error,omitempty"`
	// DataPath is the path whose device was judged: /var/lib/docker,
	// else /var/lib/postgresql, else "/".
	DataPath string `json:"data_path,omitempty"`
	// DataDevice is the mount source under DataPath (/proc/self/
	// mountinfo), e.g. "/dev/mapper/vg-root"; "" when not found.
	DataDevice string `json:"data_device,omitempty"`
	// DataEncrypted is whether that device is dm-crypt (its dm/uuid
	// starts CRYPT-); nil when unknown (overlay or a virtual fs).
	DataEncrypted *bool `json:"data_encrypted,omitempty"`
	// Swaps are the swap areas of /proc/swaps.
	Swaps []Swap `json:"swaps,omitempty"`
	// SysVendor is /sys/class/dmi/id/sys_vendor ("Amazon EC2", ...).
	SysVendor string `json:"sys_vendor,omitempty"`
	// CloudVM is true when SysVendor names a known cloud provider.
	CloudVM bool `json:"cloud_vm"`
	// TimeSynced is the kernel's clock sync state (adjtimex: not
	// TIME_ERROR, STA_UNSYNC clear); nil when adjtimex failed.
	TimeSynced *bool `json:"time_synced,omitempty"`
	// TimeMaxErrorUS is adjtimex's maxerror, in microseconds.
	TimeMaxErrorUS int64 `json:"time_max_error_us,omitempty"`
	// TimeError is why adjtimex failed.
	TimeError string `json:"time_error,omitempty"`
	// SSHFound is true when `sshd -T` answered or an sshd_config was read.
	SSHFound bool `json:"ssh_found"`
	// SSHPasswordAuth is sshd's passwordauthentication ("yes", "no"),
	// "yes" (sshd's default) when sshd is found and it is not set.
	SSHPasswordAuth string `json:"ssh_password_auth,omitempty"`
	// SSHPermitRoot is sshd's permitrootlogin ("no", "prohibit-password"
	// (the default when unset), "yes", ...).
	SSHPermitRoot string `json:"ssh_permit_root_login,omitempty"`
	// AutoUpdates is whether unattended-upgrades (apt) or dnf-automatic
	// is on; nil when the host has neither apt nor dnf-automatic.
	AutoUpdates *bool `json:"auto_updates,omitempty"`
	// RebootRequired is the time of /var/run/reboot-required; nil when
	// no reboot is pending (or not a Debian-like host).
	RebootRequired *time.Time `json:"reboot_required_since,omitempty"`
	// DockerSock is /var/run/docker.sock's mode and owner; nil when absent.
	DockerSock *FileStat `json:"docker_sock,omitempty"`
	// DockerSockGID is the socket's group ID.
	DockerSockGID int `json:"docker_sock_gid,omitempty"`
	// DockerGroupMembers are the members of group docker in /etc/group
	// (Docker docs, "Linux post-installation steps": the group grants
	// root-level privileges).
	DockerGroupMembers []string `json:"docker_group_members,omitempty"`
	BackupJobs         []string `json:"backup_jobs,omitempty"` // cron/systemd lines naming a backup tool
	// AuditRules are the audit (auditd) watch rules on the host, from
	// `auditctl -l` or the rules files (AuditSource says which);
	// AuditdRunning whether an auditd process runs.
	AuditRules []string `json:"audit_rules,omitempty"`
	// AuditSource is "auditctl -l" or the rules files read, comma
	// separated; "" when no rules were found.
	AuditSource string `json:"audit_source,omitempty"`
	// AuditdRunning is true when a process named auditd runs.
	AuditdRunning bool `json:"auditd_running"`
}

// Swap is one swap area.
type Swap struct {
	// Name is the swap device or file of /proc/swaps.
	Name string `json:"name"`
	// Encrypted is true for zram (in RAM) or a dm-crypt device.
	Encrypted bool `json:"encrypted"`
}

// BackupFacts is backup evidence from files.
type BackupFacts struct {
	Dir             string      `json:"dir,omitempty"`               // --backup-dir; "" when only a contingency file was given
	Files           int         `json:"files"`                       // regular files (and restic repositories) under Dir, at most four directories deep
	Newest          *BackupFile `json:"newest,omitempty"`            // the most recently modified of them; nil when none
	DirMode         uint32      `json:"dir_mode,omitempty"`          // Dir's permission bits
	RestoreTestedAt *time.Time  `json:"restore_tested_at,omitempty"` // last_restore_test (YYYY-MM-DD) of the contingency file; nil when none
	RestoreTestedBy string      `json:"restore_tested_by,omitempty"` // that file's by: (who ran the restore test)
	ContingencyFile string      `json:"contingency_file,omitempty"`  // the contingency.yaml read (--contingency, else contingency.yaml or .calctl/contingency.yaml in --dir)
	Error           string      `json:"error,omitempty"`             // not set by the collector (its failures go to Facts.Sources["backup"]) and read by no check; kept for bundles that carry it
	// History is calctl's own record of backups and restore drills
	// (<install>/.calctl/history.jsonl), when the install has one.
	History string `json:"history,omitempty"`
	// LastBackupFailedAt and LastBackupError: calctl's newest backup
	// attempt failed after its newest success.
	LastBackupFailedAt *time.Time `json:"last_backup_failed_at,omitempty"`
	// LastBackupError is that failed backup's error, one line, as calctl
	// recorded it in the history (history.Event.Error); empty when the
	// newest backup succeeded or the history has no failed backup.
	LastBackupError string `json:"last_backup_error,omitempty"`
	// LastDrillFailedAt and LastDrillError: the newest restore drill
	// (calctl backup verify) failed after the newest one that passed.
	LastDrillFailedAt *time.Time `json:"last_drill_failed_at,omitempty"`
	// LastDrillError is that failed drill's error, one line, as calctl
	// recorded it in the history (history.Event.Error); empty when the
	// newest drill passed or the history has no failed drill.
	LastDrillError string `json:"last_drill_error,omitempty"`
}

// BackupFile is the newest backup artifact.
type BackupFile struct {
	// Path is the file's (or restic repository's) path.
	Path string `json:"path"`
	// ModTime is its modification time, UTC.
	ModTime time.Time `json:"mod_time"`
	// Size is its size in bytes (a directory's own size for restic).
	Size int64 `json:"size"`
	// Mode is its permission bits.
	Mode   uint32 `json:"mode"`
	Format string `json:"format"` // pgdump-custom, sql, age, openpgp, unknown
	// Encrypted is true for age, OpenPGP and restic formats (sniffed from
	// the first bytes, through gzip).
	Encrypted bool `json:"encrypted"`
	// SameDevice is whether the backup is on the Postgres data
	// directory's device; nil when the data directory is not local.
	SameDevice *bool `json:"same_device_as_data,omitempty"`
}

// Limits on what Facts may hold. Live facts are far below them (a compose
// install has a handful of containers); a bundle is untrusted input, and a
// 600 KB one with 200,000 containers once took minutes to judge.
const (
	MaxContainers = 2000
	MaxServices   = 2000
	MaxListItems  = 20000 // HBA rules, listeners, audit rules, env vars, ...
	MaxStringLen  = 64 << 10
)

// Validate checks facts read from a bundle: sizes within the limits above
// (an error), and consistency — a source marked collected without its facts
// is turned into a collector error, so its checks report ERROR instead of
// panicking; nil maps the checks index are made empty.
func (f *Facts) Validate() error {
	if f.Docker != nil && len(f.Docker.Containers) > MaxContainers {
		return fmt.Errorf("facts list %d containers (limit %d)", len(f.Docker.Containers), MaxContainers)
	}
	if f.Files != nil && f.Files.Compose != nil && len(f.Files.Compose.Services) > MaxServices {
		return fmt.Errorf("facts list %d compose services (limit %d)", len(f.Files.Compose.Services), MaxServices)
	}
	lists := map[string]int{}
	if f.PG != nil {
		lists["pg_hba rules"] = len(f.PG.HBA)
		lists["settings"] = len(f.PG.Settings)
		lists["roles"] = len(f.PG.LoginSuperusers) + len(f.PG.MD5Roles) + len(f.PG.RoleIdleTimeouts)
		lists["sessions"] = len(f.PG.PlaintextSessions)
	}
	if f.Host != nil {
		lists["listeners"] = len(f.Host.Listeners)
		lists["audit rules"] = len(f.Host.AuditRules)
		lists["backup jobs"] = len(f.Host.BackupJobs)
		lists["docker group members"] = len(f.Host.DockerGroupMembers)
	}
	if f.Files != nil {
		lists["variables"] = len(f.Files.AppEnv)
		if f.Files.Env != nil {
			lists["env file variables"] = len(f.Files.Env.Vars)
		}
		if f.Files.PM2 != nil {
			lists["pm2 apps"] = len(f.Files.PM2.Apps)
		}
	}
	if f.Docker != nil {
		n := 0
		for _, c := range f.Docker.Containers {
			n += len(c.Mounts) + len(c.Ports) + len(c.PlainEnv) + len(c.SecretEnvKeys)
		}
		lists["container mounts, ports and variables"] = n
	}
	if f.Kube != nil {
		lists["kubernetes objects"] = len(f.Kube.Workloads) + len(f.Kube.NetworkPolicies) + len(f.Kube.ServiceAccounts) +
			len(f.Kube.Ingresses) + len(f.Kube.Secrets) + len(f.Kube.ConfigMaps) + len(f.Kube.PDBs) + len(f.Kube.HPAs)
	}
	for what, n := range lists {
		if n > MaxListItems {
			return fmt.Errorf("facts list %d %s (limit %d)", n, what, MaxListItems)
		}
	}
	have := map[Source]bool{SourceFiles: f.Files != nil, SourcePG: f.PG != nil, SourceDocker: f.Docker != nil,
		SourceNet: f.Net != nil, SourceHost: f.Host != nil, SourceBackup: f.Backup != nil, SourceKube: f.Kube != nil}
	for s, st := range f.Sources {
		if st.Collected && !have[s] {
			st.Collected = false
			st.Error = fmt.Sprintf("the facts are inconsistent: %s is marked collected but holds no %s facts", s, s)
			f.Sources[s] = st
		}
	}
	if f.PG != nil {
		if f.PG.Settings == nil {
			f.PG.Settings = map[string]string{}
		}
		if f.PG.Unreadable == nil {
			f.PG.Unreadable = map[string]string{}
		}
	}
	if f.Files != nil && f.Files.AppEnv == nil {
		f.Files.AppEnv = map[string]EnvVar{}
	}
	return nil
}
