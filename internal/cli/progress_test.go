package cli

import (
	"bytes"
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
