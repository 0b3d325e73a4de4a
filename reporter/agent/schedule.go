package agent

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/safefile"
)

// Offset spreads deployments over the interval: the agent's runs fall at
// Unix times t with t mod interval == Offset, so that thousands of agents
// with the same interval do not all report at the same instant.
func Offset(deploymentID string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(deploymentID))
	return time.Duration(h.Sum64() % uint64(interval))
}

// NextSlot returns the first scheduled run strictly after t.
func NextSlot(t time.Time, interval, offset time.Duration) time.Time {
	ns := t.UnixNano() - int64(offset)
	k := ns / int64(interval)
	if ns < 0 && ns%int64(interval) != 0 {
		k--
	}
	return time.Unix(0, (k+1)*int64(interval)+int64(offset))
}

// runState is state_dir/agent.json: when the last counting cycle ran and
// when parked reports were last retried by the daily rule.
type runState struct {
	LastCycle       time.Time `json:"last_cycle"`
	LastParkedRetry time.Time `json:"last_parked_retry,omitzero"`
}

// ParkedRetryEvery is how often the agent retries parked reports even when
// nothing changed (usage-protocol.md: "once a day").
const ParkedRetryEvery = 24 * time.Hour

// DefaultWatchInterval is how often Run looks at the credential files.
const DefaultWatchInterval = 5 * time.Second

func (a *Agent) loadRunState() runState {
	var s runState
	b, err := safefile.Read(filepath.Join(a.StateDir, "agent.json"), 1<<20, safefile.Options{NoFollow: true})
	if err == nil {
		_ = json.Unmarshal(b, &s)
	}
	return s
}

func (a *Agent) saveRunState(s runState) error {
	b, _ := json.Marshal(s)
	return atomicfile.WriteFile(filepath.Join(a.StateDir, "agent.json"), append(b, '\n'), 0o600)
}

// ErrCountFailed means a cycle could not count (the database was down or
// refused); queued reports were still delivered.
var ErrCountFailed = errors.New("counting failed; queued reports were still delivered")

// CountRetry is how soon the agent tries again after a failed count.
const CountRetry = 5 * time.Minute

// Cycle counts the due periods, enqueues changes and makes one delivery pass.
func (a *Agent) Cycle(ctx context.Context) (Delivery, error) {
	_, cerr := a.Count(ctx, CountOptions{})
	if cerr != nil && ctx.Err() == nil {
		// Delivery of what is already queued does not need the database.
		a.log().Error("counting failed", "error", cerr.Error())
	}
	d, derr := a.Deliver(ctx)
	if derr != nil {
		return d, derr
	}
	if cerr != nil {
		return d, ErrCountFailed
	}
	return d, nil
}

// Run is the agent: at start it delivers what is queued and counts if the
// last count is older than the interval; then it counts at each scheduled
// slot (or CountRetry after a failed count) and retries pending reports
// when their backoff ends. Parked reports are retried when the endpoint or
// the token or signing-secret file changes (also while the agent was
// stopped: the change is noticed at start) and once a day. It returns nil
// when ctx is cancelled (SIGTERM/SIGINT); anything in flight is abandoned
// safely, since the outbox already holds it.
func (a *Agent) Run(ctx context.Context) error {
	if a.Interval <= 0 {
		return errors.New("interval must be positive")
	}
	if err := os.MkdirAll(a.StateDir, 0o700); err != nil {
		return err
	}
	watch := a.WatchInterval
	if watch <= 0 {
		watch = DefaultWatchInterval
	}
	offset := Offset(a.DeploymentID, a.Interval)
	st := a.loadRunState()
	var due time.Time // zero: count now
	if !st.LastCycle.IsZero() {
		due = NextSlot(st.LastCycle, a.Interval, offset)
	}
	a.log().Info("agent started", "deployment_id", a.DeploymentID, "interval", a.Interval.String(),
		"offset", offset.Round(time.Second).String(), "grace", a.Grace.String(), "state_dir", a.StateDir)
	fp := a.fingerprint()
	if n, err := a.retryParked(ctx, false, "the endpoint or credential files changed since it was parked"); err != nil {
		a.log().Error("retry parked reports", "error", err.Error())
	} else if n > 0 {
		a.log().Info("parked reports requeued at start", "count", n)
	}
	var nextRetry time.Time
	for {
		now := a.now()
		deliver := !nextRetry.IsZero() && !now.Before(nextRetry)
		if cur := a.fingerprint(); cur != fp {
			fp = cur
			if err := a.reloadCredentials(); err != nil {
				a.log().Error("credential files changed but cannot be read; keeping the old ones", "error", err.Error())
			} else {
				n, err := a.retryParked(ctx, false, "credential files changed")
				if err != nil {
					a.log().Error("retry parked reports", "error", err.Error())
				}
				a.log().Info("credential files changed; reloaded", "parked_requeued", n)
				deliver = deliver || n > 0
			}
		}
		if now.Sub(st.LastParkedRetry) >= ParkedRetryEvery {
			n, err := a.retryParked(ctx, true, "daily retry of parked reports")
			if err != nil {
				a.log().Error("retry parked reports", "error", err.Error())
			} else {
				st.LastParkedRetry = now
				if serr := a.saveRunState(st); serr != nil {
					a.log().Error("save agent state", "error", serr.Error())
				}
				if n > 0 {
					a.log().Info("daily retry of parked reports", "count", n)
					deliver = true
				}
			}
		}
		var d Delivery
		var err error
		ran := false
		if !now.Before(due) {
			ran = true
			d, err = a.Cycle(ctx)
			if ctx.Err() != nil {
				a.log().Info("agent stopping")
				return nil
			}
			if errors.Is(err, ErrCountFailed) {
				due = now.Add(min(a.Interval, CountRetry))
			} else {
				st.LastCycle, due = now, NextSlot(now, a.Interval, offset)
				if serr := a.saveRunState(st); serr != nil {
					a.log().Error("save agent state", "error", serr.Error())
				}
			}
		} else if deliver || nextRetry.IsZero() {
			ran = true
			d, err = a.Deliver(ctx)
		}
		if ctx.Err() != nil {
			a.log().Info("agent stopping")
			return nil
		}
		if err != nil && !errors.Is(err, ErrCountFailed) {
			a.log().Error("delivery failed", "error", err.Error())
		}
		if ran {
			nextRetry = d.NextRetry
			if nextRetry.IsZero() {
				nextRetry = due // nothing pending: the next cycle delivers
			}
			// The agent idles for hours between cycles: hand the memory of
			// the last one back to the OS instead of holding it as RSS.
			debug.FreeOSMemory()
		}
		wake := earliest(due, nextRetry, a.now().Add(watch))
		timer := time.NewTimer(max(time.Until(wake), 10*time.Millisecond))
		select {
		case <-ctx.Done():
			timer.Stop()
			a.log().Info("agent stopping")
			return nil
		case <-timer.C:
		}
	}
}

// earliest returns the earliest of ts.
func earliest(ts ...time.Time) time.Time {
	e := ts[0]
	for _, t := range ts[1:] {
		if t.Before(e) {
			e = t
		}
	}
	return e
}
