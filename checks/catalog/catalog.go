// Package catalog is the ordered registry of calctl's hardening checks: one
// slice, one commented line per check. It imports the area packages, which
// import only checks, so the graph has no cycle.
package catalog

import (
	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/backup"
	"github.com/calctl/calctl/checks/config"
	"github.com/calctl/calctl/checks/docker"
	"github.com/calctl/calctl/checks/kube"
	"github.com/calctl/calctl/checks/net"
	"github.com/calctl/calctl/checks/pg"
)

// All returns every check in report order.
func All() []checks.Check {
	return []checks.Check{
		pg.SSL,                    // PG-001 server TLS on; audit session encrypted
		pg.TLSFloor,               // PG-002 TLS floor and cipher list
		pg.HBATLS,                 // PG-003 hostssl only for TCP clients
		pg.HBAAuth,                // PG-004 no trust/password/md5 in pg_hba
		pg.PasswordHashing,        // PG-005 scram-sha-256, no md5 hashes left
		pg.AppRole,                // PG-006 app role not superuser; ≤1 login superuser
		pg.PublicPrivileges,       // PG-007 PUBLIC cannot create in public or connect
		pg.ConnectionLogging,      // PG-008 log_connections and a useful prefix
		pg.StatementAudit,         // PG-009 DDL/role audit without PHI in logs
		pg.StorageIntegrity,       // PG-010 fsync, full_page_writes, checksums
		pg.ServerVersion,          // PG-011 supported major, current minor
		pg.Extensions,             // PG-012 risky extensions, untrusted languages
		pg.Timeouts,               // PG-013 authentication and idle timeouts
		pg.AccountHygiene,         // PG-014 admins with 2FA, dormant accounts (counts)
		pg.LogCollector,           // PG-015 the server log is collected
		pg.LogRetention,           // PG-016 log files rotate and cycle
		pg.LogFileMode,            // PG-017 log_file_mode 0600
		pg.SocketMode,             // PG-018 unix socket not world-connectable
		pg.DataDirMode,            // PG-019 data directory 0700
		pg.SessionLifetime,        // PG-020 Cal.com session timeouts (automatic logoff)
		docker.Privileged,         // DK-001 privileged containers
		docker.RootUser,           // DK-002 container runs as root
		docker.PublishedPorts,     // DK-003 db/admin ports on 0.0.0.0
		docker.PrismaStudio,       // DK-004 Prisma Studio deployed
		docker.RestartPolicy,      // DK-005 restart policy on db/app
		docker.Logging,            // DK-006 log driver and retention
		docker.ReadonlyRootfs,     // DK-007 read-only root filesystem
		docker.EnvSecrets,         // DK-008 secrets in env; trust auth
		docker.ImagePinning,       // DK-009 pinned images; Node not EOL
		docker.Healthcheck,        // DK-010 healthchecks
		docker.Capabilities,       // DK-011 caps, no-new-privileges, seccomp
		docker.HostNamespaces,     // DK-012 host namespaces, docker.sock mounts
		docker.Daemon,             // DK-013 daemon exposure and posture
		docker.AuditRules,         // DK-014 auditd watches Docker (CIS 1.1.3-1.1.18)
		docker.ICC,                // DK-015 icc=false on the default bridge
		docker.UserlandProxy,      // DK-016 userland-proxy off
		docker.MACProfile,         // DK-017 AppArmor/SELinux confinement
		docker.MemoryLimit,        // DK-018 memory limit
		docker.CPULimit,           // DK-019 CPU limit
		docker.PidsLimit,          // DK-020 PIDs limit
		docker.LogRotation,        // DK-021 json-file max-size/max-file
		config.NextAuthSecret,     // CF-001 NEXTAUTH_SECRET strength
		config.EncryptionKey,      // CF-002 CALENDSO_ENCRYPTION_KEY exactly 32 chars
		config.DBTLS,              // CF-003 sslmode in DB URLs; DATABASE_DIRECT_URL
		config.DefaultCredentials, // CF-004 default, weak or reused credentials
		config.PublicURLs,         // CF-005 public URLs are https
		config.FileModes,          // CF-006 config files 0600, not in git
		config.DebugFlags,         // CF-007 E2E and --inspect off
		config.Telemetry,          // CF-008 telemetry off; processors need a BAA
		config.SMTP,               // CF-009 SMTP over TLS ports
		config.PM2Runtime,         // CF-010 pm2 user and logs
		config.CronKey,            // CF-011 CRON_API_KEY set and strong
		net.Certificate,           // NET-001 public certificate valid, > 30 days
		net.TLSVersions,           // NET-002 TLS 1.2+ only, no insecure suites
		net.HTTPSEnforcement,      // NET-003 http→https, HSTS, Secure cookies
		net.Listeners,             // NET-004 no sensitive wildcard listeners
		net.DiskEncryption,        // NET-005 data and swap encrypted
		net.TimeSync,              // NET-006 clock synchronised
		net.RemoteAdmin,           // NET-007 sshd hardening and patching
		net.DockerSocket,          // NET-008 docker.sock mode and group
		net.APIExposure,           // NET-009 API ports and URLs behind TLS
		backup.PGDataVolume,       // BK-001 PGDATA on a volume
		backup.Mechanism,          // BK-002 a backup mechanism exists
		backup.Freshness,          // BK-003 backups fresh; WAL archiving healthy
		backup.Protection,         // BK-004 backups encrypted and private
		backup.RestoreTested,      // BK-005 restore tested within 90 days
		backup.PITR,               // BK-006 WAL archiving / point-in-time recovery
		kube.PodSecurity,          // K8S-001 Pod Security "restricted" enforced on the namespace
		kube.NetworkPolicies,      // K8S-002 default deny; web from ingress, db from app only
		kube.SecretEnv,            // K8S-003 Secrets as files, not env (or a recorded reason)
		kube.Resources,            // K8S-004 requests and limits on every container
		kube.ImageDigest,          // K8S-005 images pinned by digest
		kube.ServiceAccountToken,  // K8S-006 service account token automount off
		kube.IngressTLS,           // K8S-007 Ingress TLS for every host
		kube.Privilege,            // K8S-008 not privileged; allowPrivilegeEscalation false
		kube.NonRoot,              // K8S-009 runAsNonRoot
		kube.ReadOnlyRootFS,       // K8S-010 readOnlyRootFilesystem
		kube.Capabilities,         // K8S-011 capabilities drop ALL
		kube.Seccomp,              // K8S-012 seccomp RuntimeDefault
		kube.Availability,         // K8S-013 web/api ≥ 2 replicas and a PDB
		kube.ConfigMapSecrets,     // K8S-014 no secret values in ConfigMaps
		kube.HostAccess,           // K8S-015 no host namespaces, hostPath, hostPort
		kube.Probes,               // K8S-016 readiness/liveness on serving pods
	}
}

// For returns the checks that apply to a deployment profile, in report
// order: the K8S checks for "kubernetes", every other check otherwise (a
// compose host has no namespace to judge, and a namespace has no .env,
// Docker engine or host to read).
func For(profile string) []checks.Check {
	var out []checks.Check
	for _, c := range All() {
		if (checks.Group(c.ID()) == "K8S") == (profile == checks.ProfileKubernetes) {
			out = append(out, c)
		}
	}
	return out
}
