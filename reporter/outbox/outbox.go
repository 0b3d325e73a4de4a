// Package outbox is the on-disk queue of usage reports in state_dir/outbox:
// one file per (period, revision), written atomically and fsynced before the
// first send, so that a crash, kill -9 or reboot at any instant loses no
// report, and a resend after a crash carries the same Idempotency-Key.
//
// An entry is pending, acked or parked. A file that cannot be read back is
// moved to outbox/quarantine with a clear message; the others still go.
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
)

// Entry states.
const (
	// StatePending entries wait to be sent (again).
	StatePending = "pending"
	// StateAcked entries were accepted by the endpoint (2xx or 409).
	StateAcked = "acked"
	// StateParked entries were refused permanently (400/401/403/404/422);
	// they are not retried and make `calctl report status` exit non-zero.
	StateParked = "parked"
)

// Entry is one report revision and its delivery state.
type Entry struct {
	Key          string `json:"idempotency_key"`
	DeploymentID string `json:"deployment_id"`
	Period       string `json:"period"`
	Revision     int    `json:"revision"`
	Final        bool   `json:"final"`
	Correction   bool   `json:"correction"`
	// Total is the billed count in Body, kept for status displays.
	Total int64 `json:"total"`
	// TotalCents is the estimate in Body, kept for status displays.
	TotalCents int64  `json:"total_cents"`
	State      string `json:"state"`
	// Body is the exact JSON that is signed and sent, byte for byte.
	Body       string    `json:"body"`
	BodySHA256 string    `json:"body_sha256"`
	CreatedAt  time.Time `json:"created_at"`
	Attempts   int       `json:"attempts"`
	NextRetry  time.Time `json:"next_retry,omitzero"`
	LastStatus int       `json:"last_status,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	AckedAt    time.Time `json:"acked_at,omitzero"`
	// Receipt is the endpoint's response body (truncated) on acceptance.
	Receipt    string    `json:"receipt,omitempty"`
	ExportedAt time.Time `json:"exported_at,omitzero"`
}

// Problem is an outbox file that could not be read back.
type Problem struct {
	File string
	Err  error
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
	des, err := os.ReadDir(dir)
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
	b, err := os.ReadFile(path)
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
	case StatePending, StateAcked, StateParked:
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
		des, err := os.ReadDir(d)
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
