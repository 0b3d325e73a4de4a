// Package outbox is the on-disk queue of usage reports in state_dir/outbox:
// one file per (period, revision), written atomically and fsynced before the
// first send, so that a crash, kill -9 or reboot at any instant loses no
// report, and a resend after a crash carries the same Idempotency-Key.
//
// An entry is pending, acked, parked or superseded. A period's revisions
// are sent in increasing order: when a newer revision is written, older
// pending or parked revisions of that period are superseded (kept on disk,
// marked, never sent). A file that cannot be read back is moved to
// outbox/quarantine with a clear message; the others still go.
package outbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/safefile"
)

// maxStateFile caps a state file calctl reads back (an outbox entry or a
// billing view is well under 64 KiB); a larger one is refused, not cut off.
const maxStateFile = 4 << 20

// Entry states.
const (
	// StatePending entries wait to be sent (again).
	StatePending = "pending"
	// StateAcked entries were accepted by the endpoint (2xx or 409).
	StateAcked = "acked"
	// StateParked entries were refused permanently (400/401/403/404, a 422
	// other than idempotency_key_reused). They are sent again only by
	// `calctl report retry`, by the agent when the token or signing-secret
	// file changes, and once a day; until then `calctl report`, `report
	// status` and `doctor` show them and exit non-zero.
	StateParked = "parked"
	// StateSuperseded entries were replaced by a newer revision of the same
	// period before they were acknowledged (or renumbered after the endpoint
	// answered idempotency_key_reused). They are kept and never sent.
	StateSuperseded = "superseded"
)

// Entry is one report revision and its delivery state.
type Entry struct {
	// Key is the Idempotency-Key, "{deployment_id}:{period}:{revision}".
	Key string `json:"idempotency_key"`
	// DeploymentID is the report's deployment_id.
	DeploymentID string `json:"deployment_id"`
	// Period is the report's month, "YYYY-MM" (also in the file name).
	Period string `json:"period"`
	// Revision is the report's revision (also in the file name).
	Revision int `json:"revision"`
	// Final is the report's "final" flag.
	Final bool `json:"final"`
	// Correction is the report's "correction" flag.
	Correction bool `json:"correction"`
	// Total is the billed count in Body, kept for status displays.
	Total int64 `json:"total"`
	// TotalCents is the estimate in Body, kept for status displays.
	TotalCents int64 `json:"total_cents"`
	// State is StatePending, StateAcked, StateParked or StateSuperseded.
	State string `json:"state"`
	// Body is the exact JSON that is signed and sent, byte for byte.
	Body string `json:"body"`
	// BodySHA256 is the hex SHA-256 of Body (Seal), compared with what
	// billing reports holding.
	BodySHA256 string `json:"body_sha256"`
	// CreatedAt is when the entry was enqueued.
	CreatedAt time.Time `json:"created_at"`
	// Attempts counts sends so far; it drives the backoff.
	Attempts int `json:"attempts"`
	// NextRetry is when a pending entry may be sent again (zero: now).
	NextRetry time.Time `json:"next_retry,omitzero"`
	// LastStatus is the HTTP status of the last attempt (0: no response).
	LastStatus int `json:"last_status,omitempty"`
	// LastError explains the last retry, park or renumber.
	LastError string `json:"last_error,omitempty"`
	// AckedAt is when the endpoint accepted it (zero: not acked).
	AckedAt time.Time `json:"acked_at,omitzero"`
	// Receipt is the endpoint's response body (truncated) on acceptance.
	Receipt string `json:"receipt,omitempty"`
	// ExportedAt is reserved for `report --export`; nothing sets it yet,
	// so it is always zero.
	ExportedAt time.Time `json:"exported_at,omitzero"`
	// LastAttemptAt is when it was last sent.
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"`
	// ParkedAt is when it was parked; ParkedWith identifies the endpoint
	// and credential files in use then (no secret: paths, sizes and
	// modification times), so that a change of them retries it.
	ParkedAt time.Time `json:"parked_at,omitzero"`
	// ParkedWith is that fingerprint of endpoint and credential files.
	ParkedWith string `json:"parked_with,omitempty"`
	// SupersededBy is the revision that replaced this one; Note says why.
	SupersededBy int `json:"superseded_by,omitempty"`
	// Note says why the entry was superseded (or adopted); "" otherwise.
	Note string `json:"note,omitempty"`
	// RenumberedFrom is the revision this entry replaced after the endpoint
	// answered idempotency_key_reused for it.
	RenumberedFrom int `json:"renumbered_from,omitempty"`
	// Counting says how the count was made: "incremental", "full", or
	// "full: <why an incremental count could not be proven exact>".
	Counting string `json:"counting,omitempty"`
}

// Problem is an outbox file that could not be read back.
type Problem struct {
	// File is the outbox file's path.
	File string
	// Err is why it could not be read or parsed.
	Err error
	// MovedTo is where the file was quarantined ("" when only reported).
	MovedTo string
}

// Message explains the problem and what to do.
func (p Problem) Message() string {
	m := fmt.Sprintf("outbox entry %s is corrupt (%v)", filepath.Base(p.File), p.Err)
	if p.MovedTo != "" {
		m += fmt.Sprintf("; moved to %s and not sent", p.MovedTo)
	}
	return m + "; other reports are unaffected. The period's next report gets a higher revision; run `calctl report --period YYYY-MM` to send one now"
}

// Store is the outbox directory.
type Store struct {
	// Dir is state_dir/outbox.
	Dir string
}

// Dir returns the outbox directory of a state_dir.
func Dir(stateDir string) string { return filepath.Join(stateDir, "outbox") }

// Open creates (0700) and returns the outbox of stateDir.
func Open(stateDir string) (*Store, error) {
	d := Dir(stateDir)
	if err := os.MkdirAll(filepath.Join(d, "quarantine"), 0o700); err != nil {
		return nil, fmt.Errorf("open outbox: %w", err)
	}
	return &Store{Dir: d}, nil
}

var nameRE = regexp.MustCompile(`^(\d{4}-\d{2})\.r(\d{6,})\.json$`)

// FileName is "{period}.r{revision:06}.json".
func FileName(period string, revision int) string {
	return fmt.Sprintf("%s.r%06d.json", period, revision)
}

// Seal sets the body checksum; Put calls it.
func (e *Entry) Seal() {
	sum := sha256.Sum256([]byte(e.Body))
	e.BodySHA256 = hex.EncodeToString(sum[:])
}

// Put writes e atomically (temp file, fsync, rename, fsync dir), mode 0600.
// It returns only once the entry is durable.
func (s *Store) Put(e Entry) error {
	if e.Period == "" || e.Revision < 1 || e.Body == "" || e.Key == "" {
		return fmt.Errorf("outbox: refusing incomplete entry %q", e.Key)
	}
	e.Seal()
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return fmt.Errorf("outbox: encode %s: %w", e.Key, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(s.Dir, FileName(e.Period, e.Revision)), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// Load reads every entry, sorted by period then revision. Files that cannot
// be read back are returned as problems and left in place.
func (s *Store) Load() ([]Entry, []Problem, error) {
	return load(s.Dir)
}

// Scan is Load that also moves each corrupt file into outbox/quarantine, so
// that it is reported once and never blocks the others.
func (s *Store) Scan() ([]Entry, []Problem, error) {
	entries, problems, err := load(s.Dir)
	if err != nil {
		return nil, nil, err
	}
	for i, p := range problems {
		dst := filepath.Join(s.Dir, "quarantine", filepath.Base(p.File)+"."+strconv.FormatInt(time.Now().UnixNano(), 10))
		if err := os.Rename(p.File, dst); err != nil {
			return nil, nil, fmt.Errorf("outbox: quarantine %s: %w", p.File, err)
		}
		problems[i].MovedTo = dst
	}
	if len(problems) > 0 {
		if err := atomicfile.SyncDir(s.Dir); err != nil {
			return nil, nil, err
		}
	}
	return entries, problems, nil
}

func load(dir string) ([]Entry, []Problem, error) {
	des, err := safefile.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("outbox: %w", err)
	}
	var entries []Entry
	var problems []Problem
	for _, de := range des {
		m := nameRE.FindStringSubmatch(de.Name())
		if de.IsDir() || m == nil {
			continue // quarantine/, atomicfile temp files, strangers
		}
		path := filepath.Join(dir, de.Name())
		e, err := readEntry(path, m[1], m[2])
		if err != nil {
			problems = append(problems, Problem{File: path, Err: err})
			continue
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].Period != entries[j].Period {
			return entries[i].Period < entries[j].Period
		}
		return entries[i].Revision < entries[j].Revision
	})
	return entries, problems, nil
}

func readEntry(path, period, rev string) (Entry, error) {
	b, err := safefile.Read(path, maxStateFile, safefile.Options{NoFollow: true})
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return Entry{}, fmt.Errorf("not valid JSON: %w", err)
	}
	n, _ := strconv.Atoi(rev)
	if e.Period != period || e.Revision != n {
		return Entry{}, fmt.Errorf("holds %s revision %d, but its name says %s revision %d", e.Period, e.Revision, period, n)
	}
	sum := sha256.Sum256([]byte(e.Body))
	if e.Body == "" || hex.EncodeToString(sum[:]) != e.BodySHA256 {
		return Entry{}, errors.New("report body does not match its checksum")
	}
	var body struct {
		DeploymentID string `json:"deployment_id"`
		Period       string `json:"period"`
		Revision     int    `json:"revision"`
	}
	if err := json.Unmarshal([]byte(e.Body), &body); err != nil || body.Period != e.Period || body.Revision != e.Revision ||
		e.Key != fmt.Sprintf("%s:%s:%d", body.DeploymentID, body.Period, body.Revision) {
		return Entry{}, errors.New("report body does not match the entry's period, revision or key")
	}
	switch e.State {
	case StatePending, StateAcked, StateParked, StateSuperseded:
	default:
		return Entry{}, fmt.Errorf("unknown state %q", e.State)
	}
	return e, nil
}

// MaxRevision returns the highest revision ever written for period,
// including quarantined files (a quarantined revision may have been sent,
// and revisions only grow).
func (s *Store) MaxRevision(period string) (int, error) {
	max := 0
	for _, d := range []string{s.Dir, filepath.Join(s.Dir, "quarantine")} {
		des, err := safefile.ReadDir(d)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("outbox: %w", err)
		}
		for _, de := range des {
			name := de.Name()
			if d != s.Dir {
				if i := len(name) - len(filepath.Ext(name)); i > 0 {
					name = name[:i] // drop the quarantine timestamp suffix
				}
			}
			m := nameRE.FindStringSubmatch(name)
			if m == nil || m[1] != period {
				continue
			}
			if n, _ := strconv.Atoi(m[2]); n > max {
				max = n
			}
		}
	}
	return max, nil
}

// Supersede marks every pending or parked entry of e.Period below
// e.Revision as superseded by it, durably, and returns the entries with
// those changes. Newest wins: an older revision must never be sent after a
// newer one.
func (s *Store) Supersede(entries []Entry, newest Entry, note string) ([]Entry, error) {
	for i := range entries {
		o := &entries[i]
		if o.Period != newest.Period || o.Revision >= newest.Revision || (o.State != StatePending && o.State != StateParked) {
			continue
		}
		o.State, o.SupersededBy, o.Note, o.NextRetry = StateSuperseded, newest.Revision, note, time.Time{}
		if err := s.Put(*o); err != nil {
			return entries, err
		}
	}
	return entries, nil
}

// Normalize supersedes, in each period, pending or parked entries that are
// not the period's newest revision (left by a crash between writing a new
// revision and marking the old ones, or by an older calctl).
func (s *Store) Normalize(entries []Entry) ([]Entry, error) {
	newest := Newest(entries)
	var err error
	for _, n := range newest {
		if entries, err = s.Supersede(entries, n, fmt.Sprintf("newer revision %d exists", n.Revision)); err != nil {
			return entries, err
		}
	}
	return entries, nil
}

// Newest returns the newest revision of each period, oldest period first.
func Newest(entries []Entry) []Entry {
	idx := map[string]int{}
	var out []Entry
	for _, e := range entries {
		i, ok := idx[e.Period]
		if !ok {
			idx[e.Period] = len(out)
			out = append(out, e)
			continue
		}
		if e.Revision > out[i].Revision {
			out[i] = e
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Period < out[j].Period })
	return out
}
