package reporter

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Counter counts one month's bookings over a pgx connection.
type Counter struct {
	// Conn is a connection to Cal.com's database.
	Conn *pgx.Conn
	// SettleWait is how long a count waits for the transactions that were
	// open when the new watermark was read to end (default 5s). If they do
	// not end in time the watermark stays where it was: the count is still
	// exact, the next run just re-reads a larger id range.
	SettleWait time.Duration
	// Poll is the interval between checks while waiting (default 20ms).
	Poll time.Duration

	schema *BookingSchema
}

// Result is one count of one month.
type Result struct {
	// Counts are the month's exact counts in the counting snapshot.
	Counts Counts
	// Watermark is the state to keep for the next incremental count.
	Watermark Watermark
	// At is the database's clock (now()) in the counting snapshot, UTC.
	At time.Time
	// Scanned is how many rows with id above the old watermark matched the
	// month (the work done, for logs and benchmarks).
	Scanned int64
	// Full reports whether the whole month was counted (no watermark).
	Full bool
	// Settled reports whether the watermark advanced.
	Settled bool
}

// Schema detects (once) and returns the Booking schema.
func (c *Counter) Schema(ctx context.Context) (BookingSchema, error) {
	if c.schema == nil {
		s, err := Detect(ctx, c.Conn)
		if err != nil {
			return BookingSchema{}, err
		}
		c.schema = &s
	}
	return *c.schema, nil
}

// Now returns the database's clock in UTC: month membership and closing are
// decided by the database, never by the agent's clock.
func (c *Counter) Now(ctx context.Context) (time.Time, error) {
	var t time.Time
	if err := c.Conn.QueryRow(ctx, `SELECT now()`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read database clock: %w", err)
	}
	return t.UTC(), nil
}

// Count counts month p. With prev (the month's last watermark) only rows
// with id > prev.ID are read; with a zero prev the whole month is counted.
// The result is exact for the snapshot it was taken in:
//
//  1. read H = max(id), the candidate watermark;
//  2. list the transactions open in this database (their virtual xids from
//     pg_locks; autovacuum, which never inserts rows, is left out) and wait
//     until they have all ended. Every row with id <= H got
//     its id before step 1, from a transaction that had ended by then or was
//     open in step 2; so once they have ended, every such row that will ever
//     be visible is visible;
//  3. in a REPEATABLE READ, READ ONLY transaction count, per status, the
//     month's rows with id > prev.ID, and separately those with id <= H.
//     Total = prev.Settled + all of them; the new Settled = prev.Settled +
//     those <= H, and the new watermark is H.
//
// If the transactions of step 2 do not end within SettleWait, the watermark
// stays at prev.ID and step 3 counts everything above it: still exact.
func (c *Counter) Count(ctx context.Context, p Period, prev Watermark) (Result, error) {
	if prev.Period != p.String() {
		prev = Watermark{Period: p.String()}
	}
	prev.Settled = NewCounts().Add(prev.Settled)
	sch, err := c.Schema(ctx)
	if err != nil {
		return Result{}, err
	}
	var h int64
	if err := c.Conn.QueryRow(ctx, `SELECT coalesce(max(id), 0)::bigint FROM `+sch.Table).Scan(&h); err != nil {
		return Result{}, fmt.Errorf("read max booking id: %w", err)
	}
	settleTo := prev.ID
	if h > prev.ID {
		ok, err := c.waitOpenTransactions(ctx)
		if err != nil {
			return Result{}, err
		}
		if ok {
			settleTo = h
		}
	}

	tx, err := c.Conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Result{}, fmt.Errorf("begin read-only transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Month bounds are compared in UTC whatever the column type, and every
	// run gets a plan for its own id bound (a generic plan would seq-scan).
	if _, err := tx.Exec(ctx, `SET LOCAL TimeZone = 'UTC'`); err != nil {
		return Result{}, fmt.Errorf("set time zone: %w", err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
		return Result{}, fmt.Errorf("set plan_cache_mode: %w", err)
	}
	var at time.Time
	if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&at); err != nil {
		return Result{}, fmt.Errorf("read database clock: %w", err)
	}
	rows, err := tx.Query(ctx, `
SELECT status::text,
       count(*),
       count(*) FILTER (WHERE "fromReschedule" IS NOT NULL),
       count(*) FILTER (WHERE id <= $4),
       count(*) FILTER (WHERE id <= $4 AND "fromReschedule" IS NOT NULL)
FROM `+sch.Table+`
WHERE "createdAt" >= $1::timestamp AND "createdAt" < $2::timestamp AND id > $3
GROUP BY 1`,
		p.Start().Format("2006-01-02 15:04:05"), p.End().Format("2006-01-02 15:04:05"), prev.ID, settleTo)
	if err != nil {
		return Result{}, fmt.Errorf("count bookings of %s: %w", p, err)
	}
	above, settled := NewCounts(), NewCounts()
	for rows.Next() {
		var status *string
		var n, r, sn, sr int64
		if err := rows.Scan(&status, &n, &r, &sn, &sr); err != nil {
			return Result{}, fmt.Errorf("count bookings of %s: %w", p, err)
		}
		key := "null"
		if status != nil {
			key = *status
		}
		above.Total += n
		above.Reschedules += r
		above.ByStatus[key] += n
		settled.Total += sn
		settled.Reschedules += sr
		settled.ByStatus[key] += sn
	}
	if err := rows.Err(); err != nil {
		return Result{}, fmt.Errorf("count bookings of %s: %w", p, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return Result{}, fmt.Errorf("end read-only transaction: %w", err)
	}
	return Result{
		Counts: prev.Settled.Add(above),
		Watermark: Watermark{
			Period:    p.String(),
			ID:        settleTo,
			Settled:   prev.Settled.Add(settled),
			UpdatedAt: at.UTC(),
		},
		At:      at.UTC(),
		Scanned: above.Total,
		Full:    prev.ID == 0,
		Settled: settleTo > prev.ID,
	}, nil
}

// waitOpenTransactions waits until every transaction open in this database
// right now (other than ours) has ended, or SettleWait passes. It reports
// whether they all ended.
func (c *Counter) waitOpenTransactions(ctx context.Context) (bool, error) {
	wait, poll := c.SettleWait, c.Poll
	if wait == 0 {
		wait = 5 * time.Second
	}
	if poll == 0 {
		poll = 20 * time.Millisecond
	}
	var open []string
	rows, err := c.Conn.Query(ctx, `
SELECT l.virtualxid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'virtualxid' AND l.granted AND l.pid <> pg_backend_pid()
  AND a.datname = current_database() AND a.backend_type <> 'autovacuum worker'`)
	if err != nil {
		return false, fmt.Errorf("list open transactions: %w", err)
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return false, fmt.Errorf("list open transactions: %w", err)
		}
		open = append(open, v)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("list open transactions: %w", err)
	}
	deadline := time.Now().Add(wait)
	for len(open) > 0 {
		var still []string
		srows, err := c.Conn.Query(ctx, `SELECT virtualxid FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY($1)`, open)
		if err != nil {
			return false, fmt.Errorf("check open transactions: %w", err)
		}
		for srows.Next() {
			var v string
			if err := srows.Scan(&v); err != nil {
				return false, fmt.Errorf("check open transactions: %w", err)
			}
			still = append(still, v)
		}
		if err := srows.Err(); err != nil {
			return false, fmt.Errorf("check open transactions: %w", err)
		}
		open = still
		if len(open) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(poll):
		}
	}
	return true, nil
}
