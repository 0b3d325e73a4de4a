package checks

import "time"

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

// ComposeFacts is a parsed docker-compose file.
type ComposeFacts struct {
	Path     string           `json:"path"`
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
	CapAdd      []string          `json:"cap_add,omitempty"`
	CapDrop     []string          `json:"cap_drop,omitempty"`
	SecurityOpt []string          `json:"security_opt,omitempty"`
	NetworkMode string            `json:"network_mode,omitempty"`
	PID         string            `json:"pid,omitempty"`
	Command     string            `json:"command,omitempty"`
	Healthcheck bool              `json:"healthcheck,omitempty"`
	LogDriver   string            `json:"log_driver,omitempty"`
	Secrets     bool              `json:"secrets,omitempty"` // uses compose secrets:
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
	Host             string            `json:"host"`
	Local            bool              `json:"local"`
	AdminSession     bool              `json:"admin_session"`
	ServerVersion    string            `json:"server_version"`
	ServerVersionNum int               `json:"server_version_num"`
	RDS              bool              `json:"rds"`
	Settings         map[string]string `json:"settings"`
	// Unreadable maps a view or setting to the privilege needed to read it.
	Unreadable        map[string]string `json:"unreadable,omitempty"`
	SessionSSL        bool              `json:"session_ssl"`
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
	EngineVersion   string      `json:"engine_version"`
	APIVersion      string      `json:"api_version"`
	Warnings        []string    `json:"warnings,omitempty"`
	SecurityOptions []string    `json:"security_options,omitempty"`
	LiveRestore     bool        `json:"live_restore"`
	LoggingDriver   string      `json:"logging_driver"`
	Containers      []Container `json:"containers"`
}

// Mount is a container mount.
type Mount struct {
	Type        string `json:"type"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
}

// Container is one inspected container (env values of secret keys dropped).
type Container struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Image          string            `json:"image"`
	Role           string            `json:"role"`
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
	Cmd            string            `json:"cmd,omitempty"`
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
	URL           string          `json:"url"`
	TLS           *TLSFacts       `json:"tls,omitempty"`
	HTTP          *HTTPProbe      `json:"http,omitempty"`
	HTTPS         *HTTPProbe      `json:"https,omitempty"`
	Cookies       []Cookie        `json:"cookies,omitempty"`
	CookiesError  string          `json:"cookies_error,omitempty"`
	Versions      map[string]bool `json:"versions,omitempty"` // "TLS1.0".. → accepted
	InsecureSuite string          `json:"insecure_suite,omitempty"`
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
