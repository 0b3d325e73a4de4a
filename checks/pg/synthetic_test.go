package pg_test

import (
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/pg"
)

// Cases a local test cluster cannot show (RDS, a remote host, old
// versions) are judged over hand-built facts.
func TestPGChecksOverFacts(t *testing.T) {
	base := func(mod func(p *checks.PGFacts)) *checks.Facts {
		p := &checks.PGFacts{Host: "db.example.com", Settings: map[string]string{"ssl": "on", "ssl_min_protocol_version": "TLSv1.2",
			"ssl_ciphers": "HIGH:!aNULL", "password_encryption": "scram-sha-256"}, Unreadable: map[string]string{}, ServerVersionNum: 170007}
		mod(p)
		f := &checks.Facts{CollectedAt: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), PG: p}
		f.SetSource(checks.SourcePG, checks.SourceState{Collected: true})
		return f
	}
	tests := []struct {
		name string
		c    checks.Check
		mod  func(p *checks.PGFacts)
		want checks.Status
	}{
		{"remote ssl off", pg.SSL, func(p *checks.PGFacts) { p.Settings["ssl"] = "off" }, checks.Fail},
		{"ssl on but session plaintext", pg.SSL, func(p *checks.PGFacts) {}, checks.Warn},
		{"TLSv1 floor", pg.TLSFloor, func(p *checks.PGFacts) { p.Settings["ssl_min_protocol_version"] = "TLSv1" }, checks.Fail},
		{"default ciphers", pg.TLSFloor, func(p *checks.PGFacts) { p.Settings["ssl_ciphers"] = "HIGH:MEDIUM:+3DES:!aNULL" }, checks.Warn},
		{"RDS force_ssl on, plaintext refused", pg.HBATLS, func(p *checks.PGFacts) {
			no := false
			p.RDS, p.PlaintextAccepted = true, &no
			p.Settings["rds.force_ssl"] = "1"
		}, checks.Pass},
		{"RDS force_ssl on, not probed", pg.HBATLS, func(p *checks.PGFacts) { p.RDS = true; p.Settings["rds.force_ssl"] = "1" }, checks.Warn},
		{"RDS force_ssl on, plaintext accepted", pg.HBATLS, func(p *checks.PGFacts) {
			yes := true
			p.RDS, p.PlaintextAccepted = true, &yes
			p.Settings["rds.force_ssl"] = "1"
		}, checks.Fail},
		{"RDS force_ssl off", pg.HBATLS, func(p *checks.PGFacts) { p.RDS = true; p.Settings["rds.force_ssl"] = "0" }, checks.Fail},
		{"remote plaintext session", pg.HBATLS, func(p *checks.PGFacts) { p.PlaintextSessions = []string{"203.0.113.9"} }, checks.Fail},
		{"md5 hashes left", pg.PasswordHashing, func(p *checks.PGFacts) { p.MD5Roles = []string{"legacy"} }, checks.Warn},
		{"rds_superuser member", pg.AppRole, func(p *checks.PGFacts) { p.AppRole = checks.RoleFacts{Name: "app", RDSSuperuser: true} }, checks.Warn},
		{"two login superusers", pg.AppRole, func(p *checks.PGFacts) { p.AppRole.Name = "app"; p.LoginSuperusers = []string{"a", "b"} }, checks.Warn},
		{"EOL major", pg.ServerVersion, func(p *checks.PGFacts) { p.ServerVersionNum = 130020 }, checks.Fail},
		{"old minor", pg.ServerVersion, func(p *checks.PGFacts) { p.ServerVersionNum = 170002 }, checks.Warn},
		{"current minor", pg.ServerVersion, func(p *checks.PGFacts) {}, checks.Pass},
		{"pgaudit ddl,role", pg.StatementAudit, func(p *checks.PGFacts) {
			p.Settings["shared_preload_libraries"] = "pgaudit"
			p.Settings["pgaudit.log"] = "ddl,role"
		}, checks.Pass},
		{"log_min_duration 0", pg.StatementAudit, func(p *checks.PGFacts) {
			p.Settings["log_statement"] = "ddl"
			p.Settings["log_min_duration_statement"] = "0"
		}, checks.Warn},
		{"users table unreadable", pg.AccountHygiene, func(p *checks.PGFacts) { p.Unreadable["users"] = "SELECT on table users" }, checks.Skip},
		{"no users table", pg.AccountHygiene, func(p *checks.PGFacts) {}, checks.Skip},
		{"dormant accounts", pg.AccountHygiene, func(p *checks.PGFacts) { p.Users = &checks.UserCounts{Dormant: 3} }, checks.Warn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.Run(base(tt.mod))[0]
			if r.Status != tt.want {
				t.Errorf("%s = %s (%s), want %s", r.ID, r.Status, r.Message, tt.want)
			}
		})
	}
}
