package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/calctl/calctl/reporter"
	"github.com/calctl/calctl/reporter/outbox"
	"github.com/calctl/calctl/reporter/sender"
)

// MaxRenumbers bounds how often one report is renumbered in one delivery
// pass; an endpoint that keeps answering idempotency_key_reused is treated
// as a transient failure (retried with backoff), never as a refusal.
const MaxRenumbers = 5

// Delivery sums up one delivery pass.
type Delivery struct {
	// Acked, Parked and Retrying count the outcomes of this pass; Pending
	// the reports still waiting at its end; Renumbered the reports given a
	// new revision after idempotency_key_reused.
	Acked, Parked, Retrying, Pending, Renumbered int
	// NextRetry is the earliest retry time of a pending entry (zero: none).
	NextRetry time.Time
}

// Deliver makes one pass over the outbox: the newest revision of each
// period, if pending and due, is sent (older pending revisions are
// superseded, never sent, so a period's revisions arrive in order). A
// transient failure stops the pass (the endpoint is likely down for all)
// and schedules that entry's retry with full-jitter backoff; a permanent
// refusal parks the entry; idempotency_key_reused renumbers it above the
// endpoint's latest revision and sends it again. If ctx ends during a send,
// the entry is left as it was: pending, and safe to resend under the same
// Idempotency-Key.
func (a *Agent) Deliver(ctx context.Context) (Delivery, error) {
	if a.Sender == nil || a.Sender.Client == nil {
		return Delivery{}, errors.New("no endpoint configured: set endpoint, token_file and signing_secret_file in the agent config")
	}
	if err := os.MkdirAll(a.StateDir, 0o700); err != nil {
		return Delivery{}, fmt.Errorf("state_dir: %w", err)
	}
	unlock, err := lockState(ctx, a.StateDir)
	if err != nil {
		return Delivery{}, err
	}
	defer unlock()
	box, entries, err := a.openOutbox()
	if err != nil {
		return Delivery{}, err
	}
	var d Delivery
	stop := false
	for _, n := range outbox.Newest(entries) {
		if n.State != outbox.StatePending {
			continue
		}
		now := a.now()
		if stop || n.NextRetry.After(now) {
			d.Pending++
			if d.NextRetry.IsZero() || n.NextRetry.Before(d.NextRetry) {
				d.NextRetry = n.NextRetry
			}
			continue
		}
		e := n
		for renumbers := 0; ; {
			res := a.Sender.Send(ctx, e.Key, []byte(e.Body))
			if ctx.Err() != nil {
				return d, ctx.Err()
			}
			e.Attempts++
			e.LastStatus, e.LastAttemptAt = res.Status, now.UTC()
			log := a.log().With("key", e.Key, "period", e.Period, "revision", e.Revision, "final", e.Final,
				"attempt", e.Attempts, "status", res.Status, "outcome", res.Outcome.String())
			if res.Outcome == sender.Renumber && renumbers < MaxRenumbers {
				renumbers++
				ne, err := a.renumber(box, &entries, e, res.LatestRevision, res.Err)
				if err != nil {
					return d, err
				}
				d.Renumbered++
				log.Warn("revision already taken at the endpoint with another body; renumbered and sent again",
					"latest_revision", res.LatestRevision, "new_revision", ne.Revision, "new_key", ne.Key)
				e = ne
				continue
			}
			switch res.Outcome {
			case sender.Acked:
				e.State, e.AckedAt, e.Receipt, e.LastError, e.NextRetry = outbox.StateAcked, now.UTC(), res.Receipt, "", time.Time{}
				d.Acked++
				log.Info("report delivered", "total", e.Total, "total_cents", e.TotalCents)
			case sender.Parked:
				e.State, e.LastError, e.NextRetry = outbox.StateParked, res.Err.Error(), time.Time{}
				e.ParkedAt, e.ParkedWith = now.UTC(), a.fingerprint()
				d.Parked++
				log.Error("report refused; parked until retried", "error", e.LastError,
					"advice", a.Commands.Fix(outbox.PeriodStatus{Period: e.Period, Revision: e.Revision, State: e.State, LastStatus: e.LastStatus}))
			default: // Retry, or an endpoint that keeps answering idempotency_key_reused
				delay := a.Backoff.Delay(e.Attempts, res.RetryAfter)
				e.NextRetry, e.LastError = now.Add(delay).UTC(), res.Err.Error()
				d.Retrying++
				d.Pending++
				if d.NextRetry.IsZero() || e.NextRetry.Before(d.NextRetry) {
					d.NextRetry = e.NextRetry
				}
				log.Warn("report not delivered; will retry", "error", e.LastError, "retry_in", delay.Round(time.Millisecond).String())
				stop = true
			}
			if err := box.Put(e); err != nil {
				return d, err
			}
			break
		}
	}
	return d, nil
}

// renumber gives old's report a revision above both the endpoint's latest
// and every revision ever written here, with a new key and the same
// content: the new entry is written (atomically, fsynced) before old is
// marked superseded, and a crash in between leaves two entries of which
// Normalize supersedes the older. The signature is made afresh at send.
func (a *Agent) renumber(box *outbox.Store, entries *[]outbox.Entry, old outbox.Entry, latest int, cause error) (outbox.Entry, error) {
	maxRev, err := box.MaxRevision(old.Period)
	if err != nil {
		return old, err
	}
	rev := max(latest, maxRev) + 1
	var r reporter.Report
	if err := json.Unmarshal([]byte(old.Body), &r); err != nil {
		return old, fmt.Errorf("renumber %s: %w", old.Key, err)
	}
	r.Revision = rev
	body, err := r.Marshal()
	if err != nil {
		return old, err
	}
	ne := outbox.Entry{
		Key: reporter.IdempotencyKey(r.DeploymentID, r.Period, rev), DeploymentID: old.DeploymentID, Period: old.Period,
		Revision: rev, Final: old.Final, Correction: old.Correction, Total: old.Total, TotalCents: old.TotalCents,
		State: outbox.StatePending, Body: string(body), CreatedAt: a.now().UTC(), RenumberedFrom: old.Revision, Counting: old.Counting,
	}
	if err := box.Put(ne); err != nil {
		return old, err
	}
	old.State, old.SupersededBy, old.NextRetry = outbox.StateSuperseded, rev, time.Time{}
	old.Note = fmt.Sprintf("renumbered to %d: the endpoint had accepted revision %d of %s with another body (its latest revision: %d)", rev, old.Revision, old.Period, latest)
	if cause != nil {
		old.LastError = cause.Error()
	}
	if err := box.Put(old); err != nil {
		return ne, err
	}
	for i := range *entries {
		if (*entries)[i].Key == old.Key {
			(*entries)[i] = old
		}
	}
	*entries = append(*entries, ne)
	return ne, nil
}

// DeliverUntil repeats Deliver, sleeping until the next retry, until
// nothing is pending or wait has passed. Entries still pending are left for
// the agent (or the next run).
func (a *Agent) DeliverUntil(ctx context.Context, wait time.Duration) (Delivery, error) {
	deadline := a.now().Add(wait)
	var total Delivery
	for {
		d, err := a.Deliver(ctx)
		total.Acked += d.Acked
		total.Parked += d.Parked
		total.Retrying += d.Retrying
		total.Renumbered += d.Renumbered
		total.Pending, total.NextRetry = d.Pending, d.NextRetry
		if err != nil || d.Pending == 0 {
			return total, err
		}
		next := d.NextRetry
		if next.After(deadline) {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(time.Until(next)):
		}
	}
}
