// Package history is the record calctl keeps in an install directory of
// its backups, restore drills (backup verify), restores and upgrades: JSON
// lines in <install>/.calctl/history.jsonl, appended and fsynced, one event a
// line. The BK checks read it as evidence (checks/collect/backup.go).
package history

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// RelPath is the history file's path inside the install directory.
const RelPath = ".calctl/history.jsonl"

// Kinds of events.
const (
	KindBackup  = "backup"
	KindVerify  = "verify"
	KindRestore = "restore"
	KindUpgrade = "upgrade"
)

// Results.
const (
	ResultOK     = "ok"
	ResultFailed = "failed"
)

// Event is one line of the history.
type Event struct {
	// Time is when the event was recorded, at the end of the operation (UTC;
	// Append sets it when zero).
	Time time.Time `json:"time"`
	// Kind is the operation: backup, verify, restore or upgrade (the Kind
	// constants).
	Kind string `json:"kind"`
	// Result is ok or failed (ResultOK, ResultFailed); a failed event carries
	// Error.
	Result string `json:"result"`
	// File is the backup file concerned (absolute path).
	File string `json:"file,omitempty"`
	// Size and SHA256 of the backup file; Encrypted says it is an age file.
	Size int64 `json:"size,omitempty"`
	// SHA256 is the backup file's SHA-256 in hex; empty for restores, upgrades
	// and failed backups.
	SHA256 string `json:"sha256,omitempty"`
	// Encrypted says the backup file is age-encrypted: true on every backup,
	// verify and restore event (calctl never writes an unencrypted backup),
	// false for upgrades.
	Encrypted bool `json:"encrypted,omitempty"`
	// Duration of the operation, in seconds.
	Seconds float64 `json:"seconds,omitempty"`
	// Tables is how many tables were counted; Rows their total.
	Tables int `json:"tables,omitempty"`
	// Rows is the total of the manifest's row counts over those tables; 0 for
	// upgrades and failed operations.
	Rows int64 `json:"rows,omitempty"`
	// By is who ran it (user@host).
	By string `json:"by,omitempty"`
	// From and To are the refs of an upgrade.
	From string `json:"from,omitempty"`
	// To is the ref upgraded to: the requested ref, followed by the new
	// checkout's short commit hash once the install steps succeeded.
	To string `json:"to,omitempty"`
	// Error is the failure, one line, for failed events.
	Error string `json:"error,omitempty"`
}

// Path returns the history file of an install dir.
func Path(installDir string) string { return filepath.Join(installDir, RelPath) }

// Append adds e to the history of installDir (creating .calctl 0700 and the
// file 0600) and fsyncs it.
func Append(installDir string, e Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if e.By == "" {
		e.By = Who()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	p := Path(installDir)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("history: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("history: %w", err)
	}
	return f.Close()
}

// Read returns the events of an install's history, oldest first. A missing
// file is no events; a torn or foreign line is skipped.
func Read(installDir string) ([]Event, error) {
	return ReadFile(Path(installDir))
}

// ReadFile reads a history file.
func ReadFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e Event
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Kind != "" {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// Last returns the newest event of kind with result ("" = any).
func Last(events []Event, kind, result string) (Event, bool) {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Kind == kind && (result == "" || events[i].Result == result) {
			return events[i], true
		}
	}
	return Event{}, false
}

// Who is user@host of this process.
func Who() string {
	u := os.Getenv("USER")
	if u == "" {
		u = fmt.Sprintf("uid%d", os.Getuid())
	}
	h, _ := os.Hostname()
	return u + "@" + h
}
