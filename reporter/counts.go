package reporter

// KnownStatuses are Cal.com's BookingStatus values as stored (lowercase).
// by_status always carries each of them, 0 when absent.
var KnownStatuses = []string{"accepted", "cancelled", "pending", "rejected", "awaiting_host"}

// Counts is the billable count of one month and its informative breakdown.
type Counts struct {
	// Total is what is billed: every row created in the month, any status.
	Total int64 `json:"total"`
	// ByStatus counts rows per stored status value.
	ByStatus map[string]int64 `json:"by_status"`
	// Reschedules counts rows with a non-null "fromReschedule".
	Reschedules int64 `json:"reschedules"`
}

// NewCounts returns zero counts with every known status present.
func NewCounts() Counts {
	c := Counts{ByStatus: make(map[string]int64, len(KnownStatuses))}
	for _, s := range KnownStatuses {
		c.ByStatus[s] = 0
	}
	return c
}

// Add returns c + d.
func (c Counts) Add(d Counts) Counts {
	out := NewCounts()
	out.Total = c.Total + d.Total
	out.Reschedules = c.Reschedules + d.Reschedules
	for k, v := range c.ByStatus {
		out.ByStatus[k] += v
	}
	for k, v := range d.ByStatus {
		out.ByStatus[k] += v
	}
	return out
}

// Equal reports whether c and d hold the same numbers.
func (c Counts) Equal(d Counts) bool {
	if c.Total != d.Total || c.Reschedules != d.Reschedules {
		return false
	}
	for k, v := range c.ByStatus {
		if d.ByStatus[k] != v {
			return false
		}
	}
	for k, v := range d.ByStatus {
		if c.ByStatus[k] != v {
			return false
		}
	}
	return true
}
