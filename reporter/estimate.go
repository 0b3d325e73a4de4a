package reporter

// Plan terms, in integer cents (usage-protocol.md, "The plan").
const (
	// BaseCents is the monthly price, charged whatever the usage.
	BaseCents = 18900
	// IncludedBookings is how many bookings the base price covers.
	IncludedBookings = 500
	// UnitCents is the price of each booking after the included ones.
	UnitCents = 5
	// Currency is the plan's currency.
	Currency = "USD"
)

// Estimate is the money for one month, in integer cents.
type Estimate struct {
	BaseCents       int64  `json:"base_cents"`
	Included        int64  `json:"included"`
	OverageBookings int64  `json:"overage_bookings"`
	UnitCents       int64  `json:"unit_cents"`
	OverageCents    int64  `json:"overage_cents"`
	TotalCents      int64  `json:"total_cents"`
	Currency        string `json:"currency"`
}

// EstimateFor computes total_cents = 18900 + 5 * max(0, bookings - 500) for a
// live month. A month that is not live (it ended before live_since) costs 0:
// every money field is 0 while included and unit_cents still state the terms.
func EstimateFor(bookings int64, live bool) Estimate {
	e := Estimate{Included: IncludedBookings, UnitCents: UnitCents, Currency: Currency}
	if !live {
		return e
	}
	e.BaseCents = BaseCents
	if bookings > IncludedBookings {
		e.OverageBookings = bookings - IncludedBookings
	}
	e.OverageCents = e.OverageBookings * UnitCents
	e.TotalCents = e.BaseCents + e.OverageCents
	return e
}
