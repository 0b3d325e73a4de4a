// Package agent runs usage reporting: it decides which months to count,
// counts them (reporter), turns changed counts into new revisions in the
// outbox, and delivers pending revisions with the sender, once for
// `calctl report` or forever on a schedule for `calctl agent`.
package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/reporter"
	"github.com/calctl/calctl/reporter/outbox"
	"github.com/calctl/calctl/reporter/sender"
)

// MaxBackfill bounds how many closed months before the current one the
// agent considers by itself.
const MaxBackfill = 12

// Agent counts, enqueues and delivers usage reports for one deployment.
type Agent struct {
	DeploymentID string
	DatabaseURL  secret.Secret
	StateDir     string
	LiveSince    time.Time
	Grace        time.Duration
	Interval     time.Duration
	// Sender delivers reports; nil means counting only.
	Sender  *sender.Sender
	Backoff sender.Backoff
	// SettleWait is passed to the counter (0 = its default).
	SettleWait time.Duration
	Hostname   string
	Version    string
	Log        *slog.Logger
	// Now is the local clock for scheduling and retries (default time.Now).
	Now func() time.Time
}

// Action says what counting did for a period.
type Action string

// Actions.
const (
	// Enqueued: a new revision was written to the outbox.
	Enqueued Action = "enqueued"
	// Unchanged: counts equal the latest revision; nothing new to send.
	Unchanged Action = "unchanged"
	// DryRun: counted only; nothing was written.
	DryRun Action = "dry-run"
	// FinalSent: the month's final report exists; the agent leaves it.
	FinalSent Action = "final-exists"
)

// PeriodResult is the outcome of counting one period.
type PeriodResult struct {
	Period reporter.Period
	// Report is the document enqueued (or that would be, for a dry run, or
	// the latest one, when unchanged).
	Report reporter.Report
	Action Action
	// Entry is the outbox entry of Report (nil for a dry run).
	Entry *outbox.Entry
	// Count is the counting result (zero when not counted).
	Count reporter.Result
}

// CountOptions modify Count.
type CountOptions struct {
	// Periods, when set, are counted instead of the due ones. A closed
	// month whose final was acked is recounted in full and a difference
	// becomes a correction revision.
	Periods []reporter.Period
	// DryRun counts without writing watermarks or outbox entries.
	DryRun bool
}

func (a *Agent) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Agent) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Count counts the due periods (or opts.Periods) and enqueues new
// revisions. Month membership and closing follow the database's clock.
func (a *Agent) Count(ctx context.Context, opts CountOptions) ([]PeriodResult, error) {
	var box *outbox.Store
	var entries []outbox.Entry
	if !opts.DryRun {
		if err := os.MkdirAll(a.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("state_dir: %w", err)
		}
		unlock, err := lockState(ctx, a.StateDir)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if box, err = outbox.Open(a.StateDir); err != nil {
			return nil, err
		}
		var problems []outbox.Problem
		if entries, problems, err = box.Scan(); err != nil {
			return nil, err
		}
		for _, p := range problems {
			a.log().Error("outbox entry quarantined", "file", filepath.Base(p.File), "moved_to", p.MovedTo, "error", p.Err.Error(), "advice", p.Message())
		}
	} else if a.StateDir != "" {
		entries, _, _ = (&outbox.Store{Dir: outbox.Dir(a.StateDir)}).Load()
	}

	conn, err := reporter.Connect(ctx, a.DatabaseURL.Reveal())
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	counter := &reporter.Counter{Conn: conn, SettleWait: a.SettleWait}
	if _, err := counter.Schema(ctx); err != nil {
		return nil, err
	}
	dbNow, err := counter.Now(ctx)
	if err != nil {
		return nil, err
	}
	explicit := len(opts.Periods) > 0
	for _, p := range opts.Periods {
		if reporter.PeriodOf(dbNow).Before(p) {
			return nil, fmt.Errorf("period %s has not started yet (the database clock says %s)", p, dbNow.Format(time.RFC3339))
		}
	}
	periods := opts.Periods
	if !explicit {
		periods = a.duePeriods(dbNow, entries)
	}
	var out []PeriodResult
	for _, p := range periods {
		r, err := a.countPeriod(ctx, counter, box, entries, p, dbNow, explicit, opts.DryRun)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// duePeriods are the current month, every month since live_since (at most
// MaxBackfill back), and every month the state dir already tracks, minus
// months whose final report exists.
func (a *Agent) duePeriods(dbNow time.Time, entries []outbox.Entry) []reporter.Period {
	cur := reporter.PeriodOf(dbNow)
	oldest := cur
	for i := 0; i < MaxBackfill; i++ {
		oldest = oldest.Prev()
	}
	set := map[string]reporter.Period{cur.String(): cur}
	add := func(p reporter.Period) {
		if !p.Before(oldest) && !cur.Before(p) {
			set[p.String()] = p
		}
	}
	if !a.LiveSince.IsZero() {
		for p := reporter.PeriodOf(a.LiveSince); p.Before(cur); p = p.Next() {
			add(p)
		}
	}
	for _, e := range entries {
		if p, err := reporter.ParsePeriod(e.Period); err == nil {
			add(p)
		}
	}
	if des, err := os.ReadDir(filepath.Join(a.StateDir, "counts")); err == nil && a.StateDir != "" {
		for _, de := range des {
			if p, err := reporter.ParsePeriod(strings.TrimSuffix(de.Name(), ".json")); err == nil {
				add(p)
			}
		}
	}
	final := map[string]bool{}
	for _, e := range entries {
		if e.Final {
			final[e.Period] = true
		}
	}
	var out []reporter.Period
	for k, p := range set {
		if !final[k] {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func (a *Agent) countPeriod(ctx context.Context, counter *reporter.Counter, box *outbox.Store, entries []outbox.Entry,
	p reporter.Period, dbNow time.Time, explicit, dryRun bool) (PeriodResult, error) {
	var latest, latestFinal *outbox.Entry
	for i := range entries {
		if entries[i].Period == p.String() {
			latest = &entries[i]
			if entries[i].Final {
				latestFinal = &entries[i]
			}
		}
	}
	res := PeriodResult{Period: p}
	var latestReport *reporter.Report
	if latest != nil {
		var r reporter.Report
		if err := json.Unmarshal([]byte(latest.Body), &r); err == nil {
			latestReport = &r
		}
	}
	if latestFinal != nil && !explicit {
		res.Action, res.Entry = FinalSent, latestFinal
		if latestReport != nil {
			res.Report = *latestReport
		}
		return res, nil
	}
	finalDue := !dbNow.Before(p.End().Add(a.Grace))
	snap := reporter.Snapshot{Period: p, Live: reporter.IsLive(p, a.LiveSince), Final: finalDue}
	prev := reporter.Watermark{}
	if !finalDue {
		var err error
		if prev, err = reporter.LoadWatermark(a.StateDir, p); err != nil {
			return res, err
		}
	}
	cnt, err := counter.Count(ctx, p, prev)
	if err != nil {
		return res, err
	}
	res.Count = cnt
	snap.Counts, snap.GeneratedAt = cnt.Counts, cnt.At
	if !dryRun && !finalDue {
		if err := reporter.SaveWatermark(a.StateDir, cnt.Watermark); err != nil {
			return res, err
		}
	}
	if latestFinal != nil {
		// An explicit recount of a month that already has its final: only a
		// difference from an acked final becomes a correction.
		var fr reporter.Report
		_ = json.Unmarshal([]byte(latestFinal.Body), &fr)
		if latestFinal.State != outbox.StateAcked || fr.Bookings.Equal(cnt.Counts) {
			res.Action, res.Entry, res.Report = Unchanged, latestFinal, fr
			return res, nil
		}
		snap.Final, snap.Correction = true, true
		snap.Reason = fmt.Sprintf("recount of closed month: total %d, was %d in acked final revision %d", cnt.Counts.Total, fr.Bookings.Total, fr.Revision)
	} else if !finalDue && latestReport != nil && latestReport.Bookings.Equal(cnt.Counts) && latestReport.Live == snap.Live {
		res.Action, res.Entry, res.Report = Unchanged, latest, *latestReport
		return res, nil
	}
	agentInfo := reporter.AgentInfo{Version: a.Version, HostnameHash: reporter.HostnameHash(a.DeploymentID, a.Hostname)}
	if dryRun {
		rev := 1
		if latest != nil {
			rev = latest.Revision + 1
		}
		res.Action, res.Report = DryRun, reporter.NewReport(a.DeploymentID, rev, snap, agentInfo)
		return res, nil
	}
	maxRev, err := box.MaxRevision(p.String())
	if err != nil {
		return res, err
	}
	rep := reporter.NewReport(a.DeploymentID, maxRev+1, snap, agentInfo)
	body, err := rep.Marshal()
	if err != nil {
		return res, err
	}
	e := outbox.Entry{
		Key: reporter.IdempotencyKey(a.DeploymentID, rep.Period, rep.Revision), DeploymentID: a.DeploymentID,
		Period: rep.Period, Revision: rep.Revision, Final: rep.Final, Correction: rep.Correction,
		Total: rep.Bookings.Total, TotalCents: rep.Estimate.TotalCents, State: outbox.StatePending,
		Body: string(body), CreatedAt: a.now().UTC(),
	}
	if err := box.Put(e); err != nil {
		return res, err
	}
	a.log().Info("report enqueued", "key", e.Key, "period", e.Period, "revision", e.Revision, "final", e.Final,
		"correction", e.Correction, "total", e.Total, "total_cents", e.TotalCents, "scanned", cnt.Scanned, "full_count", cnt.Full)
	res.Action, res.Entry, res.Report = Enqueued, &e, rep
	return res, nil
}
