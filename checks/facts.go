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
	// Profile is the deployment profile: compose, pm2 or rds (given or
	// detected).
	Profile string `json:"profile"`
	// Dir is the install directory checked, when given.
	Dir         string `json:"dir,omitempty"`
	EnvFile     string `json:"env_file,omitempty"`
	ComposeFile string `json:"compose_file,omitempty"`
	PM2File     string `json:"pm2_file,omitempty"`
	// Database is the database URL checked, always without its password
	// (internal/redact.URL).
	Database string `json:"database,omitempty"`
	// PublicURL is the public URL probed (NEXT_PUBLIC_WEBAPP_URL or --url).
	PublicURL string `json:"public_url,omitempty"`
	// Host is the name of the machine calctl ran on.
	Host string `json:"host,omitempty"`
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
	Line int    `json:"line,omitempty"`
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
	URL     *DBURL  `json:"url,omitempty"`
}

// DBURL is a parsed database URL without its password.
type DBURL struct {
	Scheme   string `json:"scheme"`
	Host     string `json:"host"`
	Port     string `json:"port,omitempty"`
	User     string `json:"user,omitempty"`
	Database string `json:"database,omitempty"`
	// Params are the query parameters (sslmode, sslrootcert, ...),
	// password excepted.
	Params map[string]string `json:"params,omitempty"`
	// HasPassword is true when the URL carries a password (user info or
	// password=); PasswordLen, PasswordDigest (sha256[:8]) and
	// PasswordWeak (a published default) describe it.
	HasPassword    bool   `json:"has_password"`
	PasswordLen    int    `json:"password_len,omitempty"`
	PasswordDigest string `json:"password_digest,omitempty"`
	PasswordWeak   bool   `json:"password_default,omitempty"`
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
	Encrypted bool   `json:"encrypted"`
	Verified  bool   `json:"verified"`
	Why       string `json:"why"`
}

// FileStat is the mode and owner of a config file.
type FileStat struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"` // env, compose, pm2, pm2-log
	Exists bool   `json:"exists"`
	// Mode is the permission bits; UID the owner.
	Mode uint32 `json:"mode"`
	UID  int    `json:"uid"`
	// GitTracked is whether git tracks the file (nil: not in a repository).
	GitTracked *bool `json:"git_tracked,omitempty"`
	// Secrets is true when the file holds secret values.
	Secrets bool `json:"holds_secrets"`
}

// FileFacts holds the parsed .env, compose and pm2 files.
type FileFacts struct {
	// Env, Compose and PM2 are the parsed files (nil when absent).
	Env     *EnvFacts     `json:"env,omitempty"`
	Compose *ComposeFacts `json:"compose,omitempty"`
	PM2     *PM2Facts     `json:"pm2,omitempty"`
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
	Path string            `json:"path"`
	Vars map[string]EnvVar `json:"vars"`
}

// PortBinding is a published port.
type PortBinding struct {
	HostIP        string `json:"host_ip"`
	HostPort      string `json:"host_port"`
	ContainerPort string `json:"container_port"`
	Line          int    `json:"line,omitempty"`
}

// ComposeFacts is a compose file as Compose itself loads it (compose-go:
// merge keys, anchors, extends, profiles, interpolation from the .env).
type ComposeFacts struct {
	Path string `json:"path"`
	// Project is the compose project name (name:, COMPOSE_PROJECT_NAME, or
	// the directory's name normalised) and Dir its working directory; the
	// Docker collector finds the project's containers by them.
	Project  string           `json:"project,omitempty"`
	Dir      string           `json:"dir,omitempty"`
	Services []ComposeService `json:"services"`
}

// ComposeService is one service of a compose file.
type ComposeService struct {
	Name        string            `json:"name"`
	Line        int               `json:"line"`
	Image       string            `json:"image"`
	ImageLine   int               `json:"image_line,omitempty"`
	Build       bool              `json:"build,omitempty"`
	Role        string            `json:"role"`
	Privileged  bool              `json:"privileged,omitempty"`
	User        string            `json:"user,omitempty"`
	Restart     string            `json:"restart,omitempty"`
	ReadOnly    bool              `json:"read_only,omitempty"`
	Ports       []PortBinding     `json:"ports,omitempty"`
	Env         map[string]EnvVar `json:"env,omitempty"`
	Volumes     []string          `json:"volumes,omitempty"` // container targets
	Mounts      []Mount           `json:"mounts,omitempty"`
	Profiles    []string          `json:"profiles,omitempty"`
	IpcMode     string            `json:"ipc_mode,omitempty"`
	UTSMode     string            `json:"uts_mode,omitempty"`
	Tmpfs       []string          `json:"tmpfs,omitempty"`
	Limits      Limits            `json:"limits"`
	LogOpts     map[string]string `json:"log_opts,omitempty"`
	CapAdd      []string          `json:"cap_add,omitempty"`
	CapDrop     []string          `json:"cap_drop,omitempty"`
	SecurityOpt []string          `json:"security_opt,omitempty"`
	NetworkMode string            `json:"network_mode,omitempty"`
	PID         string            `json:"pid,omitempty"`
	// Command is the service's command with secret-looking arguments
	// replaced ("--password [REDACTED]"); checks only look for words like
	// "prisma studio".
	Command     string `json:"command,omitempty"`
	Healthcheck bool   `json:"healthcheck,omitempty"`
	LogDriver   string `json:"log_driver,omitempty"`
	Secrets     bool   `json:"secrets,omitempty"` // uses compose secrets:
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
	Path      string   `json:"path,omitempty"`
	Apps      []PM2App `json:"apps"`
	LogRotate *bool    `json:"logrotate,omitempty"`
	JList     bool     `json:"jlist"` // whether pm2 itself answered
}

// PM2App is one pm2 app.
type PM2App struct {
	Name     string            `json:"name"`
	User     string            `json:"user,omitempty"`
	NodeArgs string            `json:"node_args,omitempty"`
	Env      map[string]EnvVar `json:"env,omitempty"`
	Logs     []FileStat        `json:"logs,omitempty"`
}

// PGFacts is what the Postgres collector saw, over read-only sessions.
type PGFacts struct {
	Host string `json:"host"`
	// Via says how a bundled Postgres was reached ("docker network <ip>").
	Via              string            `json:"via,omitempty"`
	Local            bool              `json:"local"`
	AdminSession     bool              `json:"admin_session"`
	ServerVersion    string            `json:"server_version"`
	ServerVersionNum int               `json:"server_version_num"`
	RDS              bool              `json:"rds"`
	Settings         map[string]string `json:"settings"`
	// Unreadable maps a view or setting to the privilege needed to read it.
	Unreadable map[string]string `json:"unreadable,omitempty"`
	SessionSSL bool              `json:"session_ssl"`
	// TLSVersions is what a TLS handshake with the server accepted (nil:
	// the server offers no TLS or was not probed); WeakSuite a TLS 1.2
	// suite it took from the weak list (no forward secrecy, RC4, 3DES, CBC).
	TLSVersions map[string]bool `json:"tls_versions,omitempty"`
	WeakSuite   string          `json:"weak_suite,omitempty"`
	// PlaintextAccepted says whether the server took a session request
	// without TLS from this host (nil: not probed, e.g. a unix socket);
	// PlaintextProbe is what it answered.
	PlaintextAccepted *bool             `json:"plaintext_accepted,omitempty"`
	PlaintextProbe    string            `json:"plaintext_probe,omitempty"`
	SessionTLS        string            `json:"session_tls_version,omitempty"`
	HBA               []HBARule         `json:"hba,omitempty"`
	MD5Roles          []string          `json:"md5_roles,omitempty"`
	AppRole           RoleFacts         `json:"app_role"`
	LoginSuperusers   []string          `json:"login_superusers"`
	PublicCreate      bool              `json:"public_schema_create"`
	PublicConnectDBs  []string          `json:"public_connect_dbs,omitempty"`
	Extensions        []string          `json:"extensions,omitempty"`
	UntrustedLangs    []string          `json:"untrusted_languages,omitempty"`
	PlaintextSessions []string          `json:"plaintext_remote_sessions,omitempty"` // client addresses
	RoleIdleTimeouts  map[string]string `json:"role_idle_timeouts,omitempty"`
	Users             *UserCounts       `json:"users,omitempty"`
	FailedMigrations  []Migration       `json:"failed_migrations,omitempty"`
	Archiver          *Archiver         `json:"archiver,omitempty"`
	DataDirectory     string            `json:"data_directory,omitempty"`
}

// HBARule is one line of pg_hba_file_rules.
type HBARule struct {
	Line       int    `json:"line"`
	Type       string `json:"type"`
	Database   string `json:"database"`
	User       string `json:"user"`
	Address    string `json:"address,omitempty"`
	Netmask    string `json:"netmask,omitempty"`
	AuthMethod string `json:"auth_method"`
	Error      string `json:"error,omitempty"`
}

// RoleFacts are the app role's attributes.
type RoleFacts struct {
	Name         string `json:"name"`
	Super        bool   `json:"superuser"`
	CreateRole   bool   `json:"createrole"`
	CreateDB     bool   `json:"createdb"`
	Replication  bool   `json:"replication"`
	BypassRLS    bool   `json:"bypassrls"`
	RDSSuperuser bool   `json:"rds_superuser"`
}

// UserCounts are Cal.com account-hygiene counts (never rows).
type UserCounts struct {
	AdminsWithout2FA   int `json:"admins_without_2fa"`
	PasswordWithout2FA int `json:"password_users_without_2fa"`
	Dormant            int `json:"dormant_90d"`
	// Active are unlocked accounts; NoSessionTimeout of them have no
	// metadata.sessionTimeout (NextAuth's 30-day default applies) and
	// LongSessionTimeout one over 60 minutes.
	Active             int  `json:"active"`
	NoSessionTimeout   int  `json:"without_session_timeout"`
	LongSessionTimeout int  `json:"session_timeout_over_60min"`
	SessionsRead       bool `json:"sessions_read"`
}

// Migration is a Prisma migration that started and did not finish.
type Migration struct {
	Name      string    `json:"name"`
	StartedAt time.Time `json:"started_at"`
}

// Archiver is pg_stat_archiver.
type Archiver struct {
	ArchivedCount int64      `json:"archived_count"`
	FailedCount   int64      `json:"failed_count"`
	LastArchived  *time.Time `json:"last_archived_time,omitempty"`
	LastFailed    *time.Time `json:"last_failed_time,omitempty"`
}

// DockerFacts is what the Docker collector saw.
type DockerFacts struct {
	EngineVersion   string   `json:"engine_version"`
	APIVersion      string   `json:"api_version"`
	Warnings        []string `json:"warnings,omitempty"`
	SecurityOptions []string `json:"security_options,omitempty"`
	LiveRestore     bool     `json:"live_restore"`
	LoggingDriver   string   `json:"logging_driver"`
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
	DaemonConfig string      `json:"daemon_config,omitempty"`
	Containers   []Container `json:"containers"`
}

// Mount is a container mount.
type Mount struct {
	Type        string `json:"type"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"read_only,omitempty"`
}

// Container is one inspected container (env values of secret keys dropped).
type Container struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Image string `json:"image"`
	Role  string `json:"role"`
	// Project and Service are the compose labels (com.docker.compose.*).
	Project        string            `json:"project,omitempty"`
	Service        string            `json:"service,omitempty"`
	Limits         Limits            `json:"limits"`
	Tmpfs          []string          `json:"tmpfs,omitempty"`
	AppArmor       string            `json:"apparmor_profile,omitempty"`
	State          string            `json:"state"`
	Health         string            `json:"health,omitempty"`
	RestartCount   int               `json:"restart_count"`
	Privileged     bool              `json:"privileged"`
	User           string            `json:"user"`
	ProcessUsers   []string          `json:"process_users,omitempty"`
	Ports          []PortBinding     `json:"ports,omitempty"`
	ExposedPorts   []string          `json:"exposed_ports,omitempty"`
	RestartPolicy  string            `json:"restart_policy"`
	LogDriver      string            `json:"log_driver"`
	LogOpts        map[string]string `json:"log_opts,omitempty"`
	ReadonlyRootfs bool              `json:"readonly_rootfs"`
	SecretEnvKeys  []string          `json:"secret_env_keys,omitempty"`
	FileEnvKeys    []string          `json:"file_env_keys,omitempty"`
	PlainEnv       map[string]string `json:"plain_env,omitempty"`
	SecretsInImage []string          `json:"secrets_in_image,omitempty"`
	Cmd            string            `json:"cmd,omitempty"` // secret-looking arguments replaced
	Healthcheck    bool              `json:"healthcheck"`
	CapAdd         []string          `json:"cap_add,omitempty"`
	CapDrop        []string          `json:"cap_drop,omitempty"`
	SecurityOpt    []string          `json:"security_opt,omitempty"`
	NetworkMode    string            `json:"network_mode,omitempty"`
	PidMode        string            `json:"pid_mode,omitempty"`
	IpcMode        string            `json:"ipc_mode,omitempty"`
	UTSMode        string            `json:"uts_mode,omitempty"`
	Mounts         []Mount           `json:"mounts,omitempty"`
}

// NetFacts is what the TLS/HTTP probes of the public URL saw.
type NetFacts struct {
	URL          string          `json:"url"`
	TLS          *TLSFacts       `json:"tls,omitempty"`
	HTTP         *HTTPProbe      `json:"http,omitempty"`
	HTTPS        *HTTPProbe      `json:"https,omitempty"`
	Cookies      []Cookie        `json:"cookies,omitempty"`
	CookiesError string          `json:"cookies_error,omitempty"`
	Versions     map[string]bool `json:"versions,omitempty"` // "TLS1.0".. → accepted
	// HandshakeError is set when no TLS handshake succeeded at all
	// (unresolvable host, refused, not TLS): nothing was observed.
	HandshakeError string `json:"handshake_error,omitempty"`
	InsecureSuite  string `json:"insecure_suite,omitempty"`
}

// TLSFacts describes the certificate chain.
type TLSFacts struct {
	Error       string    `json:"error,omitempty"`
	VerifyError string    `json:"verify_error,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	Issuer      string    `json:"issuer,omitempty"`
	NotAfter    time.Time `json:"not_after"`
	Version     string    `json:"version,omitempty"`
}

// HTTPProbe is one request without following redirects.
type HTTPProbe struct {
	URL      string `json:"url"`
	Status   int    `json:"status,omitempty"`
	Location string `json:"location,omitempty"`
	HSTS     string `json:"hsts,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Cookie is a Set-Cookie header's attributes (never the value).
type Cookie struct {
	Name     string `json:"name"`
	Secure   bool   `json:"secure"`
	HTTPOnly bool   `json:"http_only"`
	SameSite string `json:"same_site,omitempty"`
}

// Listener is a TCP socket in LISTEN state.
type Listener struct {
	Addr    string `json:"addr"`
	Port    int    `json:"port"`
	Process string `json:"process,omitempty"`
}

// HostFacts is what the local host collector saw.
type HostFacts struct {
	Listeners          []Listener `json:"listeners,omitempty"`
	ListenersError     string     `json:"listeners_error,omitempty"`
	DataPath           string     `json:"data_path,omitempty"`
	DataDevice         string     `json:"data_device,omitempty"`
	DataEncrypted      *bool      `json:"data_encrypted,omitempty"`
	Swaps              []Swap     `json:"swaps,omitempty"`
	SysVendor          string     `json:"sys_vendor,omitempty"`
	CloudVM            bool       `json:"cloud_vm"`
	TimeSynced         *bool      `json:"time_synced,omitempty"`
	TimeMaxErrorUS     int64      `json:"time_max_error_us,omitempty"`
	TimeError          string     `json:"time_error,omitempty"`
	SSHFound           bool       `json:"ssh_found"`
	SSHPasswordAuth    string     `json:"ssh_password_auth,omitempty"`
	SSHPermitRoot      string     `json:"ssh_permit_root_login,omitempty"`
	AutoUpdates        *bool      `json:"auto_updates,omitempty"`
	RebootRequired     *time.Time `json:"reboot_required_since,omitempty"`
	DockerSock         *FileStat  `json:"docker_sock,omitempty"`
	DockerSockGID      int        `json:"docker_sock_gid,omitempty"`
	DockerGroupMembers []string   `json:"docker_group_members,omitempty"`
	BackupJobs         []string   `json:"backup_jobs,omitempty"` // cron/systemd lines naming a backup tool
	// AuditRules are the audit (auditd) watch rules on the host, from
	// `auditctl -l` or the rules files (AuditSource says which);
	// AuditdRunning whether an auditd process runs.
	AuditRules    []string `json:"audit_rules,omitempty"`
	AuditSource   string   `json:"audit_source,omitempty"`
	AuditdRunning bool     `json:"auditd_running"`
}

// Swap is one swap area.
type Swap struct {
	Name      string `json:"name"`
	Encrypted bool   `json:"encrypted"`
}

// BackupFacts is backup evidence from files.
type BackupFacts struct {
	Dir             string      `json:"dir,omitempty"`
	Files           int         `json:"files"`
	Newest          *BackupFile `json:"newest,omitempty"`
	DirMode         uint32      `json:"dir_mode,omitempty"`
	RestoreTestedAt *time.Time  `json:"restore_tested_at,omitempty"`
	RestoreTestedBy string      `json:"restore_tested_by,omitempty"`
	ContingencyFile string      `json:"contingency_file,omitempty"`
	Error           string      `json:"error,omitempty"`
}

// BackupFile is the newest backup artifact.
type BackupFile struct {
	Path       string    `json:"path"`
	ModTime    time.Time `json:"mod_time"`
	Size       int64     `json:"size"`
	Mode       uint32    `json:"mode"`
	Format     string    `json:"format"` // pgdump-custom, sql, age, openpgp, unknown
	Encrypted  bool      `json:"encrypted"`
	SameDevice *bool     `json:"same_device_as_data,omitempty"`
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
