package reporter_test

import (
	"context"
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

// selectOnly creates the roles of a typical deployment in db: "app" (the
// Cal.com application, owner-like: inserts bookings) and "reader" (calctl's
// role: SELECT on "Booking" and nothing else, no pg_read_all_stats).
func selectOnly(t *testing.T, db *fixture.DB, name string) (appURL, readerURL string) {
	t.Helper()
	db.PG.Exec(t, name,
		`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') THEN CREATE ROLE app LOGIN; END IF;
		 IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN CREATE ROLE reader LOGIN; END IF; END $$`,
		`GRANT SELECT, INSERT, UPDATE ON "Booking" TO app`,
		`GRANT USAGE ON SEQUENCE "Booking_id_seq" TO app`,
		`GRANT SELECT ON "Booking" TO reader`)
	return db.PG.URL("app", "", name, ""), db.PG.URL("reader", "", name, "")
}

func insertAs(t *testing.T, ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, uid, createdAt string) int64 {
	t.Helper()
	var id int64
	if err := q.QueryRow(ctx, `INSERT INTO "Booking" (uid, title, "startTime", "endTime", "createdAt") VALUES ($1,'t',now(),now(),$2::timestamp) RETURNING id`,
		uid, createdAt).Scan(&id); err != nil {
		t.Fatalf("insert %s: %v", uid, err)
	}
	return id
}

// TestCountSelectOnlyRole is finding 3 of issue 10: for a role without
// pg_read_all_stats, pg_stat_activity.backend_type is NULL for other roles'
// sessions, and a filter on it dropped the application's open transactions,
// so the watermark passed ids that committed later (436 vs 460).
func TestCountSelectOnlyRole(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	ctx := context.Background()
	p := month("2026-10")

	t.Run("late commit", func(t *testing.T) {
		db := fixture.New(t, pg, "rolelate")
		appURL, readerURL := selectOnly(t, db, "rolelate")
		db.Book(t, at("2026-10-01 08:00:00.000"))
		c := counter(t, readerURL)
		c.SettleWait = 200 * time.Millisecond
		wm := countFull(t, c, p).Watermark

		slow, err := pgx.Connect(ctx, appURL)
		if err != nil {
			t.Fatal(err)
		}
		defer slow.Close(ctx)
		tx, err := slow.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slowID := insertAs(t, ctx, tx, "slow", "2026-10-02 08:00:00")
		fast, err := pgx.Connect(ctx, appURL)
		if err != nil {
			t.Fatal(err)
		}
		defer fast.Close(ctx)
		insertAs(t, ctx, fast, "fast", "2026-10-03 08:00:00") // a higher id, committed first

		r, err := c.Count(ctx, p, wm)
		if err != nil {
			t.Fatal(err)
		}
		if r.Watermark.ID >= slowID {
			t.Errorf("watermark advanced to %d past id %d of a transaction still open (SELECT-only role)", r.Watermark.ID, slowID)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		r2, err := c.Count(ctx, p, r.Watermark)
		if err != nil {
			t.Fatal(err)
		}
		if want := db.Count(t, p.Start(), p.End()); r2.Counts.Total != want {
			t.Fatalf("after the late commit: incremental total %d, plain count(*) %d", r2.Counts.Total, want)
		}
		if r2.Full || r2.Fallback != "" || !r2.Settled {
			t.Fatalf("a SELECT-only role must count incrementally on a primary: full=%v settled=%v fallback=%q", r2.Full, r2.Settled, r2.Fallback)
		}
	})

	t.Run("four writers", func(t *testing.T) {
		db := fixture.New(t, pg, "rolewriters")
		appURL, readerURL := selectOnly(t, db, "rolewriters")
		c := counter(t, readerURL)
		c.SettleWait = 50 * time.Millisecond
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var once sync.Once
		halt := func() { once.Do(func() { close(stop) }); wg.Wait() }
		defer halt() // also when the test fails: writers must not outlive it
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				conn, err := pgx.Connect(ctx, appURL)
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
							if _, err := tx.Exec(ctx, `INSERT INTO "Booking" (uid, title, "startTime", "endTime", "createdAt") VALUES ($1,'t',now(),now(), '2026-10-01'::timestamp + ($2 || ' hours')::interval)`,
								fmt.Sprintf("w%d-%d-%d", w, i, k), fmt.Sprint(rng.Intn(24*35))); err != nil {
								return err
							}
							time.Sleep(time.Duration(rng.Intn(25)) * time.Millisecond)
						}
						return nil
					})
					if err != nil {
						select {
						case <-stop:
						default:
							t.Error(err)
						}
						return
					}
				}
			}(w)
		}
		// One more writer holds a transaction open across several counts
		// and commits late.
		late, err := pgx.Connect(ctx, appURL)
		if err != nil {
			t.Fatal(err)
		}
		defer late.Close(ctx)
		ltx, err := late.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		insertAs(t, ctx, ltx, "late", "2026-10-15 12:00:00")

		wm := reporter.Watermark{}
		var last int64
		for i := 0; i < 20; i++ {
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
			if i == 10 {
				if err := ltx.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(15 * time.Millisecond)
		}
		halt()
		r, err := c.Count(ctx, p, wm)
		if err != nil {
			t.Fatal(err)
		}
		if want := db.Count(t, p.Start(), p.End()); r.Counts.Total != want || want == 0 {
			t.Fatalf("final incremental count as a SELECT-only role %d, plain count(*) %d", r.Counts.Total, want)
		}
		t.Logf("final count %d, watermark %d", r.Counts.Total, r.Watermark.ID)
	})
}

// TestCountSequenceCache is finding 4b: with CACHE 20 each session takes 20
// ids at a time and may use them much later, in a transaction that starts
// after the count; no wait for open transactions can see it (11 vs 12).
func TestCountSequenceCache(t *testing.T) {
	db := fixture.Start(t, testenv.PostgresOptions{})
	ctx := context.Background()
	p := month("2026-10")
	db.PG.Exec(t, "calendso", `ALTER SEQUENCE "Booking_id_seq" CACHE 20`)
	idle, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close(ctx)
	first := insertAs(t, ctx, idle, "idle-1", "2026-10-01 09:00:00") // takes ids 1..20, uses 1
	busy, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close(ctx)
	// Many more ids than cache × sessions: a safety window widened by the
	// cache size would not reach back to the idle session's ids either.
	for i := 0; i < 90; i++ {
		insertAs(t, ctx, busy, fmt.Sprintf("busy-%d", i), "2026-10-02 09:00:00")
	}
	c := counter(t, db.URL)
	r, err := c.Count(ctx, p, reporter.Watermark{})
	if err != nil {
		t.Fatal(err)
	}
	second := insertAs(t, ctx, idle, "idle-2", "2026-10-03 09:00:00") // a cached id, far below max(id)
	if second != first+1 {
		t.Fatalf("the idle session got id %d, want %d from its cache", second, first+1)
	}
	r2, err := c.Count(ctx, p, r.Watermark)
	if err != nil {
		t.Fatal(err)
	}
	if want := db.Count(t, p.Start(), p.End()); r2.Counts.Total != want {
		t.Fatalf("CACHE 20: counted %d, plain count(*) %d", r2.Counts.Total, want)
	}
	if !r2.Full || !strings.Contains(r2.Fallback, "CACHE 20") || r2.Watermark.ID != 0 {
		t.Fatalf("CACHE 20 must fall back to a stated full count: full=%v fallback=%q watermark=%d", r2.Full, r2.Fallback, r2.Watermark.ID)
	}
	// Back to CACHE 1 (after the caching sessions have ended): incremental again.
	idle.Close(ctx)
	busy.Close(ctx)
	db.PG.Exec(t, "calendso", `ALTER SEQUENCE "Booking_id_seq" CACHE 1`)
	r3, err := c.Count(ctx, p, r2.Watermark)
	if err != nil || r3.Fallback != "" || !r3.Settled {
		t.Fatalf("after CACHE 1: fallback=%q settled=%v err=%v", r3.Fallback, r3.Settled, err)
	}
	insertAs(t, ctx, db.Conn, "after", "2026-10-04 09:00:00")
	r4, err := c.Count(ctx, p, r3.Watermark)
	if err != nil || r4.Full || r4.Scanned != 1 || r4.Counts.Total != db.Count(t, p.Start(), p.End()) {
		t.Fatalf("incremental after CACHE 1: %+v %v", r4, err)
	}
}

// TestCountHotStandby is finding 4a: on a streaming replica the primary's
// open transactions are not in the standby's pg_locks, so waiting for open
// transactions there proves nothing (181 vs 182).
func TestCountHotStandby(t *testing.T) {
	db := fixture.Start(t, testenv.PostgresOptions{})
	ctx := context.Background()
	p := month("2026-10")
	db.InsertMany(t, 180, p.Start(), p.Start().Add(24*time.Hour))
	standby := db.PG.StartStandby(t)
	standbyURL := standby.URL(standby.SuperUser, standby.SuperPassword, "calendso", "")
	c := counter(t, standbyURL)
	wm := countFull(t, c, p).Watermark

	slow, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close(ctx)
	tx, err := slow.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	insertAs(t, ctx, tx, "slow", "2026-10-20 08:00:00")
	db.Book(t, at("2026-10-21 08:00:00.000")) // higher id, committed first
	standby.WaitReplay(t, db.PG, 30*time.Second)
	r, err := c.Count(ctx, p, wm)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	standby.WaitReplay(t, db.PG, 30*time.Second)
	r2, err := c.Count(ctx, p, r.Watermark)
	if err != nil {
		t.Fatal(err)
	}
	if want := db.Count(t, p.Start(), p.End()); r2.Counts.Total != want {
		t.Fatalf("hot standby: counted %d, plain count(*) on the primary %d", r2.Counts.Total, want)
	}
	if !r.Full || !r2.Full || !strings.Contains(r2.Fallback, "hot standby") {
		t.Fatalf("a standby must fall back to a stated full count: full=%v/%v fallback=%q", r.Full, r2.Full, r2.Fallback)
	}
}

// TestConnectPercentEncoding is finding 5: a %20 in a query parameter was
// re-encoded as '+', which libpq and pgx do not decode as a space, so the
// server refused the connection.
func TestConnectPercentEncoding(t *testing.T) {
	db := fixture.Start(t, testenv.PostgresOptions{})
	ctx := context.Background()
	url := db.PG.URL(db.PG.SuperUser, "", "calendso", "sslmode=disable&schema=public&connection_limit=3&options=-c%20statement_timeout%3D4321")
	conn, err := reporter.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect with %%20 in options: %v", err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, `SHOW statement_timeout`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "4321ms" {
		t.Fatalf("statement_timeout = %q, want 4321ms from options=-c%%20statement_timeout%%3D4321", v)
	}
}
