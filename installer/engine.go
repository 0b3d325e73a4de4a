package installer

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Step is one idempotent part of an install.
type Step interface {
	// Name is the step's stable name (preflight, clone, render, ...).
	Name() string
	// Run does the step's work, reporting through s.
	Run(ctx context.Context, s *State) error
}

// Change is one thing a step would change; --dry-run prints them.
type Change struct {
	Path   string
	Action string // create, update, unchanged, run
	Diff   string // secrets masked
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

// StepError is a step failure with a remedy: what the user should do.
type StepError struct {
	Err    error
	Remedy string
}

func (e *StepError) Error() string { return e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// WithRemedy wraps err with a remedy for the user.
func WithRemedy(err error, format string, a ...any) error {
	if err == nil {
		return nil
	}
	return &StepError{Err: err, Remedy: fmt.Sprintf(format, a...)}
}

// RemedyOf returns the remedy attached to err, if any.
func RemedyOf(err error) string {
	var se *StepError
	if errors.As(err, &se) {
		return se.Remedy
	}
	var ae *AnswersError
	if errors.As(err, &ae) {
		return "fix the answers listed above (see docs/answers.md or `calctl install --print-answers`)"
	}
	return ""
}

// StepFailure is the error Engine.Run returns when a step fails; the
// failure and its remedy have already been reported as events.
type StepFailure struct {
	Step string
	Err  error
}

func (f *StepFailure) Error() string { return f.Step + ": " + f.Err.Error() }
func (f *StepFailure) Unwrap() error { return f.Err }

// Engine runs a plan and reports events to Sink.
type Engine struct {
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

func (e *Engine) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.now().UTC()
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
