package config

import (
	"github.com/calctl/calctl/checks"
)

// processorKeys are variables that turn on an outside processor of data.
var processorKeys = map[string]string{
	"NEXT_PUBLIC_INTERCOM_APP_ID": "Intercom",
	"NEXT_PUBLIC_ZENDESK_KEY":     "Zendesk",
	"NEXT_PUBLIC_HELPSCOUT_KEY":   "HelpScout",
	"NEXT_PUBLIC_SENTRY_DSN":      "Sentry",
	"SENTRY_DSN":                  "Sentry",
	"AXIOM_TOKEN":                 "Axiom",
	"NEXT_PUBLIC_POSTHOG_KEY":     "PostHog",
	"SENDGRID_API_KEY":            "SendGrid",
	"TWILIO_SID":                  "Twilio",
	"TWILIO_TOKEN":                "Twilio",
}

// Telemetry is CF-008: telemetry off and third-party processors listed.
var Telemetry = checks.New(checks.Meta{
	ID: "CF-008", Title: "Telemetry and third-party processors", Severity: checks.Medium, Needs: needFiles,
	Remediation: "Set CALCOM_TELEMETRY_DISABLED=1 and NEXT_TELEMETRY_DISABLED=1; remove each processor or cover it with a BAA (then waive this result with the BAA as reason).",
}, func(f *checks.Facts) []checks.Finding {
	var out []checks.Finding
	var is checks.Issues
	for _, k := range []string{"CALCOM_TELEMETRY_DISABLED", "NEXT_TELEMETRY_DISABLED"} {
		if !checks.Truthy(f.EnvValue(k)) {
			is.Add(checks.Warn, "%s is not set to 1", k)
		}
	}
	out = append(out, is.Finding("telemetry", "telemetry is disabled", nil))
	for _, k := range checks.SortedKeys(processorKeys) {
		if v, ok := f.Env(k); ok && v.Len > 0 {
			out = append(out, checks.Finding{Status: checks.Warn, Resource: k, Location: v.Loc(),
				Message: processorKeys[k] + " is configured: booking data may reach it; confirm a BAA covers it"})
		}
	}
	return out
})
