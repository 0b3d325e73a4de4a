package agent_test

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/testenv"
	"github.com/calctl/calctl/reporter"
	"github.com/calctl/calctl/reporter/fixture"
	"github.com/calctl/calctl/reporter/outbox"
	"github.com/calctl/calctl/reporter/receiver"
)

// TestCrashKill9 builds calctl, runs `calctl agent` against a real Postgres
// and a real HTTPS receiver, and SIGKILLs it at random moments (during
// counting, enqueueing, sending and backoff; the receiver pauses after
// accepting a report and before answering, so many kills land between
// "accepted" and "acked on disk", and it fails some attempts with 503 or a
// connection reset). After the last restart every period must have arrived,
// every outbox entry must be acked, and the receiver must hold exactly one
// accepted report per Idempotency-Key, with no key ever resent with a
// different body.
func TestCrashKill9(t *testing.T) {
	testenv.Slow(t, "it builds calctl and kills it 30 times")
	bin := testenv.BuildStaticBinary(t, "github.com/calctl/calctl/cmd/calctl", t.TempDir(), "calctl")
	db := fixture.Start(t, testenv.PostgresOptions{})
	cur := reporter.PeriodOf(time.Now())
	first := cur.Prev().Prev().Prev()
	for p := first; p.Before(cur); p = p.Next() {
		db.InsertMany(t, 200+p.Start().Day()*7+int(p.Month), p.Start(), p.End())
	}
	db.InsertMany(t, 50, cur.Start(), cur.Start().Add(time.Hour))

	rcv := receiver.Start("tok_crash", "whsec_crash")
	rcv.AckDelay = 150 * time.Millisecond
	// Some attempts also fail on the way (503, connection reset), so that
	// retry state is persisted and killed mid-backoff too.
	var faults []receiver.Fault
	for i := 1; i <= 60; i++ {
		switch {
		case i%7 == 0:
			faults = append(faults, receiver.Unavailable)
		case i%11 == 0:
			faults = append(faults, receiver.Reset)
		default:
			faults = append(faults, receiver.None)
		}
	}
	rcv.Set(faults, 0)
	defer rcv.Close()
	dir := t.TempDir()
	ca, _ := rcv.WriteCAFile(dir)
	os.WriteFile(filepath.Join(dir, "token"), []byte("tok_crash"), 0o600)
	os.WriteFile(filepath.Join(dir, "signing"), []byte("whsec_crash"), 0o600)
	state := filepath.Join(dir, "state")
	cfg := filepath.Join(dir, "agent.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`deployment_id: dep_crash
endpoint: %s
token_file: %s/token
signing_secret_file: %s/signing
state_dir: %s
live_since: %s
interval: 1s
grace: 0s
ca_file: %s
`, rcv.URL(), dir, dir, state, first.Start().Format("2006-01-02"), ca)), 0o600)

	start := func(logName string) (*exec.Cmd, *os.File) {
		lf, err := os.Create(filepath.Join(dir, logName))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "agent", "--config", cfg, "--log-format", "json")
		cmd.Env = []string{"DATABASE_URL=" + db.URL, "PATH=/usr/bin:/bin"}
		cmd.Stdout, cmd.Stderr = lf, lf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, lf
	}

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	t.Logf("seed-free random kills; logs in %s", dir)
	kills := 30
	for i := 0; i < kills; i++ {
		if i%4 == 1 {
			db.Book(t, time.Now().UTC().Add(-time.Second)) // a new provisional revision to send
		}
		cmd, lf := start(fmt.Sprintf("agent-%02d.log", i))
		time.Sleep(time.Duration(20+rng.Intn(700)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		lf.Close()
	}

	// Final run: let it finish, then stop it with SIGTERM.
	cmd, lf := start("agent-final.log")
	defer lf.Close()
	want := db.Count(t, cur.Start(), cur.End())
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, _ := os.ReadFile(filepath.Join(dir, "agent-final.log")); !strings.Contains(string(b), `"agent started"`) {
			// Its signal handler is not installed yet.
			time.Sleep(20 * time.Millisecond)
			continue
		}
		sum, err := outbox.Summarize(state)
		if err != nil {
			t.Fatal(err)
		}
		done := sum.Pending == 0 && sum.Parked == 0 && len(sum.Periods) == 4
		if done {
			last := sum.Periods[len(sum.Periods)-1]
			done = last.Period == cur.String() && last.Total == want
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			log, _ := os.ReadFile(filepath.Join(dir, "agent-final.log"))
			t.Fatalf("not everything delivered: %+v\n%s", sum, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopAt := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("agent exit after SIGTERM: %v", err)
	}
	t.Logf("stopped %v after SIGTERM", time.Since(stopAt).Round(time.Millisecond))

	if inv := rcv.Invalid(); len(inv) != 0 {
		t.Fatalf("receiver saw contract violations: %v", inv)
	}
	entries, problems, err := (&outbox.Store{Dir: outbox.Dir(state)}).Load()
	if err != nil || len(problems) != 0 {
		t.Fatalf("outbox: %v %v", err, problems)
	}
	accepted := map[string]receiver.Report{}
	for _, r := range rcv.Accepted() {
		if _, dup := accepted[r.Key]; dup {
			t.Fatalf("key %s accepted twice", r.Key)
		}
		accepted[r.Key] = r
	}
	for _, e := range entries {
		if e.State != outbox.StateAcked {
			t.Errorf("%s is %s", e.Key, e.State)
		}
		r, ok := accepted[e.Key]
		if !ok || string(r.Body) != e.Body {
			t.Errorf("%s: acked in the outbox but not received (or a different body)", e.Key)
		}
	}
	if len(accepted) != len(entries) {
		t.Errorf("receiver accepted %d keys, outbox holds %d", len(accepted), len(entries))
	}
	finals := map[string]bool{}
	for _, e := range entries {
		if e.Final {
			if finals[e.Period] {
				t.Errorf("two finals for %s", e.Period)
			}
			finals[e.Period] = true
		}
	}
	for p := first; p.Before(cur); p = p.Next() {
		if !finals[p.String()] {
			t.Errorf("no final for %s", p)
		}
	}
	var keys []string
	for k := range accepted {
		keys = append(keys, k)
	}
	t.Logf("%d kills; %d reports accepted once each, %d resends answered 409, %d attempts in all; keys: %s",
		kills, len(accepted), rcv.Duplicates(), rcv.Attempts(), strings.Join(keys, " "))
}
