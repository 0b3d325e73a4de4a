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
	// BaseCents is the monthly base price (18900) for a live month, 0
	// otherwise.
	BaseCents int64 `json:"base_cents"`
	// Included is the bookings the base price covers (500), stated even
	// for a month that is not live.
	Included int64 `json:"included"`
	// OverageBookings is max(0, bookings - Included) for a live month.
	OverageBookings int64 `json:"overage_bookings"`
	// UnitCents is the price of each overage booking (5), always stated.
	UnitCents int64 `json:"unit_cents"`
	// OverageCents is OverageBookings × UnitCents.
	OverageCents int64 `json:"overage_cents"`
	// TotalCents is BaseCents + OverageCents: what the month costs.
	TotalCents int64 `json:"total_cents"`
	// Currency is the ISO 4217 code of every amount ("USD").
	Currency string `json:"currency"`
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
