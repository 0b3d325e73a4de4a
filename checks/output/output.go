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

	"github.com/calctl/calctl/checks"
)

// Formats are the accepted -o values.
var Formats = []string{"table", "json", "sarif", "junit"}

// Write writes rep in format to w.
func Write(w io.Writer, format string, rep *checks.Report, list []checks.Check) error {
	switch format {
	case "table", "":
		return Table(w, rep)
	case "json":
		return JSON(w, rep)
	case "sarif":
		return SARIF(w, rep, list)
	case "junit":
		return JUnit(w, rep)
	}
	return fmt.Errorf("unknown output format %q (want %s)", format, strings.Join(Formats, ", "))
}

// JSON writes the versioned report.
func JSON(w io.Writer, rep *checks.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// Table writes a human summary: one line per result, problems first.
func Table(w io.Writer, rep *checks.Report) error {
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
	for _, r := range rs {
		st := string(r.Status)
		if r.Waiver != nil {
			st += " (waived)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st, r.Severity, r.ID, trunc(r.Resource, 40), trunc(r.Message, 110))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := rep.Summary
	fmt.Fprintf(w, "\n%d results: %d pass, %d warn, %d fail, %d skip, %d manual, %d error, %d waived\n",
		len(rep.Results), s.Pass, s.Warn, s.Fail, s.Skip, s.Manual, s.Error, s.Waived)
	for _, e := range rep.ExpiredWaivers {
		fmt.Fprintf(w, "expired waiver ignored: %s (expired %s)\n", e.ID, e.Expires)
	}
	return nil
}

func trunc(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
