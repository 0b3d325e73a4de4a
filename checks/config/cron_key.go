package config

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// CronKey is CF-011: CRON_API_KEY (or CRON_SECRET) is set to a strong value.
// Cal.com's cron routes compare the request's apiKey with
// process.env.CRON_API_KEY (or the Bearer token with CRON_SECRET); with both
// unset they compare against undefined, so a request without a key passes
// (cal.com@04338a8:apps/web/pages/api/cron/bookingReminder.ts;
// calcom-facts.md §9). Those routes send reminders with attendee data.
var CronKey = checks.New(checks.Meta{
	ID: "CF-011", Title: "CRON_API_KEY set", Severity: checks.High, Needs: needFiles,
	Remediation: "Set CRON_API_KEY to a random value (`openssl rand -hex 32`) and pass it from the scheduler that calls /api/cron/*.",
}, func(f *checks.Facts) []checks.Finding {
	key, ok := f.Env("CRON_API_KEY")
	sec, okSec := f.Env("CRON_SECRET")
	switch {
	case (!ok || key.Len == 0) && (!okSec || sec.Len == 0):
		return []checks.Finding{{Status: checks.Fail, Resource: "CRON_API_KEY",
			Message: "neither CRON_API_KEY nor CRON_SECRET is set: Cal.com's cron routes then accept requests without a key"}}
	case !ok || key.Len == 0:
		key = sec
	}
	ev := checks.Ev("length", fmt.Sprint(key.Len), "entropy_bits", fmt.Sprint(key.Entropy), "sha256_8", key.Digest)
	r := checks.Finding{Resource: "CRON_API_KEY", Evidence: ev, Location: key.Loc()}
	switch {
	case key.Default:
		r.Status, r.Message = checks.Fail, "the cron key is a published example or placeholder"
	case key.Len < 24 || key.Entropy < 96:
		r.Status, r.Message = checks.Warn, fmt.Sprintf("the cron key is weak (%d characters, ~%.0f bits)", key.Len, key.Entropy)
	default:
		r.Status, r.Message = checks.Pass, fmt.Sprintf("the cron key is set (%d characters, ~%.0f bits)", key.Len, key.Entropy)
	}
	return []checks.Finding{r}
})
