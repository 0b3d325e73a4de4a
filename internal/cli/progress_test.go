package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/gitsource"
)

func TestProgressPrinter(t *testing.T) {
	reports := []gitsource.Progress{
		{Phase: "connect", Percent: -1, Message: "contacting x"},
		{Phase: "Receiving objects", Percent: 10, Message: "Receiving objects: 10%"},
		{Phase: "Receiving objects", Percent: 50, Message: "Receiving objects: 50%"},
		{Phase: "Receiving objects", Percent: 100, Message: "Receiving objects: 100%"},
		{Phase: "checkout", Percent: -1, Message: "checking out abc"},
	}
	tests := []struct {
		name       string
		live       bool
		quiet      bool
		wantLines  int
		wantReturn bool
	}{
		{name: "plain lines: first report and completion of each phase", wantLines: 4},
		{name: "live line on a terminal", live: true, wantLines: 0, wantReturn: true},
		{name: "quiet", quiet: true, wantLines: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newProgressPrinter(&buf, tt.live, tt.quiet)
			for _, r := range reports {
				p.report(r)
			}
			p.finish()
			out := buf.String()
			if got := strings.Count(out, "\n"); got != tt.wantLines {
				t.Errorf("%d lines, want %d:\n%q", got, tt.wantLines, out)
			}
			if strings.Contains(out, "\r") != tt.wantReturn {
				t.Errorf("carriage returns: %q", out)
			}
			if tt.quiet && out != "" {
				t.Errorf("quiet printed %q", out)
			}
		})
	}
}

// TestRedactResult: what clone prints or encodes about submodules holds no
// URL credentials, whatever .gitmodules said (issue 11.7).
func TestRedactResult(t *testing.T) {
	res := &gitsource.Result{URL: "https://u:pw-1@h/cal.git", Submodules: []gitsource.SubmoduleResult{
		{Path: "apps/api", URL: "git://u:pw-2@h/api.git%zz", Action: gitsource.ActionSkipped, Reason: "ssh://u:pw-3@h/x unreachable", Hint: "see https://tok-4@h/"},
	}, Notes: []string{"retried postgres://u:pw-5@h/db"}}
	got := redactResult(res)
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(got)
	printCloneText(&b, got)
	if strings.Contains(b.String(), "pw-") || strings.Contains(b.String(), "tok-4") {
		t.Errorf("clone output holds a credential:\n%s", b.String())
	}
	if res.Submodules[0].URL != "git://u:pw-2@h/api.git%zz" {
		t.Error("redactResult changed the result it was given")
	}
	if redactResult(nil) != nil {
		t.Error("nil result")
	}
}
