package backup

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/calctl/calctl/backup/archive"
	"github.com/calctl/calctl/backup/pgtool"
)

func TestIsSecretKey(t *testing.T) {
	for k, want := range map[string]bool{
		"NEXTAUTH_SECRET": true, "CALENDSO_ENCRYPTION_KEY": true, "CRON_API_KEY": true, "EMAIL_SERVER_PASSWORD": true,
		"CALCOM_LICENSE_KEY": true, "NEXT_PUBLIC_VAPID_PUBLIC_KEY": true, "DATABASE_URL": false, "DATABASE_DIRECT_URL": false,
		"POSTGRES_PASSWORD": false, "NEXT_PUBLIC_WEBAPP_URL": false, "EMAIL_FROM": false,
	} {
		if IsSecretKey(k) != want {
			t.Errorf("IsSecretKey(%s) = %v", k, !want)
		}
	}
}

func TestSecretChanges(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".env"), []byte("# mine\nDATABASE_URL=postgresql://a@here/db\nNEXTAUTH_SECRET=current\nCALENDSO_ENCRYPTION_KEY=same\nONLY_HERE_TOKEN=x\nNEXT_PUBLIC_WEBAPP_URL=https://here\n"), 0o600)
	os.MkdirAll(filepath.Join(dir, "agent"), 0o700)
	os.WriteFile(filepath.Join(dir, "agent", "token"), []byte("t1"), 0o600)
	backup := map[string][]byte{
		".env":        []byte("DATABASE_URL=postgresql://b@there/db\nNEXTAUTH_SECRET=from-backup\nCALENDSO_ENCRYPTION_KEY=same\nCRON_SECRET=new\nNEXT_PUBLIC_WEBAPP_URL=https://there\n"),
		"agent/token": []byte("t2"),
		"db.env":      []byte("POSTGRES_PASSWORD=other\n"),
	}
	changes, writes, err := SecretChanges(dir, backup)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.File+" "+c.Key+" "+c.Change)
		if strings.Contains(c.String(), "current") || strings.Contains(c.String(), "from-backup") {
			t.Errorf("a change shows a value: %s", c)
		}
	}
	want := []string{".env CRON_SECRET only in backup", ".env NEXTAUTH_SECRET differs", ".env ONLY_HERE_TOKEN only here", "agent/token  differs"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	env := string(writes[".env"])
	for _, s := range []string{"# mine\n", "DATABASE_URL=postgresql://a@here/db", "NEXTAUTH_SECRET=from-backup", "CRON_SECRET=new", "NEXT_PUBLIC_WEBAPP_URL=https://here", "ONLY_HERE_TOKEN=x"} {
		if !strings.Contains(env, s) {
			t.Errorf("new .env lacks %q:\n%s", s, env)
		}
	}
	if _, ok := writes["db.env"]; ok {
		t.Errorf("db.env (the target server's) would be replaced")
	}
	if string(writes["agent/token"]) != "t2" {
		t.Errorf("agent/token not restored")
	}
}

func TestCompareCounts(t *testing.T) {
	want := []archive.TableCount{{Table: "Booking", Rows: 10}, {Table: "users", Rows: 2}, {Table: "gone", Rows: 1}}
	got := []pgtool.Table{{Name: "Booking", Rows: 10}, {Name: "users", Rows: 3}, {Name: "NewFeature", Rows: 1}}
	diff, extra := compareCounts(want, got)
	if !reflect.DeepEqual(diff, []string{"users: want 2 rows, got 3", "gone: want 1 rows, table missing"}) || !reflect.DeepEqual(extra, []string{"NewFeature (1 rows)"}) {
		t.Errorf("diff %q extra %q", diff, extra)
	}
}

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	names := []string{"calctl-backup-calcom-20261201T030000Z.age", "calctl-backup-calcom-20261202T030000Z.age", "calctl-backup-calcom-20261203T030000Z.age",
		"calctl-backup-other-20261130T030000Z.age", "calctl-backup-calcom-20261204T030000Z.age.tmp", "notes.txt"}
	for _, n := range names {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	removed, err := Prune(dir, "calcom", 2)
	if err != nil || len(removed) != 1 || filepath.Base(removed[0]) != names[0] {
		t.Fatalf("removed %v, %v", removed, err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != len(names)-1 {
		t.Errorf("%d files left", len(left))
	}
}

func TestFindLocalTooNew(t *testing.T) {
	_, err := pgtool.FindLocal(context.Background(), 99)
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL 99 or newer") || !strings.Contains(err.Error(), "postgresql-client-99") {
		t.Errorf("got %v", err)
	}
}
