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

// runState is state_dir/agent.json: when the last counting cycle ran.
type runState struct {
	LastCycle time.Time `json:"last_cycle"`
}

func (a *Agent) loadRunState() runState {
	var s runState
	b, err := os.ReadFile(filepath.Join(a.StateDir, "agent.json"))
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
// when their backoff ends. It returns nil when ctx is cancelled
// (SIGTERM/SIGINT); anything in flight is abandoned safely, since the
// outbox already holds it.
func (a *Agent) Run(ctx context.Context) error {
	if a.Interval <= 0 {
		return errors.New("interval must be positive")
	}
	if err := os.MkdirAll(a.StateDir, 0o700); err != nil {
		return err
	}
	offset := Offset(a.DeploymentID, a.Interval)
	st := a.loadRunState()
	var due time.Time // zero: count now
	if !st.LastCycle.IsZero() {
		due = NextSlot(st.LastCycle, a.Interval, offset)
	}
	a.log().Info("agent started", "deployment_id", a.DeploymentID, "interval", a.Interval.String(),
		"offset", offset.Round(time.Second).String(), "grace", a.Grace.String(), "state_dir", a.StateDir)
	for {
		now := a.now()
		var d Delivery
		var err error
		if !now.Before(due) {
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
		} else {
			d, err = a.Deliver(ctx)
		}
		if ctx.Err() != nil {
			a.log().Info("agent stopping")
			return nil
		}
		if err != nil && !errors.Is(err, ErrCountFailed) {
			a.log().Error("delivery failed", "error", err.Error())
		}
		// The agent idles for hours between cycles: hand the memory of the
		// last one back to the OS instead of holding it as RSS.
		debug.FreeOSMemory()
		wake := due
		if !d.NextRetry.IsZero() && d.NextRetry.Before(wake) {
			wake = d.NextRetry
		}
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
