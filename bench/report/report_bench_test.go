package report

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/testenv"
	"github.com/calctl/calctl/reporter"
	"github.com/calctl/calctl/reporter/fixture"
	"github.com/calctl/calctl/reporter/receiver"
	"github.com/jackc/pgx/v5"
)

func rows() int {
	if v, err := strconv.Atoi(os.Getenv("CALCTL_BENCH_ROWS")); err == nil && v > 0 {
		return v
	}
	return 10_000_000
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// target is one way of reaching the table: the role and server calctl
// counts through, and how 1,000 new bookings become visible to it.
type target struct {
	label string
	conn  *pgx.Conn
	// insert adds n bookings created in the last hour and waits until they
	// are visible through conn.
	insert func(n int)
}

// measure prints, for t, calctl's first full count of the current month
// against a plain count(*) with the same predicate on the same server
// (medians of 5 alternating runs after a warm-up), and calctl's count after
// 1,000 new rows (median of 5) against the same plain count(*).
func measure(b *testing.B, size int, t target, cur reporter.Period) {
	ctx := context.Background()
	c := &reporter.Counter{Conn: t.conn}
	plain := func() time.Duration {
		s := time.Now()
		var n int64
		if err := t.conn.QueryRow(ctx, `SELECT count(*) FROM "Booking" WHERE "createdAt" >= $1::timestamp AND "createdAt" < $2::timestamp`,
			fixture.TS(cur.Start()), fixture.TS(cur.End())).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return time.Since(s)
	}
	var wm reporter.Watermark
	var last reporter.Result
	full := func() time.Duration {
		s := time.Now()
		r, err := c.Count(ctx, cur, reporter.Watermark{})
		if err != nil {
			b.Fatal(err)
		}
		wm, last = r.Watermark, r
		return time.Since(s)
	}
	plain()
	full() // warm the cache for both
	var tp, tf []time.Duration
	for i := 0; i < 5; i++ {
		tp = append(tp, plain())
		tf = append(tf, full())
	}
	mp, mf := median(tp), median(tf)
	b.Logf("%s rows=%d month=%s: first full count %v, plain count(*) %v, ratio %.3f", t.label, size, cur, mf, mp, float64(mf)/float64(mp))

	var ti []time.Duration
	for i := 0; i < 5; i++ {
		t.insert(1000)
		s := time.Now()
		r, err := c.Count(ctx, cur, wm)
		if err != nil {
			b.Fatal(err)
		}
		ti = append(ti, time.Since(s))
		if r.Fallback == "" && r.Scanned != 1000 {
			b.Fatalf("%s: incremental read %d rows, want 1000", t.label, r.Scanned)
		}
		wm, last = r.Watermark, r
	}
	mi := median(ti)
	how := "incremental"
	if last.Fallback != "" {
		how = "full count (fallback: " + last.Fallback + ")"
	}
	b.Logf("%s rows=%d after 1,000 new rows: %s, median %v, ratio to plain count(*) %.3f (runs %v)", t.label, size, how, mi, float64(mi)/float64(mp), ti)
	b.ReportMetric(float64(mf)/float64(mp), fmt.Sprintf("ratio_first_%s@%d", t.label, size))
	b.ReportMetric(float64(mi)/float64(mp), fmt.Sprintf("ratio_after1000_%s@%d", t.label, size))
}

// BenchmarkUsageCount builds the table in two stages (10% then all of it)
// and at each size measures the first full count against a plain count(*)
// with the same predicate, and the count after 1,000 new rows, for the
// default role. At the full size it does the same for a SELECT-only role
// and on a streaming replica built with pg_basebackup, and last the idle
// RSS of a real `calctl agent`. Figures are printed with b.Logf and as
// custom metrics.
func BenchmarkUsageCount(b *testing.B) {
	ctx := context.Background()
	db := fixture.Start(b, testenv.PostgresOptions{Conf: []string{"max_wal_size = 8GB", "checkpoint_timeout = 30min"}})
	cur := reporter.PeriodOf(time.Now())
	from := cur.Start().AddDate(-2, 0, 0) // 24 months of history up to now
	to := time.Now().UTC().Add(-time.Hour)
	total := rows()
	conn, err := reporter.Connect(ctx, db.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	insertRecent := func(n int) {
		db.InsertMany(b, n, time.Now().UTC().Add(-30*time.Minute), time.Now().UTC().Add(-20*time.Minute))
	}
	inserted := 0
	for _, size := range []int{total / 10, total} {
		t0 := time.Now()
		// Insert in chunks so that each chunk is one transaction of sane size.
		for inserted < size {
			n := min(1_000_000, size-inserted)
			span := to.Sub(from)
			a := from.Add(span * time.Duration(inserted) / time.Duration(total))
			z := from.Add(span * time.Duration(inserted+n) / time.Duration(total))
			db.InsertMany(b, n, a, z)
			inserted += n
		}
		db.PG.Exec(b, "calendso", `VACUUM ANALYZE "Booking"`)
		b.Logf("rows=%d inserted in %v", size, time.Since(t0).Round(time.Second))
		measure(b, size, target{label: "default", conn: conn, insert: insertRecent}, cur)

		// psql \timing for the plain query, as the issue names psql.
		if out, err := exec.Command("psql", db.URL, "-X", "-q", "-c", `\timing on`, "-c",
			fmt.Sprintf(`SELECT count(*) FROM "Booking" WHERE "createdAt" >= '%s' AND "createdAt" < '%s'`, fixture.TS(cur.Start()), fixture.TS(cur.End()))).CombinedOutput(); err == nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			b.Logf("rows=%d psql: %s", size, lines[len(lines)-1])
		}
	}

	// A SELECT-only role (no pg_read_all_stats): calctl's least privilege.
	db.PG.Exec(b, "calendso", `CREATE ROLE reader LOGIN`, `GRANT SELECT ON "Booking" TO reader`)
	rconn, err := reporter.Connect(ctx, db.PG.URL("reader", "", "calendso", ""))
	if err != nil {
		b.Fatal(err)
	}
	defer rconn.Close(ctx)
	measure(b, total, target{label: "select-only", conn: rconn, insert: insertRecent}, cur)

	// A hot standby built with pg_basebackup from the primary.
	t0 := time.Now()
	sb := db.PG.StartStandby(b)
	b.Logf("standby built with pg_basebackup in %v", time.Since(t0).Round(time.Second))
	sconn, err := reporter.Connect(ctx, sb.URL(sb.SuperUser, sb.SuperPassword, "calendso", ""))
	if err != nil {
		b.Fatal(err)
	}
	defer sconn.Close(ctx)
	measure(b, total, target{label: "standby", conn: sconn, insert: func(n int) {
		insertRecent(n)
		sb.WaitReplay(b, db.PG, 5*time.Minute)
	}}, cur)

	// Idle RSS of the agent process (after its first cycle over this table),
	// the lean calctl and calctl-kubernetes side by side.
	agentIdle(b, db)
}

// BenchmarkAgentIdle is only the last part of BenchmarkUsageCount, on a
// table a tenth of its size (CALCTL_BENCH_ROWS/10, default 1,000,000
// rows; CALCTL_BENCH_ROWS=100000000 gives BenchmarkUsageCount's 10 M): the idle RSS of `calctl agent` after its first cycle, for the lean
// calctl and for calctl-kubernetes, both built as releases are
// (-trimpath -s -w, CGO_ENABLED=0).
func BenchmarkAgentIdle(b *testing.B) {
	db := fixture.Start(b, testenv.PostgresOptions{})
	cur := reporter.PeriodOf(time.Now())
	from, to := cur.Start().AddDate(-2, 0, 0), time.Now().UTC().Add(-time.Hour)
	n := rows() / 10
	for done := 0; done < n; done += 1_000_000 { // one transaction per million rows
		k := min(1_000_000, n-done)
		span := to.Sub(from)
		db.InsertMany(b, k, from.Add(span*time.Duration(done)/time.Duration(n)), from.Add(span*time.Duration(done+k)/time.Duration(n)))
	}
	db.PG.Exec(b, "calendso", `VACUUM ANALYZE "Booking"`)
	agentIdle(b, db)
}

// agentIdle starts a real `calctl agent` of each binary against db and its
// own test receiver, waits for its first accepted report and 5 s more,
// and logs its VmRSS, VmHWM, RssAnon and RssFile from /proc (metrics
// idle_rss_MB and idle_rss_MB_kubernetes).
func agentIdle(b *testing.B, db *fixture.DB) {
	bins := b.TempDir()
	for _, c := range []struct{ pkg, name, metric string }{
		{"github.com/calctl/calctl/cmd/calctl", "calctl", "idle_rss_MB"},
		{"github.com/calctl/calctl/cmd/calctl-kubernetes", "calctl-kubernetes", "idle_rss_MB_kubernetes"},
	} {
		bin := testenv.BuildStaticBinary(b, c.pkg, bins, c.name)
		st, err := os.Stat(bin)
		if err != nil {
			b.Fatal(err)
		}
		rcv := receiver.Start("tok", "sig")
		dir := b.TempDir()
		ca, _ := rcv.WriteCAFile(dir)
		cfg := filepath.Join(dir, "agent.yaml")
		os.WriteFile(cfg, []byte(fmt.Sprintf("deployment_id: dep_bench\nendpoint: %s\nstate_dir: %s/state\nca_file: %s\ninterval: 6h\n", rcv.URL(), dir, ca)), 0o600)
		cmd := exec.Command(bin, "agent", "--config", cfg)
		cmd.Env = []string{"DATABASE_URL=" + db.URL, "CALCTL_TOKEN=tok", "CALCTL_SIGNING_SECRET=sig"}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Minute)
		for len(rcv.Accepted()) == 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(5 * time.Second)
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		var fields []string
		for _, l := range strings.Split(string(status), "\n") {
			for _, k := range []string{"VmRSS:", "VmHWM:", "RssAnon:", "RssFile:"} {
				if strings.HasPrefix(l, k) {
					fields = append(fields, strings.Join(strings.Fields(l), " "))
				}
			}
			if strings.HasPrefix(l, "VmRSS:") {
				kb, _ := strconv.Atoi(strings.Fields(l)[1])
				b.ReportMetric(float64(kb)/1024, c.metric)
			}
		}
		b.Logf("agent idle, %s (binary %.1f MB): %s; %d report(s) delivered before idling", c.name, float64(st.Size())/1e6, strings.Join(fields, ", "), len(rcv.Accepted()))
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		rcv.Close()
	}
}
