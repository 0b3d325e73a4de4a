package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/calctl/calctl/reporter/outbox"
	"github.com/calctl/calctl/reporter/sender"
)

// Delivery sums up one delivery pass.
type Delivery struct {
	Acked, Parked, Retrying, Pending int
	// NextRetry is the earliest retry time of a pending entry (zero: none).
	NextRetry time.Time
}

// Deliver makes one pass over the outbox: every pending entry whose retry
// time has come is sent once, oldest first. A transient failure stops the
// pass (the endpoint is likely down for all) and schedules that entry's
// retry with full-jitter backoff; a permanent refusal parks the entry. If
// ctx ends during a send, the entry is left as it was: pending, and safe to
// resend under the same Idempotency-Key.
func (a *Agent) Deliver(ctx context.Context) (Delivery, error) {
	var d Delivery
	if a.Sender == nil {
		return d, errors.New("no endpoint configured: set endpoint, token_file and signing_secret_file in the agent config")
	}
	if err := os.MkdirAll(a.StateDir, 0o700); err != nil {
		return d, fmt.Errorf("state_dir: %w", err)
	}
	unlock, err := lockState(ctx, a.StateDir)
	if err != nil {
		return d, err
	}
	defer unlock()
	box, err := outbox.Open(a.StateDir)
	if err != nil {
		return d, err
	}
	entries, problems, err := box.Scan()
	if err != nil {
		return d, err
	}
	for _, p := range problems {
		a.log().Error("outbox entry quarantined", "file", p.File, "moved_to", p.MovedTo, "error", p.Err.Error())
	}
	stop := false
	for _, e := range entries {
		if e.State != outbox.StatePending {
			continue
		}
		now := a.now()
		if stop || e.NextRetry.After(now) {
			d.Pending++
			if d.NextRetry.IsZero() || e.NextRetry.Before(d.NextRetry) {
				d.NextRetry = e.NextRetry
			}
			continue
		}
		res := a.Sender.Send(ctx, e.Key, []byte(e.Body))
		if ctx.Err() != nil {
			return d, ctx.Err()
		}
		e.Attempts++
		e.LastStatus = res.Status
		log := a.log().With("key", e.Key, "period", e.Period, "revision", e.Revision, "final", e.Final,
			"attempt", e.Attempts, "status", res.Status, "outcome", res.Outcome.String())
		switch res.Outcome {
		case sender.Acked:
			e.State, e.AckedAt, e.Receipt, e.LastError, e.NextRetry = outbox.StateAcked, now.UTC(), res.Receipt, "", time.Time{}
			d.Acked++
			log.Info("report delivered", "total", e.Total, "total_cents", e.TotalCents)
		case sender.Parked:
			e.State, e.LastError, e.NextRetry = outbox.StateParked, res.Err.Error(), time.Time{}
			d.Parked++
			log.Error("report refused; parked, not retried", "error", e.LastError,
				"advice", "fix the cause (token, endpoint, deployment_id), then run calctl report to send a new revision")
		default:
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
	}
	return d, nil
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
