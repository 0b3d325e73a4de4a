package outbox

import (
	"os"
	"time"
)

var readDir = os.ReadDir

// PeriodStatus is the latest revision of one period and its delivery state.
type PeriodStatus struct {
	Period     string `json:"period"`
	Revision   int    `json:"revision"`
	Key        string `json:"idempotency_key"`
	State      string `json:"state"`
	Final      bool   `json:"final"`
	Correction bool   `json:"correction"`
	Total      int64  `json:"total"`
	TotalCents int64  `json:"total_cents"`
	Attempts   int    `json:"attempts"`
	// Receipt is the endpoint's answer when acked.
	Receipt string    `json:"receipt,omitempty"`
	AckedAt time.Time `json:"acked_at,omitzero"`
	// NextRetry is when a pending entry is tried again (zero: now).
	NextRetry  time.Time `json:"next_retry,omitzero"`
	LastStatus int       `json:"last_status,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	// Parked lists other parked revisions of the period (older ones).
	Parked []int `json:"older_parked_revisions,omitempty"`
}

// Summary is the outbox at a glance; `calctl report status` prints it and
// `calctl doctor` calls Summarize.
type Summary struct {
	// Pending, Acked and Parked count entries (all revisions) by state.
	Pending int `json:"pending"`
	Acked   int `json:"acked"`
	Parked  int `json:"parked"`
	// Corrupt counts files in the outbox that cannot be read back (not yet
	// quarantined); Quarantined counts files already moved aside.
	Corrupt     int `json:"corrupt"`
	Quarantined int `json:"quarantined"`
	// Problems explain each corrupt file.
	Problems []string `json:"problems,omitempty"`
	// LastAck is the most recent acknowledgement (zero if none).
	LastAck time.Time `json:"last_ack,omitzero"`
	// Periods holds one line per period, oldest first.
	Periods []PeriodStatus `json:"periods"`
}

// Summarize reads the outbox of stateDir without changing anything.
func Summarize(stateDir string) (Summary, error) {
	entries, problems, err := load(Dir(stateDir))
	if err != nil {
		return Summary{}, err
	}
	var s Summary
	for _, p := range problems {
		s.Corrupt++
		s.Problems = append(s.Problems, p.Message())
	}
	s.Quarantined = countQuarantined(stateDir)
	idx := map[string]int{}
	for _, e := range entries {
		switch e.State {
		case StatePending:
			s.Pending++
		case StateAcked:
			s.Acked++
			if e.AckedAt.After(s.LastAck) {
				s.LastAck = e.AckedAt
			}
		case StateParked:
			s.Parked++
		}
		i, ok := idx[e.Period]
		if !ok {
			idx[e.Period] = len(s.Periods)
			s.Periods = append(s.Periods, PeriodStatus{Period: e.Period})
			i = len(s.Periods) - 1
		}
		ps := &s.Periods[i]
		var parked []int
		if ps.Revision != 0 && ps.State == StateParked {
			parked = append(ps.Parked, ps.Revision)
		} else {
			parked = ps.Parked
		}
		// entries are sorted, so the last one seen is the latest revision
		*ps = PeriodStatus{
			Period: e.Period, Revision: e.Revision, Key: e.Key, State: e.State, Final: e.Final,
			Correction: e.Correction, Total: e.Total, TotalCents: e.TotalCents, Attempts: e.Attempts,
			Receipt: e.Receipt, AckedAt: e.AckedAt, NextRetry: e.NextRetry, LastStatus: e.LastStatus,
			LastError: e.LastError, Parked: parked,
		}
	}
	return s, nil
}

func countQuarantined(stateDir string) int {
	des, err := readDir(Dir(stateDir) + "/quarantine")
	if err != nil {
		return 0
	}
	return len(des)
}
