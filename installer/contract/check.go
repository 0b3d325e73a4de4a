package contract

import (
	"fmt"
	"strings"
)

// CheckSummary is what the install's last step, check, found when it ran
// calctl's hardening checks against what was just installed. The check
// step attaches it to its log Event, so views read it as data.
type CheckSummary struct {
	// Pass counts results whose safeguard is in place.
	Pass int `json:"pass"`
	// Warn counts weaknesses that may be acceptable with a waiver.
	Warn int `json:"warn"`
	// Fail counts missing safeguards.
	Fail int `json:"fail"`
	// Skip counts checks that do not apply here.
	Skip int `json:"skip"`
	// Manual counts checks that need a person's attestation.
	Manual int `json:"manual"`
	// Error counts checks that could not observe their subject.
	Error int `json:"error"`
	// Waived counts WARN/FAIL results covered by waivers.yaml.
	Waived int `json:"waived"`
	// FailOn is the lowest severity that makes the install exit non-zero
	// ("none": never); AtOrAbove counts the unwaived FAILs at or above it.
	FailOn string `json:"fail_on"`
	// AtOrAbove is the number of unwaived FAIL results at or above FailOn.
	AtOrAbove int `json:"at_or_above_fail_on"`
	// Top are the worst findings, each with its fix.
	Top []CheckFinding `json:"top"`
	// Command reruns the checks with the full report.
	Command string `json:"command"`
}

// CheckFinding is one finding of the check step.
type CheckFinding struct {
	// ID is the check ("PG-006").
	ID string `json:"id"`
	// Status is FAIL, ERROR or WARN.
	Status string `json:"status"`
	// Severity is critical, high, medium, low or info.
	Severity string `json:"severity"`
	// Resource is what was judged (a container, a setting, a file).
	Resource string `json:"resource"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Fix says what to do about it.
	Fix string `json:"fix"`
}

// Text is the summary as lines for the text view and the wizard.
func (c CheckSummary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "checks: %d fail, %d warn, %d error, %d pass, %d manual, %d skip", c.Fail, c.Warn, c.Error, c.Pass, c.Manual, c.Skip)
	if c.Waived > 0 {
		fmt.Fprintf(&b, " (%d waived)", c.Waived)
	}
	b.WriteByte('\n')
	for _, f := range c.Top {
		fmt.Fprintf(&b, "%-5s %-8s %-7s %s: %s\n", f.Status, f.Severity, f.ID, f.Resource, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(&b, "      fix: %s\n", f.Fix)
		}
	}
	if c.FailOn != "" && c.FailOn != "none" {
		fmt.Fprintf(&b, "%d unwaived finding(s) at or above %s", c.AtOrAbove, c.FailOn)
		if c.AtOrAbove > 0 {
			b.WriteString(": the install exits 3")
		}
		b.WriteByte('\n')
	}
	if c.Command != "" {
		fmt.Fprintf(&b, "full report: %s\n", c.Command)
	}
	return b.String()
}
