package reporter

import "testing"

func TestEstimateFor(t *testing.T) {
	tests := []struct {
		name           string
		bookings       int64
		live           bool
		overage, total int64
	}{
		{"none is still charged", 0, true, 0, 18900},
		{"500 included", 500, true, 0, 18900},
		{"501st costs 5 cents", 501, true, 1, 18905},
		{"502", 502, true, 2, 18910},
		{"plan example 1234", 1234, true, 734, 22570},
		{"not live costs nothing", 1234, false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := EstimateFor(tt.bookings, tt.live)
			if e.OverageBookings != tt.overage || e.TotalCents != tt.total || e.Currency != "USD" || e.UnitCents != 5 || e.Included != 500 {
				t.Fatalf("EstimateFor(%d, %v) = %+v, want overage %d total %d", tt.bookings, tt.live, e, tt.overage, tt.total)
			}
			if e.TotalCents != e.BaseCents+e.OverageCents {
				t.Fatalf("total %d != base %d + overage %d", e.TotalCents, e.BaseCents, e.OverageCents)
			}
		})
	}
}

func TestPeriod(t *testing.T) {
	p, err := ParsePeriod("2026-12")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.End().Format("2006-01-02T15:04:05Z07:00"); got != "2027-01-01T00:00:00Z" {
		t.Fatalf("End = %s", got)
	}
	if p.Next().String() != "2027-01" || p.Prev().String() != "2026-11" {
		t.Fatalf("Next/Prev = %s/%s", p.Next(), p.Prev())
	}
	for _, bad := range []string{"2026-13", "2026-1", "26-10", "2026/10", ""} {
		if _, err := ParsePeriod(bad); err == nil {
			t.Errorf("ParsePeriod(%q) accepted", bad)
		}
	}
}
