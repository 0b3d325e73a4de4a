package reporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/safefile"
)

// Watermark is the counting state of one month kept in state_dir between
// runs. Every "Booking" row with id <= ID that will ever become visible was
// visible when Settled was counted, so the next run only reads rows with
// id > ID (a primary-key range scan) and adds them to Settled.
type Watermark struct {
	// Period is the month, "YYYY-MM"; a file whose Period does not match
	// its name is ignored.
	Period string `json:"period"`
	// ID is the highest "Booking".id counted into Settled (0: none yet).
	ID int64 `json:"id"`
	// Settled are the counts of the month's rows with id <= ID.
	Settled Counts `json:"settled"`
	// UpdatedAt is when the watermark was last saved.
	UpdatedAt time.Time `json:"updated_at"`
}

// watermarkPath is state_dir/counts/YYYY-MM.json.
func watermarkPath(stateDir string, p Period) string {
	return filepath.Join(stateDir, "counts", p.String()+".json")
}

// LoadWatermark reads the month's watermark; a missing or unreadable one
// yields the zero watermark (the next count is a full count, which is always
// correct, only slower).
func LoadWatermark(stateDir string, p Period) (Watermark, error) {
	zero := Watermark{Period: p.String(), Settled: NewCounts()}
	if stateDir == "" {
		return zero, nil
	}
	b, err := safefile.Read(watermarkPath(stateDir, p), 1<<20, safefile.Options{NoFollow: true})
	if errors.Is(err, os.ErrNotExist) {
		return zero, nil
	}
	if err != nil {
		return zero, fmt.Errorf("read watermark: %w", err)
	}
	var w Watermark
	if err := json.Unmarshal(b, &w); err != nil || w.Period != p.String() || w.ID < 0 {
		// A damaged watermark costs one full count, never a wrong count.
		return zero, nil
	}
	w.Settled = NewCounts().Add(w.Settled)
	return w, nil
}

// SaveWatermark writes the month's watermark atomically (mode 0600).
func SaveWatermark(stateDir string, w Watermark) error {
	p, err := ParsePeriod(w.Period)
	if err != nil {
		return err
	}
	path := watermarkPath(stateDir, p)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save watermark: %w", err)
	}
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return fmt.Errorf("save watermark: %w", err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}
