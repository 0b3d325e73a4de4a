package outbox

import (
	"sort"
	"time"

	"github.com/calctl/calctl/internal/safefile"
)

// readDir lists a state directory without blocking on a FIFO in its place.
var readDir = safefile.ReadDir

// Accepted is a revision the endpoint acknowledged.
type Accepted struct {
	// Revision is the accepted revision; Final whether it was the final.
	Revision int `json:"revision"`
	// Final is whether the accepted revision was the month's final one.
	Final bool `json:"final"`
	// Total and TotalCents are its billed count and estimate.
	Total int64 `json:"total"`
	// TotalCents is its estimate's total_cents.
	TotalCents int64 `json:"total_cents"`
	// AckedAt is when the endpoint accepted it; Receipt its answer.
	AckedAt time.Time `json:"acked_at,omitzero"`
	// Receipt is the endpoint's response body on acceptance (truncated).
	Receipt string `json:"receipt,omitempty"`
}

// Superseded is a revision replaced before it was acknowledged.
type Superseded struct {
	// Revision was replaced by revision By; Note says why (a newer
	// revision enqueued, renumbered after idempotency_key_reused, billing
	// already holding the count).
	Revision int `json:"revision"`
	// By is the revision that replaced it.
	By int `json:"by"`
	// Note is the entry's reason for being superseded.
	Note string `json:"note,omitempty"`
}

// PeriodStatus is one period: its newest revision and delivery state, the
// newest revision billing acknowledged to this state dir, the revisions
// superseded, and what billing was last seen to hold.
type PeriodStatus struct {
	// Period is the month, YYYY-MM.
	Period string `json:"period"`
	// Revision, Key and State are the period's newest revision, its
	// Idempotency-Key and its state (0, "" and "" when only billing's view
	// is known).
	Revision int `json:"revision"`
	// Key is the newest revision's Idempotency-Key.
	Key string `json:"idempotency_key"`
	// State is the newest revision's outbox state (pending, acked,
	// parked, superseded).
	State string `json:"state"`
	// Final and Correction are the newest revision's flags.
	Final bool `json:"final"`
	// Correction is the newest revision's correction flag.
	Correction bool `json:"correction"`
	// Total and TotalCents are its billed count and estimate.
	Total int64 `json:"total"`
	// TotalCents is its estimate's total_cents.
	TotalCents int64 `json:"total_cents"`
	// Attempts is how often it was sent.
	Attempts int `json:"attempts"`
	// Counting says how the newest revision's count was made.
	Counting string `json:"counting,omitempty"`
	// Receipt is the endpoint's answer when acked.
	Receipt string `json:"receipt,omitempty"`
	// AckedAt is when the newest revision was acknowledged (zero: not).
	AckedAt time.Time `json:"acked_at,omitzero"`
	// NextRetry is when a pending entry is tried again (zero: now).
	NextRetry time.Time `json:"next_retry,omitzero"`
	// LastStatus and LastError are the last attempt's HTTP status and
	// error; ParkedAt is when it was parked.
	LastStatus int `json:"last_status,omitempty"`
	// LastError is the last attempt's error ("" when none).
	LastError string `json:"last_error,omitempty"`
	// ParkedAt is when the newest revision was parked (zero: not parked).
	ParkedAt time.Time `json:"parked_at,omitzero"`
	// Accepted is the newest revision acknowledged (nil: none yet).
	Accepted *Accepted `json:"accepted,omitempty"`
	// Superseded lists revisions replaced before acknowledgement.
	Superseded []Superseded `json:"superseded,omitempty"`
	// Billing is what the endpoint last said it holds (nil: never asked).
	Billing *BillingView `json:"billing,omitempty"`
	// Fix is what to do about this period, ending in the command that does
	// it ("" when nothing is needed). Summarize leaves it empty; callers
	// that know how calctl is invoked here fill it (agent.Commands.Fix).
	Fix string `json:"fix,omitempty"`
}

// Summary is the outbox at a glance; `calctl report status` prints it and
// `calctl doctor` calls Summarize.
type Summary struct {
	// Pending and Parked count periods whose newest revision is in that
	// state; Acked counts acknowledged entries; Superseded entries replaced.
	Pending int `json:"pending"`
	// Acked counts acknowledged entries (every revision, not periods).
	Acked int `json:"acked"`
	// Parked counts periods whose newest revision is parked.
	Parked int `json:"parked"`
	// Superseded counts entries replaced before acknowledgement.
	Superseded int `json:"superseded"`
	// Corrupt counts files in the outbox that cannot be read back (not yet
	// quarantined); Quarantined counts files already moved aside.
	Corrupt int `json:"corrupt"`
	// Quarantined counts files in outbox/quarantine.
	Quarantined int `json:"quarantined"`
	// Problems explain each corrupt file.
	Problems []string `json:"problems,omitempty"`
	// LastAck is the most recent acknowledgement (zero if none).
	LastAck time.Time `json:"last_ack,omitzero"`
	// Periods holds one line per period, oldest first.
	Periods []PeriodStatus `json:"periods"`
}

// Summarize reads the outbox and billing views of stateDir without changing
// anything. A pending or parked entry that is not its period's newest
// revision is shown as superseded (the next delivery pass marks it so).
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
	views := LoadBillingViews(stateDir)
	newest := map[string]int{}
	for _, n := range Newest(entries) {
		newest[n.Period] = n.Revision
	}
	idx := map[string]int{}
	for _, e := range entries { // sorted by period, then revision
		i, ok := idx[e.Period]
		if !ok {
			idx[e.Period] = len(s.Periods)
			s.Periods = append(s.Periods, PeriodStatus{Period: e.Period})
			i = len(s.Periods) - 1
		}
		ps := &s.Periods[i]
		state := e.State
		if e.Revision != newest[e.Period] && (state == StatePending || state == StateParked) {
			state, e.SupersededBy, e.Note = StateSuperseded, newest[e.Period], "newer revision exists"
		}
		switch state {
		case StateAcked:
			s.Acked++
			if e.AckedAt.After(s.LastAck) {
				s.LastAck = e.AckedAt
			}
			ps.Accepted = &Accepted{Revision: e.Revision, Final: e.Final, Total: e.Total, TotalCents: e.TotalCents, AckedAt: e.AckedAt, Receipt: e.Receipt}
		case StateSuperseded:
			s.Superseded++
			ps.Superseded = append(ps.Superseded, Superseded{Revision: e.Revision, By: e.SupersededBy, Note: e.Note})
		}
		if e.Revision != newest[e.Period] {
			continue
		}
		switch state {
		case StatePending:
			s.Pending++
		case StateParked:
			s.Parked++
		}
		ps.Revision, ps.Key, ps.State, ps.Final, ps.Correction = e.Revision, e.Key, state, e.Final, e.Correction
		ps.Total, ps.TotalCents, ps.Attempts, ps.Counting = e.Total, e.TotalCents, e.Attempts, e.Counting
		ps.Receipt, ps.AckedAt, ps.NextRetry, ps.LastStatus, ps.LastError, ps.ParkedAt = e.Receipt, e.AckedAt, e.NextRetry, e.LastStatus, e.LastError, e.ParkedAt
	}
	// Periods billing told us about that have no entry here (a lost state
	// dir whose months billing already holds).
	for p, v := range views {
		if _, ok := idx[p]; !ok {
			idx[p] = len(s.Periods)
			s.Periods = append(s.Periods, PeriodStatus{Period: p})
		}
		v := v
		s.Periods[idx[p]].Billing = &v
	}
	sort.Slice(s.Periods, func(i, j int) bool { return s.Periods[i].Period < s.Periods[j].Period })
	return s, nil
}

func countQuarantined(stateDir string) int {
	des, err := readDir(Dir(stateDir) + "/quarantine")
	if err != nil {
		return 0
	}
	return len(des)
}
