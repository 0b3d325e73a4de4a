package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/calctl/calctl/internal/atomicfile"
)

// InstallsEnv overrides where the list of installs on this host lives
// (tests, and hosts that keep it elsewhere).
const InstallsEnv = "CALCTL_INSTALLS_FILE"

// Install is one install recorded for this host.
type Install struct {
	// Dir is the install directory, absolute.
	Dir string `json:"dir"`
	// Updated is when a run last ended in Dir (UTC; Record); the list is
	// sorted newest first by it.
	Updated time.Time `json:"updated"`
	// Outcome is that run's outcome: finished, failed or stopped (the Outcome
	// constants).
	Outcome string `json:"last_outcome,omitempty"`
}

// InstallsFile is where the list of installs lives: $CALCTL_INSTALLS_FILE,
// else /etc/calctl/installs.json for root, else
// $XDG_STATE_HOME/calctl/installs.json (~/.local/state by the XDG Base
// Directory spec, https://specifications.freedesktop.org/basedir-spec/latest/).
func InstallsFile(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if p := getenv(InstallsEnv); p != "" {
		return p
	}
	if os.Geteuid() == 0 {
		return "/etc/calctl/installs.json"
	}
	state := getenv("XDG_STATE_HOME")
	if state == "" {
		h := getenv("HOME")
		if h == "" {
			h, _ = os.UserHomeDir()
		}
		state = filepath.Join(h, ".local", "state")
	}
	return filepath.Join(state, "calctl", "installs.json")
}

// Installs reads the list; an absent file is an empty list.
func Installs(getenv func(string) string) ([]Install, error) {
	p := InstallsFile(getenv)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []Install
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return list, nil
}

// Record adds dir (made absolute) to the list or updates it, newest first.
func Record(getenv func(string) string, dir, outcome string, now time.Time) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	list, err := Installs(getenv)
	if err != nil {
		list = nil // a broken list is rewritten, not a reason to fail an install
	}
	out := []Install{{Dir: abs, Updated: now.UTC(), Outcome: outcome}}
	for _, in := range list {
		if in.Dir != abs {
			out = append(out, in)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Updated.After(out[j].Updated) })
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	p := InstallsFile(getenv)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, append(b, '\n'), 0o644)
}

// Found is an install recorded for this host, and why it was taken.
type Found struct {
	// Dir is the absolute path recorded in the list of installs.
	Dir string
	// Why says how it was found, for the command to print:
	// "recorded in /etc/calctl/installs.json".
	Why string
}

// Recorded is the newest install recorded for this host that still holds
// an install by keep (IsInstall when keep is nil). n is how many installs
// the list names; ok is false when none is kept. A list that does not read
// is an error (n 0). The current directory and $CALCTL_INSTALL_DIR come
// first; internal/cli's locateInstall puts them in that order.
func Recorded(getenv func(string) string, keep func(dir string) bool) (f Found, n int, ok bool, err error) {
	if keep == nil {
		keep = IsInstall
	}
	list, err := Installs(getenv)
	if err != nil {
		return Found{}, 0, false, err
	}
	for _, in := range list {
		if keep(in.Dir) {
			return Found{Dir: in.Dir, Why: "recorded in " + InstallsFile(getenv)}, len(list), true, nil
		}
	}
	return Found{}, len(list), false, nil
}
