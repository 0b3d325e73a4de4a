package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// existingCfg is the Config of an install directory that holds an install
// (saved answers at ref v5.8.0).
func existingCfg(c *Config) {
	c.Existing, c.Found = true, "the answers the last run saved (calctl-answers.yaml)"
	a := *c.Answers
	a.Source.Ref = "v5.8.0"
	c.Answers = &a
}

func toUpgradeRef(d *driver) {
	d.see("Upgrade this install")
	d.keys("down", "enter")
	d.see("Upgrade to ref")
}

// TestUpgradeHandoff: choosing upgrade on the Welcome screen of an existing
// install ends the wizard with a Handoff that carries the ref and the
// install directory; nothing runs in the wizard itself.
func TestUpgradeHandoff(t *testing.T) {
	b := &memBackend{}
	cfg := testConfig(b)
	existingCfg(&cfg)
	d := start(t, cfg, 80, 24)
	toUpgradeRef(d)
	d.keys("ctrl+u", "v5.9.0", "enter")
	d.see("verified backup", "calctl upgrade --ref v5.9.0 --dir /opt/calcom")
	d.keys("enter")
	m := d.final()
	r := m.Result()
	if r.Outcome != Handoff || r.Upgrade == nil {
		t.Fatalf("outcome %v, upgrade %+v; want Handoff with an upgrade", r.Outcome, r.Upgrade)
	}
	if r.Upgrade.Ref != "v5.9.0" || r.Upgrade.Dir != "/opt/calcom" {
		t.Errorf("upgrade = %+v, want ref v5.9.0 in /opt/calcom", *r.Upgrade)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.runs != 0 {
		t.Errorf("the wizard ran the install %d time(s); the upgrade is the caller's", b.runs)
	}
}

// TestUpgradeRefRefused: an empty ref or one with a space stays on the field
// with the reason; esc goes back to the choice, and the default choice
// re-runs the install (the Source screen).
func TestUpgradeRefRefused(t *testing.T) {
	cfg := testConfig(&memBackend{})
	existingCfg(&cfg)
	d := start(t, cfg, 60, 15)
	toUpgradeRef(d)
	d.keys("ctrl+u", "enter")
	d.see("required")
	d.keys("v5 9", "enter")
	d.see("no spaces")
	d.keys("esc")
	d.see("Change settings")
	d.keys("up", "enter")
	d.see("Repository URL")
	if r := d.final().Result(); r.Outcome == Handoff {
		t.Errorf("outcome Handoff after choosing re-run")
	}
}

func TestValidRef(t *testing.T) {
	for _, tc := range []struct {
		ref string
		ok  bool
	}{{"v5.9.0", true}, {"main", true}, {"0123abc", true}, {"", false}, {"v5 9", false}, {"v5\t9", false}, {"v5\x1b9", false}, {"v5\n", false}} {
		if err := validRef(tc.ref); (err == nil) != tc.ok {
			t.Errorf("validRef(%q) = %v, want ok=%v", tc.ref, err, tc.ok)
		}
	}
}

// TestUpgradeAccessible: the accessible prompts offer the same choice; an
// invalid ref is asked again, and a confirmed upgrade is the same Handoff.
func TestUpgradeAccessible(t *testing.T) {
	cfg := testConfig(&memBackend{})
	existingCfg(&cfg)
	var out bytes.Buffer
	// a terminal in cooked mode gives one line per read; each prompt
	// reads through a buffer of its own
	in := &lineReader{lines: []string{"2\n", "v5 9\n", "v5.9.0\n", "y\n"}}
	r, err := RunAccessible(context.Background(), cfg, in, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if r.Outcome != Handoff || r.Upgrade == nil || r.Upgrade.Ref != "v5.9.0" || r.Upgrade.Dir != "/opt/calcom" {
		t.Fatalf("result %v %+v, want Handoff of v5.9.0 in /opt/calcom\n%s", r.Outcome, r.Upgrade, out.String())
	}
	for _, want := range []string{"Upgrade this install", "no spaces", "verified backup", "Runs: calctl upgrade --ref v5.9.0 --dir /opt/calcom"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the prompts do not say %q:\n%s", want, out.String())
		}
	}
}

// lineReader returns one line per Read, as a terminal does.
type lineReader struct{ lines []string }

func (r *lineReader) Read(p []byte) (int, error) {
	if len(r.lines) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.lines[0])
	r.lines[0] = r.lines[0][n:]
	if r.lines[0] == "" {
		r.lines = r.lines[1:]
	}
	return n, nil
}
