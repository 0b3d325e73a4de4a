package outbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func entry(period string, rev int, state string) Entry {
	body := fmt.Sprintf(`{"schema":"calctl.usage/v1","deployment_id":"dep_1","period":%q,"revision":%d}`, period, rev)
	return Entry{Key: fmt.Sprintf("dep_1:%s:%d", period, rev), DeploymentID: "dep_1", Period: period, Revision: rev,
		State: state, Body: body, CreatedAt: time.Unix(1_790_000_000, 0).UTC(), Total: int64(rev * 10)}
}

func TestPutLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Entry{entry("2026-10", 2, StatePending), entry("2026-09", 1, StateAcked), entry("2026-10", 1, StateAcked)} {
		if err := s.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(filepath.Join(s.Dir, "2026-10.r000002.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("entry file mode: %v %v", st, err)
	}
	got, problems, err := s.Load()
	if err != nil || len(problems) != 0 {
		t.Fatal(err, problems)
	}
	var keys []string
	for _, e := range got {
		keys = append(keys, e.Key)
	}
	if strings.Join(keys, " ") != "dep_1:2026-09:1 dep_1:2026-10:1 dep_1:2026-10:2" {
		t.Fatalf("order: %v", keys)
	}
	if err := s.Put(Entry{Period: "2026-10"}); err == nil {
		t.Fatal("incomplete entry accepted")
	}
}

// TestCorruptEntriesQuarantined damages entries in the ways a disk or a
// person can, and checks that the others still load and go.
func TestCorruptEntriesQuarantined(t *testing.T) {
	tests := []struct {
		name   string
		damage func(path string) error
		want   string
	}{
		{"truncated", func(p string) error { return os.Truncate(p, 40) }, "not valid JSON"},
		{"empty", func(p string) error { return os.WriteFile(p, nil, 0o600) }, "not valid JSON"},
		{"body edited", func(p string) error {
			b, _ := os.ReadFile(p)
			return os.WriteFile(p, []byte(strings.Replace(string(b), `\"revision\":3`, `\"revision\":4`, 1)), 0o600)
		}, "checksum"},
		{"renamed", func(p string) error { return os.Rename(p, filepath.Join(filepath.Dir(p), "2026-11.r000003.json")) }, "its name says"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, _ := Open(dir)
			for _, e := range []Entry{entry("2026-10", 3, StatePending), entry("2026-09", 1, StatePending)} {
				if err := s.Put(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := tt.damage(filepath.Join(s.Dir, "2026-10.r000003.json")); err != nil {
				t.Fatal(err)
			}
			sum, err := Summarize(dir)
			if err != nil || sum.Corrupt != 1 || sum.Pending != 1 || !strings.Contains(sum.Problems[0], tt.want) {
				t.Fatalf("Summarize: %+v %v, want 1 corrupt mentioning %q", sum, err, tt.want)
			}
			got, problems, err := s.Scan()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Period != "2026-09" || len(problems) != 1 || problems[0].MovedTo == "" {
				t.Fatalf("Scan: %d entries %v", len(got), problems)
			}
			msg := problems[0].Message()
			if !strings.Contains(msg, "is corrupt") || !strings.Contains(msg, "quarantine") {
				t.Fatalf("message: %s", msg)
			}
			again, problems2, _ := s.Scan()
			if len(again) != 1 || len(problems2) != 0 {
				t.Fatalf("second scan: %d entries, %d problems", len(again), len(problems2))
			}
			period := "2026-10"
			if tt.name == "renamed" {
				period = "2026-11"
			}
			if n, _ := s.MaxRevision(period); n != 3 {
				t.Fatalf("MaxRevision after quarantine = %d, want 3 (revisions never reuse)", n)
			}
			if sum, _ := Summarize(dir); sum.Quarantined != 1 || sum.Corrupt != 0 {
				t.Fatalf("after scan: %+v", sum)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	acked := entry("2026-09", 1, StateAcked)
	acked.AckedAt = time.Date(2026, 10, 4, 1, 0, 0, 0, time.UTC)
	acked.Receipt = `{"id":"rcpt_1"}`
	parked := entry("2026-10", 1, StateParked)
	parked.LastStatus, parked.LastError = 401, "401 Unauthorized: bad token"
	pending := entry("2026-10", 2, StatePending)
	pending.NextRetry = time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	for _, e := range []Entry{acked, parked, pending} {
		if err := s.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The parked revision 1 is older than the pending revision 2: it is
	// superseded (never sent), not parked.
	if sum.Pending != 1 || sum.Acked != 1 || sum.Parked != 0 || sum.Superseded != 1 || !sum.LastAck.Equal(acked.AckedAt) || len(sum.Periods) != 2 {
		t.Fatalf("summary: %+v", sum)
	}
	p := sum.Periods[1]
	if p.Period != "2026-10" || p.Revision != 2 || p.State != StatePending || !p.NextRetry.Equal(pending.NextRetry) ||
		len(p.Superseded) != 1 || p.Superseded[0].Revision != 1 || p.Superseded[0].By != 2 || p.Accepted != nil {
		t.Fatalf("2026-10: %+v", p)
	}
	if a := sum.Periods[0].Accepted; sum.Periods[0].Receipt != `{"id":"rcpt_1"}` || a == nil || a.Revision != 1 {
		t.Fatalf("2026-09: %+v", sum.Periods[0])
	}
	// A billing view for a period without entries (a lost state dir).
	if err := SaveBillingView(dir, BillingView{Period: "2026-08", Found: true, LatestRevision: 4, Total: 9, Final: true}); err != nil {
		t.Fatal(err)
	}
	sum, _ = Summarize(dir)
	if len(sum.Periods) != 3 || sum.Periods[0].Period != "2026-08" || sum.Periods[0].Billing == nil || sum.Periods[0].Billing.LatestRevision != 4 {
		t.Fatalf("billing view: %+v", sum.Periods)
	}
	if empty, err := Summarize(filepath.Join(dir, "nope")); err != nil || empty.Pending+empty.Acked+empty.Parked != 0 {
		t.Fatalf("missing state dir: %+v %v", empty, err)
	}
}

// TestSupersedeAndNormalize: newest wins. Writing revision 3 supersedes
// the pending and parked revisions below it, never an acked one; Normalize
// repairs what a crash between the two writes leaves.
func TestSupersedeAndNormalize(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	for _, e := range []Entry{entry("2026-10", 1, StateAcked), entry("2026-10", 2, StateParked), entry("2026-11", 1, StatePending), entry("2026-10", 3, StatePending)} {
		if err := s.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	entries, _, _ := s.Load()
	entries, err := s.Normalize(entries)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	reloaded, _, _ := s.Load()
	for _, e := range reloaded {
		got[e.Key] = e.State
	}
	want := map[string]string{"dep_1:2026-10:1": StateAcked, "dep_1:2026-10:2": StateSuperseded, "dep_1:2026-10:3": StatePending, "dep_1:2026-11:1": StatePending}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s (on disk)", k, got[k], v)
		}
	}
	for _, e := range entries {
		if e.Key == "dep_1:2026-10:2" && (e.SupersededBy != 3 || e.Note == "") {
			t.Errorf("superseded entry: %+v", e)
		}
	}
	n := Newest(reloaded)
	if len(n) != 2 || n[0].Revision != 3 || n[1].Period != "2026-11" {
		t.Fatalf("Newest: %+v", n)
	}
}
