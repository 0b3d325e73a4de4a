package reporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/testenv"
)

// TestReportMarshalGolden pins the exact wire bytes of the contract's example.
func TestReportMarshalGolden(t *testing.T) {
	c := NewCounts()
	c.Total = 1234
	c.ByStatus = map[string]int64{"accepted": 1100, "cancelled": 120, "pending": 10, "rejected": 4, "awaiting_host": 0}
	c.Reschedules = 87
	p, _ := ParsePeriod("2026-10")
	r := NewReport("dep_123", 3, Snapshot{Period: p, Counts: c, Live: true,
		GeneratedAt: time.Date(2026, 10, 17, 4, 0, 0, 123, time.UTC)},
		AgentInfo{Version: "1.2.3", HostnameHash: HostnameHash("dep_123", "cal.example.com")})
	got, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, filepath.Join("testdata", "report.golden.json"), got)
	if IdempotencyKey("dep_123", "2026-10", 3) != "dep_123:2026-10:3" {
		t.Fatal("idempotency key")
	}
}

func TestIsLive(t *testing.T) {
	p, _ := ParsePeriod("2026-09")
	tests := []struct {
		since string
		want  bool
	}{
		{"", true},
		{"2026-09-30T23:59:59Z", true},
		{"2026-10-01T00:00:00Z", false},
		{"2027-01-01T00:00:00Z", false},
	}
	for _, tt := range tests {
		var since time.Time
		if tt.since != "" {
			since, _ = time.Parse(time.RFC3339, tt.since)
		}
		if got := IsLive(p, since); got != tt.want {
			t.Errorf("IsLive(2026-09, %q) = %v, want %v", tt.since, got, tt.want)
		}
	}
}
