// Package agent runs usage reporting: it decides which months to count,
// counts them (reporter), compares the count with what billing holds (the
// resync GET of protocol 1.1), turns changes into new revisions in the
// outbox, and delivers them with the sender — renumbering a revision the
// endpoint says was taken, never sending an older revision after a newer
// one, and retrying parked reports when the credentials change and once a
// day — once for `calctl report` or forever for `calctl agent`.
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

	"github.com/calctl/calctl/internal/safefile"
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
	// DeploymentID is the billing side's id for the deployment (config
	// deployment_id); it salts the host name hash and keys every report.
	DeploymentID string
	// DatabaseURL is Cal.com's DATABASE_URL (config database_url_env, from
	// env_file or the environment), read by the counter.
	DatabaseURL secret.Secret
	// StateDir holds the outbox, watermarks and billing views (config
	// state_dir, default /var/lib/calctl); "" counts without state.
	StateDir string
	// LiveSince is config live_since: months ending before it are
	// reported not live; zero means live from the start.
	LiveSince time.Time
	// Grace is how long after a month's end (on the database's clock) the
	// final report is due (config grace, default 72h).
	Grace time.Duration
	// Interval is the time between counting slots of Run (config
	// interval, default 6h; must be positive for Run).
	Interval time.Duration
	// Sender delivers reports; nil means counting only. A Sender without
	// a Client (--export) signs but neither sends nor asks billing.
	Sender *sender.Sender
	// Backoff spaces retries of transient send failures (zero Base:
	// sender.DefaultBackoff, 2s capped at 15m).
	Backoff sender.Backoff
	// Credentials, when set, reload the token and signing secret; the agent
	// watches Credentials.Files and retries parked reports when they change.
	Credentials *Credentials
	// WatchInterval is how often Run looks at the credential files
	// (default 5s).
	WatchInterval time.Duration
	// Commands spells calctl's commands for advice in logs and status.
	Commands Commands
	// SettleWait is passed to the counter (0 = its default).
	SettleWait time.Duration
	// Hostname is this host's name; only its hash (AgentInfo.HostnameHash)
	// goes into reports.
	Hostname string
	// Version is calctl's version, sent as AgentInfo.Version.
	Version string
	// Log receives the agent's structured log; nil discards it.
	Log *slog.Logger
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
	// Parked: counts equal the latest revision, which the endpoint refused
	// and which waits for `calctl report retry`. Never called unchanged.
	Parked Action = "parked"
	// BillingCurrent: billing holds a revision this state dir did not send,
	// with the same total as this count: nothing to send.
	BillingCurrent Action = "billing-current"
	// DryRun: counted only; nothing was written.
	DryRun Action = "dry-run"
	// FinalSent: the month's final report exists; the agent leaves it.
	FinalSent Action = "final-exists"
)

// PeriodResult is the outcome of counting one period.
type PeriodResult struct {
	// Period is the month counted.
	Period reporter.Period
	// Report is the document enqueued (or that would be, for a dry run, or
	// the latest one, when unchanged).
	Report reporter.Report
	// Action says what counting did for the period.
	Action Action
	// Entry is the outbox entry of Report (nil for a dry run).
	Entry *outbox.Entry
	// Count is the counting result (zero when not counted).
	Count reporter.Result
	// Billing is what the endpoint said it holds (nil: not asked).
	Billing *outbox.BillingView
	// Note explains the action in a sentence (e.g. why billing's revision
	// was superseded, or that a parked revision awaits a retry).
	Note string
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

// online reports whether the agent can talk to the endpoint.
func (a *Agent) online() bool {
	return a.Sender != nil && a.Sender.Client != nil && a.Sender.Endpoint != ""
}

// Count counts the due periods (or opts.Periods) and enqueues new
// revisions. Month membership and closing follow the database's clock.
func (a *Agent) Count(ctx context.Context, opts CountOptions) ([]PeriodResult, error) {
	var box *outbox.Store
	var entries []outbox.Entry
	views := map[string]outbox.BillingView{}
	if !opts.DryRun {
		if err := os.MkdirAll(a.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("state_dir: %w", err)
		}
		unlock, err := lockState(ctx, a.StateDir)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if box, entries, err = a.openOutbox(); err != nil {
			return nil, err
		}
		views = outbox.LoadBillingViews(a.StateDir)
	} else if a.StateDir != "" {
		entries, _, _ = (&outbox.Store{Dir: outbox.Dir(a.StateDir)}).Load()
		views = outbox.LoadBillingViews(a.StateDir)
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
		periods = a.duePeriods(dbNow, entries, views)
	}
	var out []PeriodResult
	for _, p := range periods {
		var view *outbox.BillingView
		if !opts.DryRun && a.online() {
			view = a.resync(ctx, p, views)
		}
		r, err := a.countPeriod(ctx, counter, box, &entries, p, dbNow, explicit, opts.DryRun, view)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// openOutbox opens the outbox, quarantines unreadable files (logging each)
// and supersedes stale pending or parked revisions.
func (a *Agent) openOutbox() (*outbox.Store, []outbox.Entry, error) {
	box, err := outbox.Open(a.StateDir)
	if err != nil {
		return nil, nil, err
	}
	entries, problems, err := box.Scan()
	if err != nil {
		return nil, nil, err
	}
	for _, p := range problems {
		a.log().Error("outbox entry quarantined", "file", filepath.Base(p.File), "moved_to", p.MovedTo, "error", p.Err.Error(), "advice", p.Message())
	}
	entries, err = box.Normalize(entries)
	return box, entries, err
}

// resync asks the endpoint what it holds for p and records the answer in
// state_dir/billing. On failure it logs and returns nil: the period is then
// numbered from local state, and the 422 rule still prevents a silent
// divergence.
func (a *Agent) resync(ctx context.Context, p reporter.Period, views map[string]outbox.BillingView) *outbox.BillingView {
	b, err := a.Sender.Lookup(ctx, a.DeploymentID, p.String())
	if err != nil {
		if ctx.Err() == nil {
			a.log().Warn("could not ask billing what it holds; numbering from local state", "period", p.String(), "error", err.Error())
		}
		return nil
	}
	v := outbox.BillingView{Period: p.String(), CheckedAt: a.now().UTC(), Found: b.Found, LatestRevision: b.LatestRevision,
		Final: b.Final, Total: b.Total, BodySHA256: b.BodySHA256}
	if old, ok := views[p.String()]; ok && old.AdoptedFinal && v.Found && v.Final && v.Total == old.Total {
		v.AdoptedFinal = true
	}
	if err := outbox.SaveBillingView(a.StateDir, v); err != nil {
		a.log().Warn("could not save billing view", "period", p.String(), "error", err.Error())
	}
	views[p.String()] = v
	return &v
}

// duePeriods are the current month, every month since live_since (at most
// MaxBackfill back), and every month the state dir already tracks, minus
// months whose final report exists (here, or in billing with this agent's
// own count).
func (a *Agent) duePeriods(dbNow time.Time, entries []outbox.Entry, views map[string]outbox.BillingView) []reporter.Period {
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
	if des, err := safefile.ReadDir(filepath.Join(a.StateDir, "counts")); err == nil && a.StateDir != "" {
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
	for p, v := range views {
		if v.AdoptedFinal {
			final[p] = true
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

// periodEntries returns the period's entries, the newest, the newest
// final and the newest acked (nil when none).
func periodEntries(entries []outbox.Entry, p string) (latest, latestFinal, latestAcked *outbox.Entry) {
	for i := range entries {
		e := &entries[i]
		if e.Period != p {
			continue
		}
		if latest == nil || e.Revision > latest.Revision {
			latest = e
		}
		if e.Final && (latestFinal == nil || e.Revision > latestFinal.Revision) {
			latestFinal = e
		}
		if e.State == outbox.StateAcked && (latestAcked == nil || e.Revision > latestAcked.Revision) {
			latestAcked = e
		}
	}
	return latest, latestFinal, latestAcked
}

func bodyOf(e *outbox.Entry) *reporter.Report {
	if e == nil {
		return nil
	}
	var r reporter.Report
	if json.Unmarshal([]byte(e.Body), &r) != nil {
		return nil
	}
	return &r
}

func (a *Agent) countPeriod(ctx context.Context, counter *reporter.Counter, box *outbox.Store, entries *[]outbox.Entry,
	p reporter.Period, dbNow time.Time, explicit, dryRun bool, view *outbox.BillingView) (PeriodResult, error) {
	latest, latestFinal, latestAcked := periodEntries(*entries, p.String())
	res := PeriodResult{Period: p, Billing: view}
	latestReport := bodyOf(latest)
	if latestFinal != nil && !explicit {
		res.Action, res.Entry = FinalSent, latestFinal
		if r := bodyOf(latestFinal); r != nil {
			res.Report = *r
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
	if cnt.Fallback != "" {
		a.log().Warn("counted the whole month: an incremental count cannot be proven exact here", "period", p.String(), "reason", cnt.Fallback)
	}

	// What billing holds, when it is not what this state dir sent: another
	// host with the same deployment id, a lost or restored state dir.
	foreign := view != nil && view.Found &&
		(latest == nil || view.LatestRevision > latest.Revision || (view.LatestRevision == latest.Revision && view.BodySHA256 != latest.BodySHA256))
	switch {
	case foreign:
		if view.Total == cnt.Counts.Total && (view.Final || !finalDue) {
			res.Action, res.Report = BillingCurrent, reporter.Report{}
			res.Note = fmt.Sprintf("billing holds revision %d (total %d%s), sent from elsewhere, with this count: nothing to send", view.LatestRevision, view.Total, finalWord(view.Final))
			if dryRun {
				return res, nil
			}
			if finalDue {
				v := *view
				v.AdoptedFinal = true
				if err := outbox.SaveBillingView(a.StateDir, v); err != nil {
					return res, err
				}
			}
			// Local revisions not yet delivered are obsolete: billing
			// already holds this count.
			for i := range *entries {
				o := &(*entries)[i]
				if o.Period == p.String() && (o.State == outbox.StatePending || o.State == outbox.StateParked) {
					o.State, o.SupersededBy, o.NextRetry = outbox.StateSuperseded, view.LatestRevision, time.Time{}
					o.Note = fmt.Sprintf("billing holds revision %d with this count", view.LatestRevision)
					if err := box.Put(*o); err != nil {
						return res, err
					}
				}
			}
			return res, nil
		}
		res.Note = fmt.Sprintf("billing holds revision %d (total %d%s), not sent from this state dir; sending this count above it", view.LatestRevision, view.Total, finalWord(view.Final))
		if finalDue && view.Final {
			snap.Correction = true
			snap.Reason = fmt.Sprintf("recount of closed month: total %d, billing held %d in final revision %d", cnt.Counts.Total, view.Total, view.LatestRevision)
		}
	case latest == nil:
	case latestFinal != nil: // explicit recount of a month that has its final
		fr := bodyOf(latestFinal)
		ar := bodyOf(latestAcked)
		switch {
		case fr != nil && fr.Bookings.Equal(cnt.Counts) && latestFinal.State == outbox.StateParked:
			res.Action, res.Entry, res.Report = Parked, latestFinal, *fr
			res.Note = "the final report is parked; it is unchanged and waits for a retry"
			return res, nil
		case fr != nil && fr.Bookings.Equal(cnt.Counts):
			res.Action, res.Entry, res.Report = Unchanged, latestFinal, *fr
			return res, nil
		case ar != nil && ar.Final:
			// Billing accepted a final with another count: a correction.
			snap.Final, snap.Correction = true, true
			snap.Reason = fmt.Sprintf("recount of closed month: total %d, was %d in acked final revision %d", cnt.Counts.Total, ar.Bookings.Total, ar.Revision)
		default:
			// No final was accepted yet (it is parked or waiting): this
			// count replaces it as the month's final.
			snap.Final = true
			res.Note = fmt.Sprintf("replaces final revision %d (%s, never accepted) with this count", latestFinal.Revision, latestFinal.State)
		}
	case latestReport == nil || !latestReport.Bookings.Equal(cnt.Counts) || latestReport.Live != snap.Live || (finalDue && !latestReport.Final):
	case latest.State == outbox.StateParked:
		res.Action, res.Entry, res.Report = Parked, latest, *latestReport
		res.Note = "the latest revision is parked; it is unchanged and waits for a retry"
		return res, nil
	default:
		res.Action, res.Entry, res.Report = Unchanged, latest, *latestReport
		return res, nil
	}

	agentInfo := reporter.AgentInfo{Version: a.Version, HostnameHash: reporter.HostnameHash(a.DeploymentID, a.Hostname)}
	rev := 1
	if latest != nil {
		rev = latest.Revision + 1
	}
	if view != nil && view.Found && view.LatestRevision >= rev {
		rev = view.LatestRevision + 1
	}
	if dryRun {
		res.Action, res.Report = DryRun, reporter.NewReport(a.DeploymentID, rev, snap, agentInfo)
		return res, nil
	}
	maxRev, err := box.MaxRevision(p.String())
	if err != nil {
		return res, err
	}
	rev = max(rev, maxRev+1)
	rep := reporter.NewReport(a.DeploymentID, rev, snap, agentInfo)
	body, err := rep.Marshal()
	if err != nil {
		return res, err
	}
	counting := cnt.Method()
	if cnt.Fallback != "" {
		counting += ": " + cnt.Fallback
	}
	e := outbox.Entry{
		Key: reporter.IdempotencyKey(a.DeploymentID, rep.Period, rep.Revision), DeploymentID: a.DeploymentID,
		Period: rep.Period, Revision: rep.Revision, Final: rep.Final, Correction: rep.Correction,
		Total: rep.Bookings.Total, TotalCents: rep.Estimate.TotalCents, State: outbox.StatePending,
		Body: string(body), CreatedAt: a.now().UTC(), Counting: counting,
	}
	if err := box.Put(e); err != nil {
		return res, err
	}
	*entries = append(*entries, e)
	if *entries, err = box.Supersede(*entries, e, fmt.Sprintf("newer revision %d enqueued", e.Revision)); err != nil {
		return res, err
	}
	a.log().Info("report enqueued", "key", e.Key, "period", e.Period, "revision", e.Revision, "final", e.Final,
		"correction", e.Correction, "total", e.Total, "total_cents", e.TotalCents, "scanned", cnt.Scanned,
		"counting", cnt.Method(), "fallback", cnt.Fallback, "note", res.Note)
	res.Action, res.Entry, res.Report = Enqueued, &e, rep
	return res, nil
}

func finalWord(final bool) string {
	if final {
		return ", final"
	}
	return ""
}
