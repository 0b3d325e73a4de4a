package contract

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// EventType says what happened. Views switch on it.
type EventType string

// The event types the engine emits, in the order a run produces them.
const (
	EventPlan      EventType = "plan"       // the list of steps about to run
	EventStepStart EventType = "step_start" // a step begins
	EventProgress  EventType = "progress"   // a step reports progress (Percent, Message)
	EventLog       EventType = "log"        // a step says something (Level, Message)
	EventChange    EventType = "change"     // a file that would change / did change (Path, Diff in dry-run)
	EventStepSkip  EventType = "step_skip"  // a step had nothing to do (Message says why)
	EventStepDone  EventType = "step_done"  // a step finished (DurationMS)
	EventStepFail  EventType = "step_fail"  // a step failed (Error, Remedy, DurationMS)
	EventDone      EventType = "done"       // the run ended (Error set when it failed)
)

// Event is one thing the engine reports. It is plain data, serialisable as
// JSON, so the text view, the JSON-lines view and the TUI draw the same run.
type Event struct {
	// Time is when the engine emitted it (UTC).
	Time time.Time `json:"time"`
	// Type says what happened; it decides which other fields are set.
	Type EventType `json:"type"`
	// Step is the name of the step the event belongs to (contract.Step*).
	Step  string   `json:"step,omitempty"`
	Index int      `json:"index,omitempty"` // 1-based position of Step in the plan
	Total int      `json:"total,omitempty"` // number of steps in the plan
	Steps []string `json:"steps,omitempty"` // EventPlan only
	Level string   `json:"level,omitempty"` // info, warn, error (EventLog)
	// Message is the human text: a log line, progress, a skip's reason, or
	// the done event's summary. It never holds a URL's password.
	Message string `json:"message,omitempty"`
	// Percent is a step's progress, 0 to 100 (EventProgress; 0: unknown).
	Percent int    `json:"percent,omitempty"`
	Path    string `json:"path,omitempty"`   // EventChange
	Action  string `json:"action,omitempty"` // EventChange: create, update, unchanged
	Diff    string `json:"diff,omitempty"`   // EventChange in dry-run, secrets masked
	// DurationMS is how long the step took (EventStepDone, EventStepFail).
	DurationMS int64 `json:"duration_ms,omitempty"`
	// Error is the failure (EventStepFail, and EventDone when the run failed).
	Error string `json:"error,omitempty"`
	// Remedy says what to do about Error or a logged problem.
	Remedy string `json:"remedy,omitempty"`
	// Finding is set on the EventLog of a preflight finding: the same
	// finding as data, so a view need not parse Message.
	Finding *Finding `json:"finding,omitempty"`
	// Check is set on the EventLog of the check step: its summary and top
	// findings as data.
	Check *CheckSummary `json:"check,omitempty"`
}

// Sink receives events. Sinks are called from the engine's goroutine, one
// event at a time.
type Sink func(Event)

// Tee sends each event to every sink.
func Tee(sinks ...Sink) Sink {
	return func(e Event) {
		for _, s := range sinks {
			if s != nil {
				s(e)
			}
		}
	}
}

// JSONView writes one JSON object per event (JSON lines) to w.
func JSONView(w io.Writer) Sink {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(e)
	}
}

// TextView writes a human-readable line per event to w.
func TextView(w io.Writer) Sink {
	var mu sync.Mutex
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		pos := ""
		if e.Total > 0 {
			pos = fmt.Sprintf("[%d/%d] ", e.Index, e.Total)
		}
		switch e.Type {
		case EventPlan:
			fmt.Fprintf(w, "plan: %s\n", strings.Join(e.Steps, " → "))
		case EventStepStart:
			fmt.Fprintf(w, "%s%s …\n", pos, e.Step)
		case EventProgress:
			if e.Percent > 0 {
				fmt.Fprintf(w, "    %s: %3d%% %s\n", e.Step, e.Percent, e.Message)
			} else {
				fmt.Fprintf(w, "    %s: %s\n", e.Step, e.Message)
			}
		case EventLog:
			lvl := ""
			if e.Level != "" && e.Level != "info" {
				lvl = strings.ToUpper(e.Level) + ": "
			}
			for _, l := range strings.Split(strings.TrimRight(e.Message, "\n"), "\n") {
				fmt.Fprintf(w, "    %s%s\n", lvl, l)
			}
			if e.Remedy != "" {
				fmt.Fprintf(w, "      fix: %s\n", e.Remedy)
			}
		case EventChange:
			fmt.Fprintf(w, "    %-9s %s\n", e.Action, e.Path)
			if e.Diff != "" {
				for _, l := range strings.Split(strings.TrimRight(e.Diff, "\n"), "\n") {
					fmt.Fprintf(w, "      %s\n", l)
				}
			}
		case EventStepSkip:
			fmt.Fprintf(w, "%s%s: skipped (%s)\n", pos, e.Step, e.Message)
		case EventStepDone:
			fmt.Fprintf(w, "%s%s: done in %s\n", pos, e.Step, time.Duration(e.DurationMS)*time.Millisecond)
		case EventStepFail:
			fmt.Fprintf(w, "%s%s: FAILED after %s\n    error: %s\n", pos, e.Step, time.Duration(e.DurationMS)*time.Millisecond, e.Error)
			if e.Remedy != "" {
				fmt.Fprintf(w, "    fix:   %s\n", e.Remedy)
			}
		case EventDone:
			if e.Error != "" {
				fmt.Fprintf(w, "install stopped: %s\n", e.Message)
			} else if e.Message != "" {
				fmt.Fprintln(w, e.Message)
			}
		}
	}
}
