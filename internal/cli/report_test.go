package cli

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/testenv"
	"github.com/calctl/calctl/reporter"
	"github.com/calctl/calctl/reporter/fixture"
	"github.com/calctl/calctl/reporter/receiver"
)

type reportEnv struct {
	db     *fixture.DB
	rcv    *receiver.Receiver
	dir    string
	config string
	env    map[string]string
}

func runReportCLI(ctx context.Context, env map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	f := &Factory{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb}, Getenv: func(k string) string { return env[k] }}
	code := Run(ctx, f, args)
	return code, out.String(), errb.String()
}

// newReportEnv starts a Cal.com-shaped database and a billing receiver and
// writes a 0600 agent config pointing at both.
func newReportEnv(t *testing.T, extra string) *reportEnv {
	t.Helper()
	db := fixture.Start(t, testenv.PostgresOptions{})
	rcv := receiver.Start("tok_cli", "whsec_cli")
	t.Cleanup(rcv.Close)
	dir := t.TempDir()
	ca, err := rcv.WriteCAFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "token"), []byte("tok_cli\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "signing"), []byte("whsec_cli\n"), 0o600)
	cfg := fmt.Sprintf(`deployment_id: dep_cli
endpoint: %s
token_file: %s/token
signing_secret_file: %s/signing
state_dir: %s/state
live_since: 2026-01-01
grace: 0s
ca_file: %s
%s`, rcv.URL(), dir, dir, dir, ca, extra)
	if strings.Contains(extra, "live_since:") {
		cfg = strings.Replace(cfg, "live_since: 2026-01-01\n", "", 1)
	}
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &reportEnv{db: db, rcv: rcv, dir: dir, config: path, env: map[string]string{"DATABASE_URL": db.URL}}
}

func TestReportCommand(t *testing.T) {
	e := newReportEnv(t, "")
	ctx := context.Background()
	mar := reporter.Period{Year: 2026, Month: 3}
	e.db.InsertMany(t, 1234, mar.Start(), mar.End())
	uid := e.db.Book(t, time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC))
	e.db.Cancel(t, e.db.Reschedule(t, uid, time.Date(2026, 4, 3, 9, 0, 0, 0, time.UTC)))

	t.Run("dry run golden", func(t *testing.T) {
		code, out, stderr := runReportCLI(ctx, e.env, "report", "--config", e.config, "--dry-run", "--period", "2026-03")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		testenv.Golden(t, filepath.Join("testdata", "report-dry-run.golden"), []byte(out))
		if _, err := os.Stat(filepath.Join(e.dir, "state")); err == nil {
			t.Fatal("dry run created the state dir")
		}
	})

	t.Run("export then send converge on one key", func(t *testing.T) {
		exp := filepath.Join(e.dir, "usage.json")
		code, _, stderr := runReportCLI(ctx, e.env, "report", "--config", e.config, "--period", "2026-04", "--export", exp)
		if code != 0 || e.rcv.Attempts() != 0 {
			t.Fatalf("export: exit %d, %d requests: %s", code, e.rcv.Attempts(), stderr)
		}
		var doc struct {
			Reports []struct {
				IdempotencyKey string            `json:"idempotency_key"`
				Headers        map[string]string `json:"headers"`
				Body           string            `json:"body"`
			} `json:"reports"`
		}
		b, _ := os.ReadFile(exp)
		if err := json.Unmarshal(b, &doc); err != nil || len(doc.Reports) != 1 {
			t.Fatalf("export file: %v\n%s", err, b)
		}
		r := doc.Reports[0]
		ts, v1, _ := strings.Cut(strings.TrimPrefix(r.Headers["X-Calctl-Signature"], "t="), ",v1=")
		mac := hmac.New(sha256.New, []byte("whsec_cli"))
		mac.Write([]byte(ts + "." + r.Body))
		if hex.EncodeToString(mac.Sum(nil)) != v1 || r.IdempotencyKey != "dep_cli:2026-04:1" || r.Headers["Idempotency-Key"] != r.IdempotencyKey {
			t.Fatalf("export signature or key wrong: %+v", r)
		}
		if strings.Contains(string(b), "tok_cli") {
			t.Fatal("export contains the token")
		}
		if !strings.Contains(r.Body, `"total":2`) || !strings.Contains(r.Body, `"reschedules":1`) {
			t.Fatalf("body: %s", r.Body)
		}
		code, _, stderr = runReportCLI(ctx, e.env, "report", "--config", e.config, "--period", "2026-04")
		acc := e.rcv.Accepted()
		if code != 0 || len(acc) != 1 || acc[0].Key != r.IdempotencyKey || string(acc[0].Body) != r.Body {
			t.Fatalf("online send after export: exit %d, accepted %d: %s", code, len(acc), stderr)
		}
		// report --wait says what it waits for (issue 14)
		if !strings.Contains(stderr, "delivering 1 report(s) to "+e.rcv.URL()) || !strings.Contains(stderr, "waiting up to 1m0s (--wait)") {
			t.Errorf("report does not say what it waits for:\n%s", stderr)
		}
	})

	t.Run("report sends every due month, status shows acked", func(t *testing.T) {
		code, out, stderr := runReportCLI(ctx, e.env, "report", "--config", e.config, "-o", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var lines []reportJSONLine
		if err := json.Unmarshal([]byte(out), &lines); err != nil {
			t.Fatal(err)
		}
		cur := reporter.PeriodOf(time.Now())
		want := 0
		for p := (reporter.Period{Year: 2026, Month: 1}); !cur.Before(p); p = p.Next() {
			want++
		}
		if len(lines) != want-1 { // 2026-04 already has its final
			t.Fatalf("%d periods reported, want %d", len(lines), want-1)
		}
		for _, l := range lines {
			if l.State != "acked" {
				t.Errorf("%s: state %q", l.Key, l.State)
			}
		}
		code, out, _ = runReportCLI(ctx, e.env, "report", "status", "--config", e.config)
		if code != 0 || !strings.Contains(out, "2026-03  1    acked  final        1234      22570") {
			t.Fatalf("status exit %d:\n%s", code, out)
		}
		if len(e.rcv.Invalid()) != 0 {
			t.Fatalf("receiver saw invalid requests: %v", e.rcv.Invalid())
		}
	})

	t.Run("401 parks; report and status exit non-zero", func(t *testing.T) {
		e.rcv.Set(nil, 401)
		e.db.Book(t, time.Now().UTC().Add(-time.Minute))
		code, _, stderr := runReportCLI(ctx, e.env, "report", "--config", e.config)
		if code != ExitFailure || !strings.Contains(stderr, "parked") {
			t.Fatalf("report: exit %d: %s", code, stderr)
		}
		code, out, _ := runReportCLI(ctx, e.env, "report", "status", "--config", e.config)
		if code != ExitFailure || !strings.Contains(out, "parked") || !strings.Contains(out, "401 Unauthorized") {
			t.Fatalf("status: exit %d:\n%s", code, out)
		}
		t.Logf("report status:\n%s", out)
		code, out, _ = runReportCLI(ctx, e.env, "report", "status", "--config", e.config, "-o", "json")
		if code != ExitFailure || !strings.Contains(out, `"parked": 1`) {
			t.Fatalf("status json: exit %d:\n%s", code, out)
		}
	})
}
