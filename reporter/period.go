package reporter

import (
	"fmt"
	"time"
)

// Period is one UTC calendar month, the unit the plan bills.
type Period struct {
	// Year is the calendar year (0: unset, see IsZero).
	Year int
	// Month is the calendar month, January = 1.
	Month time.Month
}

// PeriodOf returns the UTC month holding t.
func PeriodOf(t time.Time) Period {
	t = t.UTC()
	return Period{Year: t.Year(), Month: t.Month()}
}

// ParsePeriod parses "YYYY-MM".
func ParsePeriod(s string) (Period, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return Period{}, fmt.Errorf("period %q: want YYYY-MM, e.g. 2026-10", s)
	}
	return Period{Year: t.Year(), Month: t.Month()}, nil
}

// String returns "YYYY-MM".
func (p Period) String() string { return fmt.Sprintf("%04d-%02d", p.Year, int(p.Month)) }

// Start is the first instant of the month (UTC).
func (p Period) Start() time.Time { return time.Date(p.Year, p.Month, 1, 0, 0, 0, 0, time.UTC) }

// End is the first instant of the next month (UTC); the period is [Start, End).
func (p Period) End() time.Time { return p.Start().AddDate(0, 1, 0) }

// Next returns the following month.
func (p Period) Next() Period { return PeriodOf(p.End()) }

// Prev returns the preceding month.
func (p Period) Prev() Period { return PeriodOf(p.Start().AddDate(0, -1, 0)) }

// Before reports whether p is earlier than q.
func (p Period) Before(q Period) bool { return p.Start().Before(q.Start()) }

// IsZero reports whether p is unset.
func (p Period) IsZero() bool { return p.Year == 0 }
