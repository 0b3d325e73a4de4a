package reporter

import (
	"context"
	"errors"
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
	// Fallback, when not empty, says why an incremental count could not be
	// proven exact on this database, so the month was counted in full (and
	// the watermark reset). Empty for an incremental or first count.
	Fallback string
}

// Counting methods, as reports and logs name them.
const (
	// MethodIncremental: rows above the watermark were added to its counts.
	MethodIncremental = "incremental"
	// MethodFull: every row of the month was counted.
	MethodFull = "full"
)

// Method is MethodFull or MethodIncremental.
func (r Result) Method() string {
	if r.Full {
		return MethodFull
	}
	return MethodIncremental
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
//
// Step 2 proves nothing where ids need not arrive in order or where the
// writers are invisible: a sequence with CACHE > 1 (a session may use ids it
// reserved long before, in a transaction that starts after the count), a
// hot standby (the primary's transactions are not in the standby's
// pg_locks), an id without a sequence, or a role that cannot see its own
// transaction in pg_locks. There Count counts the whole month, resets the
// watermark and says why in Result.Fallback.
func (c *Counter) Count(ctx context.Context, p Period, prev Watermark) (Result, error) {
	if prev.Period != p.String() {
		prev = Watermark{Period: p.String()}
	}
	prev.Settled = NewCounts().Add(prev.Settled)
	sch, err := c.Schema(ctx)
	if err != nil {
		return Result{}, err
	}
	fallback, err := c.provable(ctx, sch)
	if err != nil {
		return Result{}, err
	}
	if fallback != "" {
		prev = Watermark{Period: p.String(), Settled: NewCounts()}
	}
	var h int64
	if err := c.Conn.QueryRow(ctx, `SELECT coalesce(max(id), 0)::bigint FROM `+sch.Table).Scan(&h); err != nil {
		return Result{}, fmt.Errorf("read max booking id: %w", err)
	}
	settleTo := prev.ID
	if h > prev.ID && fallback == "" {
		ok, err := c.waitOpenTransactions(ctx)
		switch {
		case errors.Is(err, ErrWritersInvisible):
			fallback = err.Error() + ", so rows that commit late could not be waited for"
			prev = Watermark{Period: p.String(), Settled: NewCounts()}
			settleTo = 0
		case err != nil:
			return Result{}, err
		case ok:
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
	// Rows above the watermark; a full count (no watermark) has no id
	// predicate, so that it reads the table exactly as a plain count(*).
	idAbove := "AND id > $4"
	args := []any{p.Start().Format("2006-01-02 15:04:05"), p.End().Format("2006-01-02 15:04:05"), settleTo, prev.ID}
	if prev.ID == 0 {
		idAbove, args = "", args[:3]
	}
	rows, err := tx.Query(ctx, `
SELECT status::text,
       count(*),
       count(*) FILTER (WHERE "fromReschedule" IS NOT NULL),
       count(*) FILTER (WHERE id <= $3),
       count(*) FILTER (WHERE id <= $3 AND "fromReschedule" IS NOT NULL)
FROM `+sch.Table+`
WHERE "createdAt" >= $1::timestamp AND "createdAt" < $2::timestamp `+idAbove+`
GROUP BY 1`, args...)
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
	wm := Watermark{Period: p.String(), ID: settleTo, Settled: prev.Settled.Add(settled), UpdatedAt: at.UTC()}
	if fallback != "" {
		wm = Watermark{Period: p.String(), Settled: NewCounts(), UpdatedAt: at.UTC()}
	}
	return Result{
		Counts:    prev.Settled.Add(above),
		Watermark: wm,
		At:        at.UTC(),
		Scanned:   above.Total,
		Full:      prev.ID == 0,
		Settled:   settleTo > prev.ID && fallback == "",
		Fallback:  fallback,
	}, nil
}

// provable returns "" when the incremental argument holds on this database
// (a primary, ids from a sequence with CACHE 1), else the reason it does
// not. Read each count: a standby can be promoted, a cache altered.
//
// Sources: with a cache above 1 "each session will allocate and cache
// successive sequence values" and "you should only assume that the nextval
// values are all distinct, not that they are generated purely
// sequentially" (PostgreSQL 15 docs, CREATE SEQUENCE, Notes;
// TestCountSequenceCache shows a session using an id 90 below max(id)). A
// standby learns of a primary transaction only from the WAL, and nextval is
// WAL-logged once per 32 values (postgres src/backend/commands/sequence.c,
// SEQ_LOG_VALS), so a transaction holding a low id can be invisible there
// (TestCountHotStandby).
func (c *Counter) provable(ctx context.Context, sch BookingSchema) (string, error) {
	var recovery bool
	var seq *string
	var cache *int64
	// pg_sequence and pg_get_serial_sequence are readable by any role
	// (checked by TestCountSelectOnlyRole's reader).
	err := c.Conn.QueryRow(ctx, `
SELECT pg_is_in_recovery(), x.seq, s.seqcache
FROM (SELECT pg_get_serial_sequence($1, 'id') AS seq) x
LEFT JOIN pg_sequence s ON s.seqrelid = to_regclass(x.seq)`, sch.Table).Scan(&recovery, &seq, &cache)
	if err != nil {
		return "", fmt.Errorf("read database role and id sequence: %w", err)
	}
	switch {
	case recovery:
		return "hot standby (pg_is_in_recovery()): transactions still open on the primary are invisible here, so rows that commit late below the watermark could not be caught", nil
	case seq == nil || cache == nil:
		return `"Booking".id has no serial or identity sequence, so ids need not grow`, nil
	case *cache > 1:
		return fmt.Sprintf("sequence %s has CACHE %d: a session may use ids it reserved long before, in a transaction that starts after the count", *seq, *cache), nil
	}
	return "", nil
}

// ErrWritersInvisible means this role cannot see transactions in pg_locks
// (not even its own), so open writers cannot be listed.
var ErrWritersInvisible = errors.New("open transactions are not visible to this role in pg_locks")

// waitOpenTransactions waits until every transaction open in this database
// right now (other than ours) has ended, or SettleWait passes. It reports
// whether they all ended.
//
// Open transactions are the virtualxid locks in pg_locks (every transaction
// holds one from its start, before it takes an id or an xid). Both views are
// readable by any role, but pg_stat_activity hides most columns of other
// roles' sessions from a role without pg_read_all_stats — backend_type among
// them — so the filter uses only columns it shows to everyone: datid (this
// database) and usesysid. usesysid is NULL exactly for processes without a
// user: autovacuum and the other auxiliary processes, which never insert
// rows; client backends, WAL senders and background workers (logical
// replication apply) have one (postgres
// src/backend/utils/activity/backend_status.c, pgstat_bestart; seen from a
// SELECT-only role on PostgreSQL 15 in TestCountSelectOnlyRole). A
// prepared (two-phase) transaction holds no virtualxid: while one exists in
// this database the watermark is not advanced.
func (c *Counter) waitOpenTransactions(ctx context.Context) (bool, error) {
	wait, poll := c.SettleWait, c.Poll
	if wait == 0 {
		wait = 5 * time.Second
	}
	if poll == 0 {
		poll = 20 * time.Millisecond
	}
	var prepared int
	if err := c.Conn.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()`).Scan(&prepared); err != nil {
		return false, fmt.Errorf("list prepared transactions: %w", err)
	}
	if prepared > 0 {
		return false, nil
	}
	var open []string
	seenSelf := false
	rows, err := c.Conn.Query(ctx, `
SELECT l.virtualxid, l.pid = pg_backend_pid()
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'virtualxid' AND l.granted
  AND a.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND a.usesysid IS NOT NULL`)
	if err != nil {
		return false, fmt.Errorf("list open transactions: %w", err)
	}
	for rows.Next() {
		var v string
		var self bool
		if err := rows.Scan(&v, &self); err != nil {
			return false, fmt.Errorf("list open transactions: %w", err)
		}
		if self {
			seenSelf = true
			continue
		}
		open = append(open, v)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("list open transactions: %w", err)
	}
	if !seenSelf {
		// The statement above runs in a transaction of its own: if it
		// cannot see that, it cannot see anyone's.
		return false, ErrWritersInvisible
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
