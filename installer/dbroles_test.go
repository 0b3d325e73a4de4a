package installer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/dotenv"
)

// TestBundledDBRoles: a new bundled install gets two roles (a superuser
// postgres whose password stays in db.env, and the app role DATABASE_URL
// names, with its own password and the init script that creates it); a
// re-run keeps both secrets; an install made before keeps its one-role
// layout and DATABASE_URL, and the plan says why.
func TestBundledDBRoles(t *testing.T) {
	read := func(t *testing.T, p string) map[string]string {
		t.Helper()
		f, err := dotenv.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		return f.Map()
	}
	t.Run("new install", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "install")
		var evs []Event
		s, e := renderState(t, renderCases[0], dir, false, &evs)
		if err := e.Run(context.Background(), RenderPlan(), s); err != nil {
			t.Fatal(err)
		}
		db, env := read(t, filepath.Join(dir, "db.env")), read(t, filepath.Join(dir, ".env"))
		super, app := db["POSTGRES_PASSWORD"], db["CALCTL_APP_PASSWORD"]
		if db["POSTGRES_USER"] != "postgres" || db["CALCTL_APP_USER"] != "calcom" || len(super) != 48 || len(app) != 48 || super == app {
			t.Errorf("db.env roles: user %q app %q, password lengths %d %d, equal %v", db["POSTGRES_USER"], db["CALCTL_APP_USER"], len(super), len(app), super == app)
		}
		if db["POSTGRES_HOST_AUTH_METHOD"] != "scram-sha-256" {
			t.Errorf("POSTGRES_HOST_AUTH_METHOD = %q", db["POSTGRES_HOST_AUTH_METHOD"])
		}
		if !strings.Contains(env["DATABASE_URL"], "://calcom:"+app+"@database") {
			t.Errorf("DATABASE_URL does not use the app role")
		}
		for k, v := range env {
			if strings.Contains(v, super) {
				t.Errorf(".env %s holds the superuser's password", k)
			}
		}
		st, err := os.Stat(filepath.Join(dir, AppRoleScript))
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Fatalf("%s: %v %v", AppRoleScript, st, err)
		}
		// a re-run keeps both passwords and writes nothing
		s2, e2 := renderState(t, renderCases[0], dir, false, &evs)
		if err := e2.Run(context.Background(), RenderPlan(), s2); err != nil {
			t.Fatal(err)
		}
		if s2.Secrets.SuperuserPassword.Reveal() != super || s2.Secrets.DatabasePassword.Reveal() != app || len(s2.Written) != 0 {
			t.Errorf("re-run: secrets kept %v %v, wrote %v", s2.Secrets.SuperuserPassword.Reveal() == super, s2.Secrets.DatabasePassword.Reveal() == app, s2.Written)
		}
	})
	t.Run("one-role install of an earlier calctl", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "install")
		os.MkdirAll(dir, 0o700)
		const pw = "0123456789abcdef0123456789abcdef0123456789abcdef"
		os.WriteFile(filepath.Join(dir, "db.env"), []byte("POSTGRES_USER=calcom\nPOSTGRES_PASSWORD="+pw+"\nPOSTGRES_DB=calendso\n"), 0o600)
		var evs []Event
		s, e := renderState(t, renderCases[0], dir, false, &evs)
		if err := e.Run(context.Background(), RenderPlan(), s); err != nil {
			t.Fatal(err)
		}
		db, env := read(t, filepath.Join(dir, "db.env")), read(t, filepath.Join(dir, ".env"))
		if db["POSTGRES_USER"] != "calcom" || db["POSTGRES_PASSWORD"] != pw || db["CALCTL_APP_PASSWORD"] != "" {
			t.Errorf("one-role db.env rewritten: %v", db)
		}
		if !strings.Contains(env["DATABASE_URL"], "://calcom:"+pw+"@database") {
			t.Errorf("DATABASE_URL lost the existing password")
		}
		if _, err := os.Stat(filepath.Join(dir, AppRoleScript)); err == nil {
			t.Errorf("init script rendered for a volume it never runs on")
		}
		warned := false
		for _, ev := range evs {
			warned = warned || ev.Level == "warn" && strings.Contains(ev.Message, "PG-006")
		}
		if !warned {
			t.Errorf("no PG-006 warning for the one-role install")
		}
	})
}
