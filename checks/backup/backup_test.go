package backup_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calctl/calctl/backup/history"
	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/backup"
	"github.com/calctl/calctl/checks/collect"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestBackupChecksOverFiles(t *testing.T) {
	now := time.Now().UTC()
	tests := []struct {
		name        string
		content     []byte
		mode        os.FileMode
		age         time.Duration
		contingency string
		want        map[string]checks.Status
	}{
		{"fresh age-encrypted private dump, restore tested", []byte("age-encryption.org/v1\n-> X25519 abc\n"), 0o600, 2 * time.Hour,
			"last_restore_test: " + now.AddDate(0, 0, -30).Format("2006-01-02") + "\nby: ops\n",
			map[string]checks.Status{"BK-002": checks.Pass, "BK-003": checks.Pass, "BK-004": checks.Pass, "BK-005": checks.Pass}},
		{"plaintext custom dump, world-readable, 3 days old", []byte("PGDMP\x01\x0e\x00"), 0o644, 72 * time.Hour, "",
			map[string]checks.Status{"BK-002": checks.Pass, "BK-003": checks.Warn, "BK-004": checks.Fail, "BK-005": checks.Manual}},
		{"gzip SQL dump 10 days old, old restore test", gz([]byte("--\n-- PostgreSQL database dump\n--\n")), 0o600, 240 * time.Hour,
			"last_restore_test: " + now.AddDate(0, 0, -200).Format("2006-01-02") + "\n",
			map[string]checks.Status{"BK-002": checks.Pass, "BK-003": checks.Fail, "BK-004": checks.Fail, "BK-005": checks.Warn}},
		{"empty backup dir", nil, 0, 0, "",
			map[string]checks.Status{"BK-002": checks.Fail, "BK-003": checks.Fail, "BK-004": checks.Manual, "BK-005": checks.Manual}},
	}
	list := []checks.Check{backup.Mechanism, backup.Freshness, backup.Protection, backup.RestoreTested}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bdir := filepath.Join(dir, "backups")
			if err := os.Mkdir(bdir, 0o700); err != nil {
				t.Fatal(err)
			}
			if tt.content != nil {
				p := filepath.Join(bdir, "calendso.dump")
				if err := os.WriteFile(p, tt.content, tt.mode); err != nil {
					t.Fatal(err)
				}
				os.Chmod(p, tt.mode)
				mt := now.Add(-tt.age)
				os.Chtimes(p, mt, mt)
			}
			o := collect.Options{BackupDir: bdir, Only: []checks.Source{checks.SourceBackup}, Now: now}
			if tt.contingency != "" {
				o.ContingencyFile = filepath.Join(dir, "contingency.yaml")
				os.WriteFile(o.ContingencyFile, []byte(tt.contingency), 0o600)
			}
			f, err := collect.Collect(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if st := f.Source(checks.SourceBackup); !st.Collected {
				t.Fatalf("backup not collected: %+v", st)
			}
			for _, r := range checks.Run(f, list, checks.Selection{}, nil).Results {
				if w, ok := tt.want[r.ID]; ok && r.Status != w {
					t.Errorf("%s = %s (%s), want %s", r.ID, r.Status, r.Message, w)
				}
			}
		})
	}
}

func TestBackupRDSIsManual(t *testing.T) {
	f := &checks.Facts{Target: checks.Target{Profile: "rds"}, PG: &checks.PGFacts{RDS: true}}
	for _, c := range []checks.Check{backup.Mechanism, backup.Freshness, backup.Protection} {
		if r := c.Run(f)[0]; r.Status != checks.Manual {
			t.Errorf("%s on RDS = %s, want MANUAL", r.ID, r.Status)
		}
	}
	if r := backup.PGDataVolume.Run(f)[0]; r.Status != checks.Skip {
		t.Errorf("BK-001 on RDS = %s, want SKIP", r.Status)
	}
}

func TestSniffBackup(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		data []byte
		fmt  string
		enc  bool
	}{
		"a": {[]byte("PGDMP..."), "pgdump-custom", false},
		"b": {[]byte("-----BEGIN PGP MESSAGE-----\n"), "openpgp-armor", true},
		"c": {[]byte{0x85, 0x01, 0x0c}, "openpgp", true},
		"d": {gz([]byte("age-encryption.org/v1\n")), "gzip+age", true},
		"e": {[]byte("hello"), "unknown", false},
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, c.data, 0o600)
		if f, e := collect.SniffBackup(p); f != c.fmt || e != c.enc {
			t.Errorf("%s: got %s/%v, want %s/%v", name, f, e, c.fmt, c.enc)
		}
	}
}

// TestBackupChecksFromHistory: the BK checks take calctl's own history of
// backups and restore drills (backup/history) as evidence.
func TestBackupChecksFromHistory(t *testing.T) {
	now := time.Now().UTC()
	ok := func(kind string, ago time.Duration) history.Event {
		return history.Event{Kind: kind, Result: history.ResultOK, Time: now.Add(-ago)}
	}
	failed := func(kind string, ago time.Duration) history.Event {
		return history.Event{Kind: kind, Result: history.ResultFailed, Time: now.Add(-ago), Error: "pg_dump exited 1: boom"}
	}
	tests := []struct {
		name   string
		events []history.Event
		want   map[string]checks.Status
	}{
		{"backup and drill", []history.Event{ok("backup", 3*time.Hour), ok("verify", 2*time.Hour)},
			map[string]checks.Status{"BK-002": checks.Pass, "BK-003": checks.Pass, "BK-004": checks.Pass, "BK-005": checks.Pass}},
		{"no drill yet", []history.Event{ok("backup", 3*time.Hour)},
			map[string]checks.Status{"BK-002": checks.Pass, "BK-003": checks.Pass, "BK-005": checks.Manual}},
		{"last backup failed", []history.Event{ok("backup", 30*time.Hour), ok("verify", 29*time.Hour), failed("backup", time.Hour)},
			map[string]checks.Status{"BK-002": checks.Pass, "BK-003": checks.Fail, "BK-005": checks.Pass}},
		{"last drill failed", []history.Event{ok("backup", 3*time.Hour), ok("verify", 100*time.Hour), failed("verify", time.Hour)},
			map[string]checks.Status{"BK-003": checks.Pass, "BK-005": checks.Fail}},
		{"old drill", []history.Event{ok("backup", 3*time.Hour), ok("verify", 100*24*time.Hour)},
			map[string]checks.Status{"BK-005": checks.Warn}},
	}
	list := []checks.Check{backup.Mechanism, backup.Freshness, backup.Protection, backup.RestoreTested}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bdir := filepath.Join(dir, "backups")
			os.Mkdir(bdir, 0o700)
			os.WriteFile(filepath.Join(bdir, ".calctl-backup.lock"), nil, 0o600)
			for i, e := range tt.events {
				if e.Kind == history.KindBackup && e.Result == history.ResultOK {
					e.File = filepath.Join(bdir, fmt.Sprintf("calctl-backup-x-%d.age", i))
					os.WriteFile(e.File, []byte("age-encryption.org/v1\n-> X25519 abc\n"), 0o600)
					os.Chtimes(e.File, e.Time, e.Time)
				}
				if err := history.Append(dir, e); err != nil {
					t.Fatal(err)
				}
			}
			f, err := collect.Collect(context.Background(), collect.Options{Dir: dir, Only: []checks.Source{checks.SourceBackup}, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if st := f.Source(checks.SourceBackup); !st.Collected {
				t.Fatalf("backup not collected: %+v", st)
			}
			got := map[string][]string{}
			has := map[string]bool{}
			for _, r := range checks.Run(f, list, checks.Selection{}, nil).Results {
				got[r.ID] = append(got[r.ID], fmt.Sprintf("%s (%s)", r.Status, r.Message))
				has[r.ID+" "+string(r.Status)] = true
			}
			for id, w := range tt.want {
				if !has[id+" "+string(w)] {
					t.Errorf("%s = %v, want a %s", id, got[id], w)
				}
			}
		})
	}
}
