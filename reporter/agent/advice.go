package agent

import (
	"fmt"
	"strings"

	"github.com/calctl/calctl/reporter/outbox"
)

// Commands spells the calctl commands that fix a reporting state for this
// deployment, so that advice in logs, `report`, `report status` and
// `doctor` can be run as printed.
type Commands struct {
	// Flags are appended to every command, e.g. "--config /etc/calctl/agent.yaml"
	// (empty when the defaults apply).
	Flags string
	// TokenSource says where the token is read from: its file, or the
	// environment variable ("$CALCTL_TOKEN").
	TokenSource string
}

func (c Commands) cmd(s string) string {
	if c.Flags != "" {
		s += " " + c.Flags
	}
	return "calctl " + s
}

// Retry is the command that sends a period's parked or waiting report now.
func (c Commands) Retry(period string) string { return c.cmd("report retry --period " + period) }

// RetryAll is the command that sends every parked or waiting report now.
func (c Commands) RetryAll() string { return c.cmd("report retry") }

// Report is the command that counts a period and sends what changed.
func (c Commands) Report(period string) string { return c.cmd("report --period " + period) }

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Fix returns what to do about a period's state, ending in the command that
// fixes it; "" when nothing is needed.
func (c Commands) Fix(ps outbox.PeriodStatus) string {
	switch ps.State {
	case outbox.StateParked:
		retry := c.Retry(ps.Period)
		switch ps.LastStatus {
		case 401, 403:
			src := c.TokenSource
			if src == "" {
				src = "token_file"
			}
			return fmt.Sprintf("the endpoint refused the credentials (%d): put the token billing issued for this deployment into %s (and check signing_secret_file); a running agent retries within seconds of the change; or run: %s", ps.LastStatus, src, retry)
		case 404:
			return fmt.Sprintf("the endpoint answered 404: check endpoint and deployment_id in the config, then run: %s", retry)
		default:
			return fmt.Sprintf("the endpoint refused the report (%d); once the cause is fixed run: %s (if it is refused again, send the output of `calctl report status -o json` to billing support)", ps.LastStatus, retry)
		}
	case outbox.StatePending:
		return "waiting for a retry (the agent sends it by itself); to send it now run: " + c.Retry(ps.Period)
	}
	if b := ps.Billing; b != nil && b.Found && !b.AdoptedFinal && ps.Revision > 0 && b.LatestRevision >= ps.Revision && b.Total != ps.Total {
		return fmt.Sprintf("billing holds revision %d with total %d, not this state dir's %d: run: %s", b.LatestRevision, b.Total, ps.Total, c.Report(ps.Period))
	}
	if b := ps.Billing; b != nil && b.Found && ps.Revision == 0 && !b.AdoptedFinal {
		return fmt.Sprintf("billing holds revision %d (total %d) this state dir has not checked against the database: run: %s", b.LatestRevision, b.Total, c.Report(ps.Period))
	}
	return ""
}
