package contract

import (
	"errors"
	"fmt"
)

// StepError is a step failure with a remedy: what the user should do.
type StepError struct {
	// Err is the failure itself.
	Err error
	// Remedy is one sentence saying what to do about it.
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
	// Step is the name of the step that failed.
	Step string
	// Err is the step's error.
	Err error
}

func (f *StepFailure) Error() string { return f.Step + ": " + f.Err.Error() }
func (f *StepFailure) Unwrap() error { return f.Err }
