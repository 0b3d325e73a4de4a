package reporter_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/testenv"
	"github.com/calctl/calctl/reporter"
	"github.com/calctl/calctl/reporter/fixture"
	"github.com/jackc/pgx/v5"
)

func month(s string) reporter.Period {
	p, err := reporter.ParsePeriod(s)
	if err != nil {
		panic(err)
	}
	return p
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.000", s)
	if err != nil {
		panic(err)
	}
	return t
}

func counter(t *testing.T, url string) *reporter.Counter {
	t.Helper()
	conn, err := reporter.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return &reporter.Counter{Conn: conn, SettleWait: 300 * time.Millisecond}
}

func countFull(t *testing.T, c *reporter.Counter, p reporter.Period) reporter.Result {
	t.Helper()
	r, err := c.Count(context.Background(), p, reporter.Watermark{})
	if err != nil {
		t.Fatalf("Count(%s): %v", p, err)
	}
	return r
}

// TestCountScenarios runs the counting scenarios against a real
// Postgres 15 cluster with a Cal.com-shaped "Booking" table.
func TestCountScenarios(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	ctx := context.Background()

	t.Run("book reschedule cancel is 2", func(t *testing.T) {
		db := fixture.New(t, pg, "brc")
		uid := db.Book(t, at("2026-10-05 09:00:00.000"))
		nuid := db.Reschedule(t, uid, at("2026-10-06 10:00:00.000"))
		db.Cancel(t, nuid)
		r := countFull(t, counter(t, db.URL), month("2026-10"))
		if r.Counts.Total != 2 || r.Counts.ByStatus["cancelled"] != 2 || r.Counts.ByStatus["accepted"] != 0 || r.Counts.Reschedules != 1 {
			t.Fatalf("counts = %+v, want total 2 (both cancelled), 1 reschedule", r.Counts)
		}
	})

	t.Run("month edges", func(t *testing.T) {
		db := fixture.New(t, pg, "edges")
		db.Book(t, at("2026-09-30 23:59:59.999"))
		db.Book(t, at("2026-10-01 00:00:00.000"))
		db.Book(t, at("2026-10-31 23:59:59.999"))
		db.Book(t, at("2026-11-01 00:00:00.000"))
		db.Book(t, at("2026-11-01 00:00:00.001"))
		c := counter(t, db.URL)
		for _, tt := range []struct {
			p    string
			want int64
		}{{"2026-09", 1}, {"2026-10", 2}, {"2026-11", 2}, {"2026-12", 0}} {
			if got := countFull(t, c, month(tt.p)).Counts.Total; got != tt.want {
				t.Errorf("%s: total %d, want %d", tt.p, got, tt.want)
			}
		}
	})

	t.Run("1234 bookings cost 22570 cents", func(t *testing.T) {
		db := fixture.New(t, pg, "big")
		db.InsertMany(t, 1234, at("2026-10-01 00:00:00.000"), at("2026-11-01 00:00:00.000"))
		db.InsertMany(t, 77, at("2026-11-01 00:00:00.000"), at("2026-11-02 00:00:00.000"))
		r := countFull(t, counter(t, db.URL), month("2026-10"))
		if r.Counts.Total != 1234 {
			t.Fatalf("total %d, want 1234", r.Counts.Total)
		}
		var sum int64
		for _, n := range r.Counts.ByStatus {
			sum += n
		}
		if sum != 1234 || r.Counts.Reschedules != 124 {
			t.Fatalf("by_status sums to %d, reschedules %d; want 1234, 124", sum, r.Counts.Reschedules)
		}
		if e := reporter.EstimateFor(r.Counts.Total, true); e.TotalCents != 22570 {
			t.Fatalf("estimate %d, want 22570", e.TotalCents)
		}
	})

	t.Run("a month with none costs 18900", func(t *testing.T) {
		db := fixture.New(t, pg, "none")
		db.Book(t, at("2026-09-10 12:00:00.000"))
		r := countFull(t, counter(t, db.URL), month("2026-10"))
		if r.Counts.Total != 0 || len(r.Counts.ByStatus) != 5 {
			t.Fatalf("counts = %+v, want 0 with all five statuses", r.Counts)
		}
		if e := reporter.EstimateFor(0, true); e.TotalCents != 18900 {
			t.Fatalf("estimate %d", e.TotalCents)
		}
	})

	t.Run("before live_since is not live and costs 0", func(t *testing.T) {
		db := fixture.New(t, pg, "prelive")
		db.InsertMany(t, 600, at("2026-09-01 00:00:00.000"), at("2026-10-01 00:00:00.000"))
		r := countFull(t, counter(t, db.URL), month("2026-09"))
		since := at("2026-10-01 00:00:00.000")
		live := reporter.IsLive(month("2026-09"), since)
		rep := reporter.NewReport("dep_1", 1, reporter.Snapshot{Period: month("2026-09"), Counts: r.Counts, Live: live, GeneratedAt: r.At}, reporter.AgentInfo{})
		if rep.Live || rep.Estimate.TotalCents != 0 || rep.Bookings.Total != 600 {
			t.Fatalf("report live=%v total_cents=%d bookings=%d, want false/0/600", rep.Live, rep.Estimate.TotalCents, rep.Bookings.Total)
		}
	})

	t.Run("not a Cal.com database is refused", func(t *testing.T) {
		pg.Exec(t, "", `CREATE DATABASE other`)
		pg.Exec(t, "other", `CREATE TABLE "Booking" (id serial primary key, "when" timestamp)`)
		for _, tt := range []struct{ db, want string }{
			{"postgres", `has no table "Booking"`},
			{"other", `lacks column(s) "createdAt", "status", "fromReschedule"`},
		} {
			c := counter(t, pg.URL("postgres", "", tt.db, ""))
			_, err := c.Count(ctx, month("2026-10"), reporter.Watermark{})
			if !errors.Is(err, reporter.ErrNotCalcom) || !contains(err.Error(), tt.want) {
				t.Errorf("%s: err = %v, want ErrNotCalcom mentioning %q", tt.db, err, tt.want)
			}
		}
	})

	t.Run("read-only role and prisma URL parameters", func(t *testing.T) {
		db := fixture.New(t, pg, "ro")
		db.Book(t, at("2026-10-05 09:00:00.000"))
		pg.Exec(t, "ro", `CREATE ROLE reader LOGIN`, `GRANT SELECT ON "Booking" TO reader`)
		c := counter(t, pg.URL("reader", "", "ro", "sslmode=disable&schema=public&connection_limit=5"))
		if got := countFull(t, c, month("2026-10")).Counts.Total; got != 1 {
			t.Fatalf("total %d, want 1", got)
		}
	})

	t.Run("incremental reads only new rows", func(t *testing.T) {
		db := fixture.New(t, pg, "incr")
		db.InsertMany(t, 5000, at("2026-10-01 00:00:00.000"), at("2026-10-20 00:00:00.000"))
		c := counter(t, db.URL)
		r1 := countFull(t, c, month("2026-10"))
		if !r1.Full || !r1.Settled || r1.Watermark.ID == 0 {
			t.Fatalf("first count: %+v", r1)
		}
		db.InsertMany(t, 100, at("2026-10-20 00:00:00.000"), at("2026-10-21 00:00:00.000"))
		db.InsertMany(t, 30, at("2026-11-01 00:00:00.000"), at("2026-11-02 00:00:00.000"))
		r2, err := c.Count(ctx, month("2026-10"), r1.Watermark)
		if err != nil {
			t.Fatal(err)
		}
		if r2.Full || r2.Scanned != 100 || r2.Counts.Total != 5100 || !r2.Counts.Equal(countFull(t, c, month("2026-10")).Counts) {
			t.Fatalf("incremental: full=%v scanned=%d total=%d, want false/100/5100 equal to a full count", r2.Full, r2.Scanned, r2.Counts.Total)
		}
	})
}

// TestCountLateCommit is the case a naive "id > last max(id)" watermark
// gets wrong: a transaction takes an id, a later id commits first, and the
// earlier one commits after the count. The row must still be counted.
func TestCountLateCommit(t *testing.T) {
	db := fixture.Start(t, testenv.PostgresOptions{})
	ctx := context.Background()
	db.Book(t, at("2026-10-01 08:00:00.000"))
	c := counter(t, db.URL)
	c.SettleWait = 200 * time.Millisecond
	wm := countFull(t, c, month("2026-10")).Watermark

	slow, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close(ctx)
	tx, err := slow.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var slowID int64
	if err := tx.QueryRow(ctx, `INSERT INTO "Booking" (uid, title, "startTime", "endTime", "createdAt") VALUES ('slow','t',now(),now(),'2026-10-02 08:00:00') RETURNING id`).Scan(&slowID); err != nil {
		t.Fatal(err)
	}
	db.Book(t, at("2026-10-03 08:00:00.000")) // a higher id, committed first

	r, err := c.Count(ctx, month("2026-10"), wm)
	if err != nil {
		t.Fatal(err)
	}
	if r.Counts.Total != 2 {
		t.Fatalf("total %d while the slow transaction is open, want 2", r.Counts.Total)
	}
	if r.Watermark.ID >= slowID {
		t.Fatalf("watermark advanced to %d past the uncommitted id %d", r.Watermark.ID, slowID)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r2, err := c.Count(ctx, month("2026-10"), r.Watermark)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Counts.Total != 3 || !r2.Settled {
		t.Fatalf("after the late commit: total %d settled %v, want 3 and a settled watermark", r2.Counts.Total, r2.Settled)
	}
}

// TestCountConcurrentInserts counts incrementally, carrying the watermark,
// while writers insert in transactions of random length; every count must
// be between the committed counts before and after it, and the last one,
// after the writers stop, must equal a plain count(*).
func TestCountConcurrentInserts(t *testing.T) {
	db := fixture.Start(t, testenv.PostgresOptions{})
	ctx := context.Background()
	c := counter(t, db.URL)
	c.SettleWait = 30 * time.Millisecond
	p := month("2026-10")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			conn, err := pgx.Connect(ctx, db.URL)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close(ctx)
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
					for k := 0; k < 1+rng.Intn(3); k++ {
						day := 1 + rng.Intn(40) // some rows fall in November
						if _, err := tx.Exec(ctx, `INSERT INTO "Booking" (uid, title, "startTime", "endTime", "createdAt") VALUES ($1,'t',now(),now(), '2026-10-01'::timestamp + ($2 || ' days')::interval)`,
							fmt.Sprintf("w%d-%d-%d", w, i, k), fmt.Sprint(day-1)); err != nil {
							return err
						}
						time.Sleep(time.Duration(rng.Intn(15)) * time.Millisecond)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wm := reporter.Watermark{}
	var last int64
	for i := 0; i < 25; i++ {
		before := db.Count(t, p.Start(), p.End())
		r, err := c.Count(ctx, p, wm)
		if err != nil {
			t.Fatal(err)
		}
		after := db.Count(t, p.Start(), p.End())
		if r.Counts.Total < before || r.Counts.Total > after || r.Counts.Total < last {
			t.Fatalf("count %d: %d, want within [%d, %d] and >= previous %d", i, r.Counts.Total, before, after, last)
		}
		last, wm = r.Counts.Total, r.Watermark
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	r, err := c.Count(ctx, p, wm)
	if err != nil {
		t.Fatal(err)
	}
	if want := db.Count(t, p.Start(), p.End()); r.Counts.Total != want || want == 0 {
		t.Fatalf("final incremental count %d, plain count(*) %d", r.Counts.Total, want)
	}
	t.Logf("final count %d, watermark %d", r.Counts.Total, r.Watermark.ID)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
