package checks

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/calctl/calctl/internal/strictyaml"
)

// Waivers is a parsed waivers.yaml: accepted risks with a reason, an
// approver and an expiry date.
type Waivers struct {
	// Source is the file the waivers were loaded from; "" when parsed
	// from a reader.
	Source  string
	entries []waiverEntry
}

type waiverEntry struct {
	Waiver
	expires time.Time // zero = never
	res     []*regexp.Regexp
}

// ExpiredWaiver reports a waiver that no longer applies.
type ExpiredWaiver struct {
	// ID is the waiver's check ID or glob.
	ID string `json:"id"`
	// Expires is its expiry date as written (YYYY-MM-DD).
	Expires string `json:"expires"`
	// Reason is its recorded reason.
	Reason string `json:"reason"`
}

type waiverFile struct {
	Waivers []Waiver `yaml:"waivers"`
}

// MaxWaiversBytes caps a waivers file. A larger one is refused, never cut
// off: a waiver past the cut would silently not apply.
const MaxWaiversBytes = 4 << 20

// LoadWaivers reads a waivers file.
func LoadWaivers(file string) (*Waivers, error) {
	b, err := strictyaml.ReadFile(file, MaxWaiversBytes)
	if err != nil {
		return nil, fmt.Errorf("read waivers: %w", err)
	}
	w, err := ParseWaivers(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	w.Source = file
	return w, nil
}

// ParseWaivers parses waivers YAML with internal/strictyaml (unknown keys
// and wrong types refused with their line; more than MaxWaiversBytes
// refused). Every entry needs an id (or glob) and a reason; expires is
// YYYY-MM-DD; resources are regular expressions.
func ParseWaivers(r io.Reader) (*Waivers, error) {
	b, err := strictyaml.Read(r, MaxWaiversBytes)
	if err != nil {
		return nil, fmt.Errorf("parse waivers: %w", err)
	}
	var wf waiverFile
	if _, err := strictyaml.Decode(b, &wf, strictyaml.Options{MaxBytes: MaxWaiversBytes,
		Expected: "waivers: followed by a list of {id, reason, expires, approved_by, resources}"}); err != nil {
		return nil, fmt.Errorf("parse waivers: %w", err)
	}
	w := &Waivers{}
	for i, e := range wf.Waivers {
		n := i + 1
		e.ID = strings.TrimSpace(e.ID)
		if e.ID == "" {
			return nil, fmt.Errorf("waiver #%d: id is required (a check ID or a glob such as DK-*)", n)
		}
		if _, err := path.Match(e.ID, "X"); err != nil {
			return nil, fmt.Errorf("waiver #%d: bad id glob %q: %v", n, e.ID, err)
		}
		if strings.TrimSpace(e.Reason) == "" {
			return nil, fmt.Errorf("waiver #%d (%s): reason is required", n, e.ID)
		}
		we := waiverEntry{Waiver: e}
		if e.Expires != "" {
			t, err := time.Parse("2006-01-02", e.Expires)
			if err != nil {
				return nil, fmt.Errorf("waiver #%d (%s): expires %q is not YYYY-MM-DD", n, e.ID, e.Expires)
			}
			we.expires = t.Add(24 * time.Hour) // valid through the whole day (UTC)
		}
		if e.Resource != "" {
			e.Resources = append(e.Resources, e.Resource)
			e.Resource = ""
			we.Waiver = e
		}
		for _, re := range e.Resources {
			rx, err := regexp.Compile(re)
			if err != nil {
				return nil, fmt.Errorf("waiver #%d (%s): bad resource regex %q: %v", n, e.ID, re, err)
			}
			we.res = append(we.res, rx)
		}
		w.entries = append(w.entries, we)
	}
	return w, nil
}

// Len is the number of waivers.
func (w *Waivers) Len() int { return len(w.entries) }

// Apply marks matching WARN/FAIL results as waived, as of now. Expired
// waivers are ignored and returned so the report can list them.
func (w *Waivers) Apply(rs []Result, now time.Time) []ExpiredWaiver {
	var expired []ExpiredWaiver
	for _, e := range w.entries {
		if !e.expires.IsZero() && !now.Before(e.expires) {
			expired = append(expired, ExpiredWaiver{ID: e.ID, Expires: e.Expires, Reason: e.Reason})
			continue
		}
		for i := range rs {
			r := &rs[i]
			if r.Waiver != nil || (r.Status != Warn && r.Status != Fail) {
				continue
			}
			if ok, _ := path.Match(strings.ToUpper(e.ID), strings.ToUpper(r.ID)); !ok {
				continue
			}
			if len(e.res) > 0 && !anyMatch(e.res, r.Resource) {
				continue
			}
			wv := e.Waiver
			r.Waiver = &wv
		}
	}
	return expired
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, r := range res {
		if r.MatchString(s) {
			return true
		}
	}
	return false
}
