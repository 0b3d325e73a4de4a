// Package output writes check reports as a table, JSON, SARIF 2.1.0 or
// JUnit XML.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/redact"
)

// Formats are the accepted -o values.
var Formats = []string{"table", "json", "sarif", "junit", "html"}

// Options tune the human formats.
type Options struct {
	// ShowPass lists PASS results in the table (hidden by default: the
	// table is for what needs doing; json, sarif, junit and html keep all).
	ShowPass bool
}

// Write writes rep in format to w.
func Write(w io.Writer, format string, rep *checks.Report, list []checks.Check, opts ...Options) error {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	switch format {
	case "table", "":
		return Table(w, rep, o)
	case "json":
		return JSON(w, rep)
	case "sarif":
		return SARIF(w, rep, list)
	case "junit":
		return JUnit(w, rep)
	case "html":
		return HTML(w, rep)
	}
	return fmt.Errorf("unknown output format %q (want %s)", format, strings.Join(Formats, ", "))
}

// JSON writes the versioned report.
func JSON(w io.Writer, rep *checks.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// Table writes a human summary: one line per result, problems first, each
// WARN/FAIL/ERROR followed by its fix. PASS lines are hidden unless
// o.ShowPass (the summary line still counts them).
func Table(w io.Writer, rep *checks.Report, o Options) error {
	rs := append([]checks.Result(nil), rep.Results...)
	order := map[checks.Status]int{checks.Fail: 0, checks.Error: 1, checks.Warn: 2, checks.Manual: 3, checks.Skip: 4, checks.Pass: 5}
	sort.SliceStable(rs, func(i, j int) bool {
		if order[rs[i].Status] != order[rs[j].Status] {
			return order[rs[i].Status] < order[rs[j].Status]
		}
		return rs[i].Severity.Rank() > rs[j].Severity.Rank()
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tSEVERITY\tID\tRESOURCE\tMESSAGE")
	hidden := 0
	for _, r := range rs {
		if r.Status == checks.Pass && !o.ShowPass {
			hidden++
			continue
		}
		st := string(r.Status)
		if r.Waiver != nil {
			st += " (waived)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st, r.Severity, r.ID, trunc(redact.Controls(r.Resource), 40), trunc(redact.Controls(r.Message), 110))
		switch {
		case r.Waiver != nil:
			fmt.Fprintf(tw, "\t\t\twaived:\t%s\n", trunc(redact.Controls(r.Waiver.Reason), 110))
		case r.Status == checks.Fail || r.Status == checks.Warn:
			fmt.Fprintf(tw, "\t\t\tfix:\t%s\n", trunc(redact.Controls(r.Remediation), 110))
		case r.Status == checks.Error:
			fmt.Fprintf(tw, "\t\t\tfix:\t%s\n", "make the collector work (cause above), then re-run; --allow-errors accepts an incomplete audit")
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := rep.Summary
	fmt.Fprintf(w, "\n%d results: %d pass, %d warn, %d fail, %d skip, %d manual, %d error, %d waived\n",
		len(rep.Results), s.Pass, s.Warn, s.Fail, s.Skip, s.Manual, s.Error, s.Waived)
	if hidden > 0 {
		fmt.Fprintf(w, "%d PASS results hidden (--all shows them)\n", hidden)
	}
	for _, e := range rep.ExpiredWaivers {
		fmt.Fprintf(w, "expired waiver ignored: %s (expired %s)\n", e.ID, e.Expires)
	}
	return nil
}

func trunc(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
