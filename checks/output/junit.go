package output

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/calctl/calctl/checks"
)

// JUnitSuites is the <testsuites> document. Its attributes are the ones
// Jenkins' junit-10.xsd allows there (name, time, tests, failures, errors:
// no skipped; the suites carry that).
type JUnitSuites struct {
	// XMLName makes the root element <testsuites>.
	XMLName xml.Name `xml:"testsuites"`
	// Name is always "calctl check".
	Name string `xml:"name,attr"`
	// Tests is the number of results over all suites.
	Tests int `xml:"tests,attr"`
	// Failures sums the suites' failures (unwaived FAIL).
	Failures int `xml:"failures,attr"`
	// Errors sums the suites' errors (ERROR).
	Errors int `xml:"errors,attr"`
	// Suites are one per check group, in the order groups first appear.
	Suites []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one check group.
type JUnitSuite struct {
	// Name is the group prefix and its section, e.g. "PG PostgreSQL".
	Name string `xml:"name,attr"`
	// Tests is the number of results in the group.
	Tests int `xml:"tests,attr"`
	// Failures counts unwaived FAIL results.
	Failures int `xml:"failures,attr"`
	// Errors counts ERROR results.
	Errors int `xml:"errors,attr"`
	// Skipped counts WARN, SKIP, MANUAL and waived results.
	Skipped int `xml:"skipped,attr"`
	// Cases are the group's results in report order.
	Cases []JUnitCase `xml:"testcase"`
}

// JUnitCase is one result.
type JUnitCase struct {
	// Name is "<ID> <title> [<resource>]".
	Name string `xml:"name,attr"`
	// Classname is the suite's Name.
	Classname string `xml:"classname,attr"`
	// Failure is set for an unwaived FAIL: the message, and the
	// remediation as text.
	Failure *JUnitMessage `xml:"failure,omitempty"`
	// Error is set for ERROR: the message.
	Error *JUnitMessage `xml:"error,omitempty"`
	// Skipped is set for WARN, SKIP, MANUAL ("<STATUS>: <message>") and
	// for a waived result ("<STATUS> waived: <reason>").
	Skipped *JUnitMessage `xml:"skipped,omitempty"`
	// SystemOut is the result as JSON (checks.Result).
	SystemOut string `xml:"system-out,omitempty"`
}

// JUnitMessage is a failure, error or skipped element.
type JUnitMessage struct {
	// Message is the message attribute: the one-line finding.
	Message string `xml:"message,attr"`
	// Text is the element's text: the remediation for a failure, else "".
	Text string `xml:",chardata"`
}

// JUnit writes one testsuite per group (kube-bench style): FAIL is a
// failure, ERROR an error, WARN/SKIP/MANUAL/waived are skipped.
func JUnit(w io.Writer, rep *checks.Report) error {
	doc := JUnitSuites{Name: "calctl check"}
	idx := map[string]int{}
	for _, r := range rep.Results {
		g := r.Group
		i, ok := idx[g]
		if !ok {
			i = len(doc.Suites)
			idx[g] = i
			name := checks.GroupNames[g]
			if name == "" {
				name = g
			}
			doc.Suites = append(doc.Suites, JUnitSuite{Name: g + " " + name})
		}
		s := &doc.Suites[i]
		js, _ := json.Marshal(r)
		c := JUnitCase{Name: fmt.Sprintf("%s %s [%s]", r.ID, r.Title, r.Resource), Classname: s.Name, SystemOut: string(js)}
		switch {
		case r.Waiver != nil:
			c.Skipped = &JUnitMessage{Message: fmt.Sprintf("%s waived: %s", r.Status, r.Waiver.Reason)}
		case r.Status == checks.Fail:
			c.Failure = &JUnitMessage{Message: r.Message, Text: r.Remediation}
		case r.Status == checks.Error:
			c.Error = &JUnitMessage{Message: r.Message}
		case r.Status == checks.Warn || r.Status == checks.Skip || r.Status == checks.Manual:
			c.Skipped = &JUnitMessage{Message: string(r.Status) + ": " + r.Message}
		}
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
