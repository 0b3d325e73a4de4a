package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/calctl/calctl/reporter"
	"github.com/calctl/calctl/reporter/fixture"
	"github.com/calctl/calctl/reporter/outbox"
	"github.com/calctl/calctl/reporter/receiver"
	"github.com/calctl/calctl/reporter/sender"
)

type env struct {
	db       *fixture.DB
	rcv      *receiver.Receiver
	agent    *Agent
	cur, prv reporter.Period
}

func setup(t *testing.T, pg *testenv.Postgres, name string) *env {
	t.Helper()
	db := fixture.New(t, pg, name)
	rcv := receiver.Start("tok_1", "whsec_1")
	rcv.HangFor = 700 * time.Millisecond
	t.Cleanup(rcv.Close)
	ca, err := rcv.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	client, err := sender.NewClient(ca, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	cur := reporter.PeriodOf(time.Now())
	a := &Agent{
		DeploymentID: "dep_" + name, DatabaseURL: secret.Secret(db.URL), StateDir: t.TempDir(),
		LiveSince: cur.Prev().Start(), Grace: 0, Interval: time.Hour,
		Sender:  &sender.Sender{Endpoint: rcv.URL(), Token: "tok_1", SigningSecret: "whsec_1", UserAgent: "calctl/test", Client: client},
		Backoff: sender.Backoff{Base: 5 * time.Millisecond, Cap: 50 * time.Millisecond}, SettleWait: 100 * time.Millisecond,
		Hostname: "cal.example.com", Version: "test",
	}
	return &env{db: db, rcv: rcv, agent: a, cur: cur, prv: cur.Prev()}
}

func TestAgent(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	ctx := context.Background()

	t.Run("delivers through 503 timeout and reset exactly once", func(t *testing.T) {
		e := setup(t, pg, "flow")
		e.db.InsertMany(t, 1234, e.prv.Start(), e.prv.End())
		e.db.InsertMany(t, 10, e.cur.Start(), e.cur.Start().Add(time.Hour))
		e.rcv.Set([]receiver.Fault{receiver.Unavailable, receiver.Hang, receiver.Reset, receiver.Unavailable}, 0)
		res, err := e.agent.Count(ctx, CountOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || !res[0].Report.Final || res[0].Report.Bookings.Total != 1234 || res[0].Report.Estimate.TotalCents != 22570 ||
			res[1].Report.Final || res[1].Report.Bookings.Total != 10 {
			t.Fatalf("count results: %+v", res)
		}
		// Durable before the first send.
		if _, err := os.Stat(filepath.Join(outbox.Dir(e.agent.StateDir), outbox.FileName(e.prv.String(), 1))); err != nil {
			t.Fatal(err)
		}
		d, err := e.agent.DeliverUntil(ctx, 30*time.Second)
		if err != nil || d.Acked != 2 || d.Pending != 0 {
			t.Fatalf("delivery: %+v %v", d, err)
		}
		acc := e.rcv.Accepted()
		if len(acc) != 2 || e.rcv.Attempts() != 6 || len(e.rcv.Invalid()) != 0 {
			t.Fatalf("receiver: %d accepted, %d attempts, invalid %v", len(acc), e.rcv.Attempts(), e.rcv.Invalid())
		}
		for _, a := range acc {
			wantFinal := a.Key == "dep_flow:"+e.prv.String()+":1"
			if a.Doc["final"] != wantFinal || (!wantFinal && a.Key != "dep_flow:"+e.cur.String()+":1") {
				t.Fatalf("accepted %s final=%v", a.Key, a.Doc["final"])
			}
		}
		sum, _ := outbox.Summarize(e.agent.StateDir)
		if sum.Acked != 2 || sum.Pending != 0 || !strings.Contains(sum.Periods[0].Receipt, "rcpt_") {
			t.Fatalf("summary: %+v", sum)
		}

		// Nothing changed: no new revision. A new booking: revision 2.
		res, _ = e.agent.Count(ctx, CountOptions{})
		if len(res) != 1 || res[0].Period != e.cur || res[0].Action != Unchanged {
			t.Fatalf("second count (the final month is no longer due): %+v", res)
		}
		e.db.Book(t, e.cur.Start().Add(2*time.Hour))
		res, _ = e.agent.Count(ctx, CountOptions{})
		if res[0].Action != Enqueued || res[0].Report.Revision != 2 || res[0].Report.Bookings.Total != 11 || !res[0].Count.Settled || res[0].Count.Full {
			t.Fatalf("after a booking: %+v", res[0])
		}

		// A deleted row in the closed month: an explicit recount corrects.
		if _, err := e.db.Conn.Exec(ctx, `DELETE FROM "Booking" WHERE id = (SELECT min(id) FROM "Booking")`); err != nil {
			t.Fatal(err)
		}
		res, err = e.agent.Count(ctx, CountOptions{Periods: []reporter.Period{e.prv}})
		if err != nil || res[0].Action != Enqueued || !res[0].Report.Correction || !res[0].Report.Final || res[0].Report.Revision != 2 ||
			res[0].Report.Bookings.Total != 1233 || !strings.Contains(res[0].Report.Reason, "was 1234") {
			t.Fatalf("correction: %+v %v", res, err)
		}
		if _, err := e.agent.DeliverUntil(ctx, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if n := len(e.rcv.Accepted()); n != 4 {
			t.Fatalf("accepted %d, want 4", n)
		}
	})

	t.Run("401 parks and is not retried", func(t *testing.T) {
		e := setup(t, pg, "parked")
		e.rcv.Set(nil, 401)
		if _, err := e.agent.Count(ctx, CountOptions{}); err != nil {
			t.Fatal(err)
		}
		d, err := e.agent.DeliverUntil(ctx, 5*time.Second)
		if err != nil || d.Parked != 2 || d.Pending != 0 {
			t.Fatalf("delivery: %+v %v", d, err)
		}
		attempts := e.rcv.Attempts()
		if _, err := e.agent.Deliver(ctx); err != nil || e.rcv.Attempts() != attempts {
			t.Fatalf("parked entries were resent (%d → %d attempts)", attempts, e.rcv.Attempts())
		}
		sum, _ := outbox.Summarize(e.agent.StateDir)
		if sum.Parked != 2 || sum.Periods[0].LastStatus != 401 || !strings.Contains(sum.Periods[0].LastError, "401") {
			t.Fatalf("summary: %+v", sum)
		}
	})

	t.Run("grace keeps a closed month provisional; not live costs 0", func(t *testing.T) {
		e := setup(t, pg, "grace")
		e.agent.Grace = 24 * 366 * time.Hour
		e.agent.LiveSince = e.cur.Start()
		e.db.InsertMany(t, 700, e.prv.Start(), e.prv.End())
		res, err := e.agent.Count(ctx, CountOptions{Periods: []reporter.Period{e.prv}, DryRun: true})
		if err != nil || len(res) != 1 || res[0].Action != DryRun || res[0].Report.Final || res[0].Report.Live ||
			res[0].Report.Estimate.TotalCents != 0 || res[0].Report.Bookings.Total != 700 {
			t.Fatalf("dry run of a pre-live month: %+v %v", res, err)
		}
		if des, _ := os.ReadDir(e.agent.StateDir); len(des) != 0 {
			t.Fatalf("dry run wrote %d files", len(des))
		}
		if _, err := e.agent.Count(ctx, CountOptions{Periods: []reporter.Period{e.cur.Next()}}); err == nil || !strings.Contains(err.Error(), "has not started") {
			t.Fatalf("future period: %v", err)
		}
		res, _ = e.agent.Count(ctx, CountOptions{})
		if len(res) != 1 || res[0].Period != e.cur || res[0].Report.Estimate.TotalCents != 18900 {
			t.Fatalf("due periods with live_since this month: %+v", res)
		}
	})

	t.Run("Run stops within a second mid-send", func(t *testing.T) {
		e := setup(t, pg, "stop")
		e.rcv.HangFor = 20 * time.Second
		e.rcv.Set([]receiver.Fault{receiver.Hang}, 0)
		e.agent.Sender.Client.Timeout = 30 * time.Second
		e.agent.Interval = 50 * time.Millisecond
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- e.agent.Run(ctx) }()
		for e.rcv.Attempts() == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("stopped %v after cancel", time.Since(start))
		case <-time.After(time.Second):
			t.Fatal("agent did not stop within a second")
		}
		sum, _ := outbox.Summarize(e.agent.StateDir)
		if sum.Pending != 2 {
			t.Fatalf("after abandoning the send: %+v, want both still pending", sum)
		}
	})
}

func TestNextSlot(t *testing.T) {
	iv := 6 * time.Hour
	off := Offset("dep_123", iv)
	if off < 0 || off >= iv || off == Offset("dep_124", iv) {
		t.Fatalf("offsets: %v %v", off, Offset("dep_124", iv))
	}
	now := time.Date(2026, 10, 17, 4, 0, 0, 0, time.UTC)
	next := NextSlot(now, iv, off)
	if !next.After(now) || next.Sub(now) > iv || (next.UnixNano()-int64(off))%int64(iv) != 0 {
		t.Fatalf("NextSlot = %v", next)
	}
	if NextSlot(next, iv, off) != next.Add(iv) {
		t.Fatal("a slot's next slot is one interval later")
	}
}

// TestRunDatabaseDown: with the database unreachable the agent still
// delivers what is queued, and retries the count after CountRetry, not in
// a tight loop.
func TestRunDatabaseDown(t *testing.T) {
	rcv := receiver.Start("tok_1", "whsec_1")
	defer rcv.Close()
	ca, _ := rcv.WriteCAFile(t.TempDir())
	client, _ := sender.NewClient(ca, time.Second)
	port := testenv.FreePort(t)
	var logs syncBuf
	a := &Agent{
		DeploymentID: "dep_down", DatabaseURL: secret.Secret(fmt.Sprintf("postgres://u@127.0.0.1:%d/x?sslmode=disable", port)),
		StateDir: t.TempDir(), Interval: time.Hour, Grace: 0,
		Sender:  &sender.Sender{Endpoint: rcv.URL(), Token: "tok_1", SigningSecret: "whsec_1", UserAgent: "calctl/test", Client: client},
		Backoff: sender.Backoff{Base: time.Millisecond, Cap: 10 * time.Millisecond},
		Log:     slog.New(slog.NewJSONHandler(&logs, nil)),
	}
	// A report queued by an earlier run.
	box, _ := outbox.Open(a.StateDir)
	p := reporter.PeriodOf(time.Now())
	rep := reporter.NewReport("dep_down", 1, reporter.Snapshot{Period: p, Counts: reporter.NewCounts(), Live: true, GeneratedAt: time.Now()}, reporter.AgentInfo{})
	body, _ := rep.Marshal()
	if err := box.Put(outbox.Entry{Key: "dep_down:" + p.String() + ":1", DeploymentID: "dep_down", Period: p.String(), Revision: 1,
		State: outbox.StatePending, Body: string(body)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	if err := a.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rcv.Accepted()) != 1 {
		t.Fatalf("queued report not delivered while the database is down")
	}
	if n := strings.Count(logs.String(), `"counting failed"`); n != 1 {
		t.Fatalf("%d count attempts in 700ms; want 1 (the next one is CountRetry later)\n%s", n, logs.String())
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestStaleRevisionNeverAfterNewer is finding 6 of issue 10: revision 1 was
// backing off when revision 2 was enqueued; revision 2 was accepted, then
// revision 1's backoff ended and it was accepted after it, so a receiver
// keeping the latest received held the stale number.
func TestStaleRevisionNeverAfterNewer(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	ctx := context.Background()
	e := setup(t, pg, "stale")
	e.agent.LiveSince = e.cur.Start()
	e.db.Book(t, e.cur.Start().Add(time.Hour))
	e.rcv.RetryAfter = "1"
	e.rcv.Set([]receiver.Fault{receiver.Unavailable}, 0)
	if _, err := e.agent.Count(ctx, CountOptions{}); err != nil {
		t.Fatal(err)
	}
	if d, err := e.agent.Deliver(ctx); err != nil || d.Retrying != 1 {
		t.Fatalf("first delivery: %+v %v", d, err)
	}
	e.db.Book(t, e.cur.Start().Add(2*time.Hour))
	res, err := e.agent.Count(ctx, CountOptions{})
	if err != nil || res[0].Report.Revision != 2 {
		t.Fatalf("second count: %+v %v", res, err)
	}
	if _, err := e.agent.DeliverUntil(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past revision 1's Retry-After
	if _, err := e.agent.DeliverUntil(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if oo := e.rcv.OutOfOrder(); len(oo) > 0 {
		t.Fatalf("a stale revision was accepted after a newer one: %v", oo)
	}
	billed := e.rcv.Billed()["dep_stale:"+e.cur.String()]
	if billed.Revision != 2 || billed.Total != 2 {
		t.Fatalf("billed revision %d total %d, want revision 2 total 2", billed.Revision, billed.Total)
	}
	for _, a := range e.rcv.Accepted() {
		if a.Revision == 1 {
			t.Fatalf("revision 1 was sent after revision 2 was enqueued")
		}
	}
}

// parkedAgent is an agent whose outbox holds one parked report (refused
// with 401 when parkedWith was in effect) and whose last daily retry was
// lastDaily.
func parkedAgent(t *testing.T, rcv *receiver.Receiver, parkedWith func(*Agent) string, lastDaily time.Time) *Agent {
	t.Helper()
	ca, _ := rcv.WriteCAFile(t.TempDir())
	client, _ := sender.NewClient(ca, time.Second)
	a := &Agent{
		DeploymentID: "dep_park", DatabaseURL: "postgres://u@127.0.0.1:1/x?sslmode=disable", StateDir: t.TempDir(), Interval: time.Hour,
		Sender:  &sender.Sender{Endpoint: rcv.URL(), Token: "tok_1", SigningSecret: "whsec_1", UserAgent: "calctl/test", Client: client},
		Backoff: sender.Backoff{Base: time.Millisecond, Cap: 10 * time.Millisecond}, WatchInterval: 50 * time.Millisecond,
	}
	box, _ := outbox.Open(a.StateDir)
	p := reporter.PeriodOf(time.Now())
	rep := reporter.NewReport("dep_park", 1, reporter.Snapshot{Period: p, Counts: reporter.NewCounts(), Live: true, GeneratedAt: time.Now()}, reporter.AgentInfo{})
	body, _ := rep.Marshal()
	if err := box.Put(outbox.Entry{Key: "dep_park:" + p.String() + ":1", DeploymentID: "dep_park", Period: p.String(), Revision: 1,
		State: outbox.StateParked, LastStatus: 401, LastError: "401 Unauthorized", Body: string(body), ParkedWith: parkedWith(a)}); err != nil {
		t.Fatal(err)
	}
	// The last count was just now: Run only watches and delivers.
	if err := a.saveRunState(runState{LastCycle: time.Now(), LastParkedRetry: lastDaily}); err != nil {
		t.Fatal(err)
	}
	return a
}

// runAgent runs a.Run until stop is closed or the test ends.
func runAgent(t *testing.T, a *Agent) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitAccepted(t *testing.T, rcv *receiver.Receiver, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(rcv.Accepted()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d accepted after 10s, want %d", what, len(rcv.Accepted()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestParkedRetries: parked reports are retried when the credential files
// change (while the agent runs, or while it was stopped) and once a day,
// and not otherwise.
func TestParkedRetries(t *testing.T) {
	same := func(a *Agent) string { return a.fingerprint() }

	t.Run("token file changes while running", func(t *testing.T) {
		rcv := receiver.Start("tok_1", "whsec_1")
		defer rcv.Close()
		token := filepath.Join(t.TempDir(), "token")
		os.WriteFile(token, []byte("tok_1"), 0o600)
		var logs syncBuf
		a := parkedAgent(t, rcv, func(a *Agent) string {
			a.Credentials = &Credentials{Files: []string{token}, Load: func() (secret.Secret, secret.Secret, error) {
				b, err := os.ReadFile(token)
				return secret.Secret(strings.TrimSpace(string(b))), "whsec_1", err
			}}
			return a.fingerprint()
		}, time.Now().Add(-time.Hour))
		a.Log = slog.New(slog.NewJSONHandler(&logs, nil))
		stop := runAgent(t, a)
		for !strings.Contains(logs.String(), `"agent started"`) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(5 * a.WatchInterval) // several watch ticks with nothing changed
		if n := len(rcv.Accepted()); n != 0 {
			t.Fatalf("a parked report was resent with unchanged credentials within the day (%d accepted)", n)
		}
		later := time.Now().Add(2 * time.Second)
		os.Chtimes(token, later, later) // a rewrite of the file
		waitAccepted(t, rcv, 1, "after the token file changed")
		stop()
		if !strings.Contains(logs.String(), "credential files changed") {
			t.Fatalf("no log line about the change:\n%s", logs.String())
		}
	})

	for _, tt := range []struct {
		name       string
		parkedWith func(*Agent) string
		lastDaily  time.Time
	}{
		{"daily retry", same, time.Now().Add(-25 * time.Hour)},
		{"credentials changed while the agent was stopped", func(*Agent) string { return "credentials-before" }, time.Now()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rcv := receiver.Start("tok_1", "whsec_1")
			defer rcv.Close()
			a := parkedAgent(t, rcv, tt.parkedWith, tt.lastDaily)
			stop := runAgent(t, a)
			waitAccepted(t, rcv, 1, tt.name)
			stop()
			sum, _ := outbox.Summarize(a.StateDir)
			if sum.Parked != 0 || sum.Acked != 1 {
				t.Fatalf("after Run: %+v", sum)
			}
			if st := a.loadRunState(); tt.name == "daily retry" && time.Since(st.LastParkedRetry) > time.Minute {
				t.Fatalf("daily retry not recorded: %+v", st)
			}
		})
	}
}

func TestFixAdvice(t *testing.T) {
	c := Commands{Flags: "--config /etc/calctl/x.yaml", TokenSource: "/etc/calctl/token"}
	for _, tt := range []struct {
		ps   outbox.PeriodStatus
		want string
	}{
		{outbox.PeriodStatus{Period: "2026-11", State: outbox.StateParked, LastStatus: 401}, "/etc/calctl/token (and check signing_secret_file); a running agent retries within seconds of the change; or run: calctl report retry --period 2026-11 --config /etc/calctl/x.yaml"},
		{outbox.PeriodStatus{Period: "2026-11", State: outbox.StateParked, LastStatus: 404}, "check endpoint and deployment_id in the config, then run: calctl report retry --period 2026-11 --config /etc/calctl/x.yaml"},
		{outbox.PeriodStatus{Period: "2026-11", State: outbox.StateParked, LastStatus: 400}, "once the cause is fixed run: calctl report retry --period 2026-11 --config /etc/calctl/x.yaml"},
		{outbox.PeriodStatus{Period: "2026-11", State: outbox.StatePending}, "to send it now run: calctl report retry --period 2026-11 --config /etc/calctl/x.yaml"},
		{outbox.PeriodStatus{Period: "2026-11", State: outbox.StateAcked, Revision: 2, Total: 10,
			Billing: &outbox.BillingView{Found: true, LatestRevision: 3, Total: 12}}, "billing holds revision 3 with total 12, not this state dir's 10: run: calctl report --period 2026-11 --config /etc/calctl/x.yaml"},
		{outbox.PeriodStatus{Period: "2026-11", State: outbox.StateAcked, Revision: 3, Total: 12,
			Billing: &outbox.BillingView{Found: true, LatestRevision: 3, Total: 12}}, ""},
	} {
		got := c.Fix(tt.ps)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("Fix(%s %d) = %q, want it to contain %q", tt.ps.State, tt.ps.LastStatus, got, tt.want)
		}
	}
	if q := ShellQuote("/tmp/my dir/x.yaml"); q != "'/tmp/my dir/x.yaml'" {
		t.Fatalf("ShellQuote = %s", q)
	}
}

// TestExplicitRecountOfParkedFinal: a closed month whose final was refused
// (parked) and whose count changed since is not "unchanged" for
// `report --period`: the new count replaces the parked final, which is
// superseded, and once the credentials are right it is delivered.
func TestExplicitRecountOfParkedFinal(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	ctx := context.Background()
	e := setup(t, pg, "parkedfinal")
	e.db.InsertMany(t, 10, e.prv.Start(), e.prv.End())
	e.agent.Sender.Token = "tok_wrong"
	only := CountOptions{Periods: []reporter.Period{e.prv}}
	if _, err := e.agent.Count(ctx, only); err != nil {
		t.Fatal(err)
	}
	if d, err := e.agent.DeliverUntil(ctx, 5*time.Second); err != nil || d.Parked != 1 {
		t.Fatalf("first delivery: %+v %v", d, err)
	}
	res, err := e.agent.Count(ctx, only)
	if err != nil || res[0].Action != Parked {
		t.Fatalf("unchanged count of a parked final: %+v %v", res, err)
	}
	e.db.Book(t, e.prv.Start().Add(time.Hour))
	e.agent.Sender.Token = "tok_1"
	res, err = e.agent.Count(ctx, only)
	if err != nil || res[0].Action != Enqueued || !res[0].Report.Final || res[0].Report.Correction || res[0].Report.Revision != 2 || res[0].Report.Bookings.Total != 11 {
		t.Fatalf("changed count of a parked final: %+v %v", res, err)
	}
	if _, err := e.agent.DeliverUntil(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	billed := e.rcv.Billed()["dep_parkedfinal:"+e.prv.String()]
	sum, _ := outbox.Summarize(e.agent.StateDir)
	if billed.Revision != 2 || billed.Total != 11 || !billed.Final || sum.Parked != 0 || sum.Superseded != 1 {
		t.Fatalf("billed %+v; outbox %+v", billed, sum)
	}
}
