// Package installer is calctl's install engine: the plan of steps built
// from the answers, the engine that runs a plan, and the steps themselves,
// one per file (step_*.go). The order of a plan lives in one slice in
// plan.go. The types the engine shares with its views and the wizard
// (answers, events, errors, step names) live in installer/contract;
// contract.go gives them their installer names.
package installer

import (
	"context"
	"fmt"
	"time"

	"github.com/calctl/calctl/internal/redact"
)

// Step is one idempotent part of an install.
type Step interface {
	// Name is the step's stable name (preflight, clone, render, ...).
	Name() string
	// Run does the step's work, reporting through s.
	Run(ctx context.Context, s *State) error
}

// Planner is a Step that can say what it would change without changing it.
type Planner interface {
	Plan(s *State) []Change
}

// Skipper is a Step that can decide it has nothing to do.
type Skipper interface {
	Skip(s *State) (bool, string)
}

// Timeouter is a Step with its own time limit.
type Timeouter interface {
	Timeout(s *State) time.Duration
}

// Engine runs a plan and reports events to Sink.
type Engine struct {
	// Sink receives every event of the run (step start/end, logs,
	// progress); nil drops them.
	Sink Sink
	// Now is the clock (tests fix it); nil means time.Now.
	Now func() time.Time
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// emit stamps ev and hands it to the sink. Every event leaves with URL
// credentials removed (internal/redact), whichever step or command wrote
// it, so no view can print one.
func (e *Engine) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.now().UTC()
	}
	ev.Message, ev.Error, ev.Remedy, ev.Diff, ev.Path = redact.URL(ev.Message), redact.URL(ev.Error), redact.URL(ev.Remedy), redact.URL(ev.Diff), redact.URL(ev.Path)
	if f := ev.Finding; f != nil {
		c := *f
		c.Message, c.Remedy = redact.URL(c.Message), redact.URL(c.Remedy)
		ev.Finding = &c
	}
	if e.Sink != nil {
		e.Sink(ev)
	}
}

// Run runs the steps in order and stops at the first failure, which it
// returns wrapped with the step's name. Every step start, skip, end and
// failure is an Event.
func (e *Engine) Run(ctx context.Context, plan []Step, s *State) error {
	names := make([]string, len(plan))
	for i, st := range plan {
		names[i] = st.Name()
	}
	e.emit(Event{Type: EventPlan, Steps: names, Total: len(plan)})
	for i, st := range plan {
		if err := ctx.Err(); err != nil {
			e.emit(Event{Type: EventDone, Error: err.Error(), Message: "interrupted before " + st.Name()})
			return err
		}
		base := Event{Step: st.Name(), Index: i + 1, Total: len(plan)}
		s.emit = func(ev Event) {
			ev.Step, ev.Index, ev.Total = base.Step, base.Index, base.Total
			e.emit(ev)
		}
		if sk, ok := st.(Skipper); ok {
			if skip, why := sk.Skip(s); skip {
				ev := base
				ev.Type, ev.Message = EventStepSkip, why
				e.emit(ev)
				continue
			}
		}
		ev := base
		ev.Type = EventStepStart
		e.emit(ev)
		start := e.now()
		sctx, cancel := ctx, context.CancelFunc(func() {})
		if to, ok := st.(Timeouter); ok {
			if d := to.Timeout(s); d > 0 {
				sctx, cancel = context.WithTimeout(ctx, d)
			}
		}
		err := st.Run(sctx, s)
		cancel()
		dur := e.now().Sub(start).Milliseconds()
		if err != nil {
			ev := base
			ev.Type, ev.Error, ev.Remedy, ev.DurationMS = EventStepFail, err.Error(), RemedyOf(err), dur
			e.emit(ev)
			e.emit(Event{Type: EventDone, Error: err.Error(), Message: fmt.Sprintf("step %s failed", st.Name())})
			return &StepFailure{Step: st.Name(), Err: err}
		}
		ev = base
		ev.Type, ev.DurationMS = EventStepDone, dur
		e.emit(ev)
	}
	s.emit = nil
	e.emit(Event{Type: EventDone, Message: s.doneMessage})
	return nil
}
