package net

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// TimeSync is NET-006: the clock is synchronised (audit timestamps).
var TimeSync = checks.New(checks.Meta{
	ID: "NET-006", Title: "Time synchronisation", Severity: checks.Medium, Needs: needHost,
	Remediation: "Run chrony or systemd-timesyncd.",
}, func(f *checks.Facts) []checks.Finding {
	h := f.Host
	ev := checks.Ev("max_error_us", fmt.Sprint(h.TimeMaxErrorUS))
	switch {
	case h.TimeSynced == nil:
		return []checks.Finding{{Status: checks.Skip, Resource: "clock", Message: "clock state unknown: " + h.TimeError}}
	case !*h.TimeSynced:
		return []checks.Finding{{Status: checks.Fail, Resource: "clock", Evidence: ev, Message: "the kernel clock is not synchronised"}}
	case h.TimeMaxErrorUS >= 1_000_000:
		return []checks.Finding{{Status: checks.Warn, Resource: "clock", Evidence: ev, Message: fmt.Sprintf("clock max error is %.1fs", float64(h.TimeMaxErrorUS)/1e6)}}
	}
	return []checks.Finding{{Status: checks.Pass, Resource: "clock", Evidence: ev, Message: "clock synchronised"}}
})
