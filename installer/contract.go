package installer

import (
	"fmt"

	"github.com/calctl/calctl/installer/contract"
)

// The installer's names for the contract types (installer/contract), so that
// the steps read as before the contract moved out. They are aliases: the
// same types, not copies. Code outside this package uses contract directly.
type (
	Answers      = contract.Answers
	Source       = contract.Source
	Database     = contract.Database
	Email        = contract.Email
	Billing      = contract.Billing
	Web          = contract.Web
	API          = contract.API
	Images       = contract.Images
	PM2          = contract.PM2
	Migrate      = contract.Migrate
	Start        = contract.Start
	Problem      = contract.Problem
	AnswersError = contract.AnswersError
	EnvSecrets   = contract.EnvSecrets
	Event        = contract.Event
	EventType    = contract.EventType
	Sink         = contract.Sink
	Change       = contract.Change
	StepError    = contract.StepError
	StepFailure  = contract.StepFailure
)

// Answer values and event types, as named in installer/contract.
const (
	TargetCompose = contract.TargetCompose
	TargetPM2     = contract.TargetPM2
	DBBundled     = contract.DBBundled
	DBExternal    = contract.DBExternal
	DBRDS         = contract.DBRDS
	ProxyCaddy    = contract.ProxyCaddy
	ProxyNone     = contract.ProxyNone

	EventPlan      = contract.EventPlan
	EventStepStart = contract.EventStepStart
	EventProgress  = contract.EventProgress
	EventLog       = contract.EventLog
	EventChange    = contract.EventChange
	EventStepSkip  = contract.EventStepSkip
	EventStepDone  = contract.EventStepDone
	EventStepFail  = contract.EventStepFail
	EventDone      = contract.EventDone
)

// WithRemedy is contract.WithRemedy: err with a remedy for the user.
func WithRemedy(err error, format string, a ...any) error {
	return contract.WithRemedy(err, "%s", fmt.Sprintf(format, a...))
}

// RemedyOf is contract.RemedyOf: the remedy attached to err, if any.
func RemedyOf(err error) string { return contract.RemedyOf(err) }
