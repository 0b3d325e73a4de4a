package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/reporter"
	"github.com/calctl/calctl/reporter/outbox"
	"github.com/calctl/calctl/reporter/receiver"
)

// retryCommandRE finds the command calctl tells the user to run.
var retryCommandRE = regexp.MustCompile(`calctl (report retry[^\n'"` + "`" + `;)]*)`)

// advisedCommand returns the arguments of the first `calctl report retry`
// command in text, or nil.
func advisedCommand(text string) []string {
	m := retryCommandRE.FindStringSubmatch(text)
	if m == nil {
		return nil
	}
	return strings.Fields(m[1])
}

func billedTotal(t *testing.T, rcv *receiver.Receiver, key string) (int64, bool) {
	t.Helper()
	r, ok := rcv.Billed()[key]
	return r.Total, ok
}

// TestReportParkedThenFixedToken is finding 1 of issue 10: after one 401 the
// month was parked for ever — `report` said "unchanged", the agent never
// returned, and the advice did nothing (November, 602 bookings, 19410 cents,
// never delivered). Now the advice is a command that delivers it.
func TestReportParkedThenFixedToken(t *testing.T) {
	e := newReportEnv(t, "")
	ctx := context.Background()
	nov := reporter.Period{Year: 2026, Month: 11}
	e.db.InsertMany(t, 602, nov.Start(), nov.End())
	token := filepath.Join(e.dir, "token")
	if err := os.WriteFile(token, []byte("tok_wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runReportCLI(ctx, e.env, "report", "--config", e.config, "--period", "2026-11")
	if code != ExitFailure || !strings.Contains(out+stderr, "parked") {
		t.Fatalf("with a wrong token: exit %d\n%s%s", code, out, stderr)
	}
	if _, ok := billedTotal(t, e.rcv, "dep_cli:2026-11"); ok {
		t.Fatal("billed with a wrong token")
	}
	code, out, stderr = runReportCLI(ctx, e.env, "report", "status", "--config", e.config)
	if code != ExitFailure || !strings.Contains(out, "parked") || !strings.Contains(out, "fix") ||
		!strings.Contains(out, "calctl report retry --period 2026-11 --config "+e.config) {
		t.Fatalf("status of a parked month: exit %d\n%s%s", code, out, stderr)
	}
	// doctor has a line for the month and the same command.
	_, out, stderr = runReportCLI(ctx, e.env, "doctor", "--config", e.config, "--docker=false")
	if !strings.Contains(out, "2026-11  latest r1 parked final 602") || !strings.Contains(out, "billing holds unknown") ||
		!strings.Contains(out, "next: the endpoint refused the credentials (401)") || !strings.Contains(out, "calctl report retry --period 2026-11 --config "+e.config) {
		t.Fatalf("doctor does not show the parked month and its fix:\n%s%s", out, stderr)
	}

	// The user fixes the token and runs report again, as anyone would.
	if err := os.WriteFile(token, []byte("tok_cli\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runReportCLI(ctx, e.env, "report", "--config", e.config, "--period", "2026-11")
	t.Logf("report after fixing the token: exit %d\n%s%s", code, out, stderr)
	if strings.Contains(out, "unchanged") {
		t.Errorf("a parked month is called unchanged:\n%s", out)
	}
	args := advisedCommand(out + stderr)
	if code == 0 || args == nil {
		t.Fatalf("report must exit non-zero and name the command that delivers the parked month; exit %d:\n%s%s", code, out, stderr)
	}
	code, out, stderr = runReportCLI(ctx, e.env, args...)
	if code != 0 {
		t.Fatalf("calctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
	}
	if total, ok := billedTotal(t, e.rcv, "dep_cli:2026-11"); !ok || total != 602 {
		t.Fatalf("after following the advice billing holds %d (present %v), want 602", total, ok)
	}
	if r := e.rcv.Billed()["dep_cli:2026-11"]; !strings.Contains(string(r.Body), `"total_cents":19410`) {
		t.Fatalf("billed body: %s", r.Body)
	}
	code, out, _ = runReportCLI(ctx, e.env, "report", "status", "--config", e.config)
	if code != 0 || !regexp.MustCompile(`2026-11 +1 +acked +final +602 +19410 +\d+ +r1 602 +r1 602 final`).MatchString(out) {
		t.Fatalf("status after delivery (latest, accepted, billing holds): exit %d\n%s", code, out)
	}
	t.Logf("report status:\n%s", out)
}

// TestReportStatesFallback: where an incremental count cannot be proven
// exact (here a sequence with CACHE 20) the report's JSON and the log say
// that the month was counted in full, and why.
func TestReportStatesFallback(t *testing.T) {
	e := newReportEnv(t, "")
	ctx := context.Background()
	e.db.PG.Exec(t, "calendso", `ALTER SEQUENCE "Booking_id_seq" CACHE 20`)
	e.db.Book(t, time.Now().UTC().Add(-time.Hour))
	cur := reporter.PeriodOf(time.Now())
	code, out, stderr := runReportCLI(ctx, e.env, "report", "--config", e.config, "--period", cur.String(), "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	var lines []reportJSONLine
	if err := json.Unmarshal([]byte(out), &lines); err != nil || len(lines) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	c := lines[0].Counting
	if c == nil || c.Method != "full" || !strings.Contains(c.Fallback, "CACHE 20") {
		t.Fatalf("counting: %+v", c)
	}
	code, out, _ = runReportCLI(ctx, e.env, "report", "status", "--config", e.config, "--offline")
	if code != 0 || !strings.Contains(out, "full: sequence") {
		t.Fatalf("status does not show the full count: exit %d\n%s", code, out)
	}
}

// TestReportStateLoss is finding 2: with a new or lost state_dir (a restored
// disk, a cloned host) revisions restarted at 1, the endpoint answered 409
// and calctl recorded "acked" while billing kept the old numbers. Billing
// must end with the database's numbers for every period, and no key may be
// acknowledged by calctl for a body billing does not hold under it.
func TestReportStateLoss(t *testing.T) {
	for _, tt := range []struct {
		name   string
		lookup receiver.Lookup
	}{{"with the resync GET", receiver.LookupOn}, {"endpoint without the GET", receiver.LookupNotAllowed}} {
		t.Run(tt.name, func(t *testing.T) {
			e := newReportEnv(t, "live_since: 2026-09-01\n")
			e.rcv.Lookup = tt.lookup
			ctx := context.Background()
			sep, oct, nov := reporter.Period{Year: 2026, Month: 9}, reporter.Period{Year: 2026, Month: 10}, reporter.Period{Year: 2026, Month: 11}
			cur := reporter.PeriodOf(time.Now())
			e.db.InsertMany(t, 40, sep.Start(), sep.End())
			e.db.InsertMany(t, 601, nov.Start(), nov.End())
			e.db.InsertMany(t, 17, cur.Start(), cur.Start().Add(time.Hour))
			report := func(state string) {
				t.Helper()
				code, out, stderr := runReportCLI(ctx, e.env, "report", "--config", e.config, "--state-dir", state)
				if code != 0 {
					t.Fatalf("report (state %s): exit %d\n%s%s", filepath.Base(state), code, out, stderr)
				}
			}
			stateA := filepath.Join(e.dir, "state")
			report(stateA)

			// The database moves on: a booking of November is deleted (the
			// month is recounted in full by a state-less agent), December
			// grows; then state is lost (a fresh state_dir) ...
			if _, err := e.db.Conn.Exec(ctx, `DELETE FROM "Booking" WHERE id = (SELECT min(id) FROM "Booking" WHERE "createdAt" >= $1::timestamp)`, nov.Start().Format("2006-01-02")); err != nil {
				t.Fatal(err)
			}
			e.db.InsertMany(t, 3, cur.Start().Add(time.Hour), cur.Start().Add(2*time.Hour))
			if err := os.RemoveAll(stateA); err != nil {
				t.Fatal(err)
			}
			report(stateA)
			// ... and a cloned host (a copy of that state dir) reports too,
			// alternating with the original, the database still moving.
			stateB := filepath.Join(e.dir, "clone")
			if out, err := exec.Command("cp", "-a", stateA, stateB).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
			e.db.InsertMany(t, 5, cur.Start().Add(2*time.Hour), cur.Start().Add(3*time.Hour))
			report(stateB)
			e.db.InsertMany(t, 2, cur.Start().Add(3*time.Hour), cur.Start().Add(4*time.Hour))
			report(stateA)
			report(stateB)

			billed := e.rcv.Billed()
			for _, p := range []reporter.Period{sep, oct, nov, cur} {
				want := e.db.Count(t, p.Start(), p.End())
				got, ok := billed["dep_cli:"+p.String()]
				if !ok || got.Total != want {
					t.Errorf("%s: billing holds %d (revision %d, present %v), the database %d", p, got.Total, got.Revision, ok, want)
				}
				if p != cur && !got.Final {
					t.Errorf("%s: billed revision %d is not final", p, got.Revision)
				}
			}
			// Every report calctl calls acked is, byte for byte, what billing
			// accepted under that key.
			accepted := map[string]string{}
			for _, r := range e.rcv.Accepted() {
				accepted[r.Key] = string(r.Body)
			}
			for _, dir := range []string{stateA, stateB} {
				entries, _, err := (&outbox.Store{Dir: outbox.Dir(dir)}).Load()
				if err != nil {
					t.Fatal(err)
				}
				for _, en := range entries {
					if en.State == outbox.StateAcked && accepted[en.Key] != en.Body {
						t.Errorf("%s: %s is acked locally but billing holds another body under that key", filepath.Base(dir), en.Key)
					}
				}
			}
			if oo := e.rcv.OutOfOrder(); len(oo) > 0 {
				t.Errorf("stale revisions accepted after newer ones: %v", oo)
			}
			if inv := e.rcv.Invalid(); len(inv) > 0 {
				t.Errorf("receiver saw invalid requests: %v", inv)
			}
			t.Logf("%d accepted, %d answered 409, %d answered 422 (key reused), %d lookups", len(e.rcv.Accepted()), e.rcv.Duplicates(), e.rcv.Reused(), e.rcv.Lookups())
		})
	}
}
