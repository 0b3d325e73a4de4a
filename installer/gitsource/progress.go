package gitsource

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"

	"github.com/calctl/calctl/internal/redact"
)

// progressWriter turns git's sideband progress text ("Receiving objects:
// 42% (420/1000)\r") into Progress reports, one per phase and percent.
type progressWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	report func(Progress)
	last   string
}

var progressLine = regexp.MustCompile(`^(?:remote: )?([A-Za-z][A-Za-z ]*?):\s+(\d{1,3})%`)

func newProgressWriter(report func(Progress)) *progressWriter {
	return &progressWriter{report: report}
}

// Write implements io.Writer.
func (p *progressWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		data := p.buf.Bytes()
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(data[:i]))
		p.buf.Next(i + 1)
		p.line(line)
	}
	return len(b), nil
}

func (p *progressWriter) line(line string) {
	if line == "" {
		return
	}
	m := progressLine.FindStringSubmatch(line)
	if m == nil {
		return
	}
	pct, _ := strconv.Atoi(m[2])
	key := m[1] + ":" + m[2]
	if key == p.last {
		return
	}
	p.last = key
	p.report(Progress{Phase: m[1], Percent: pct, Message: redact.Controls(strings.TrimPrefix(line, "remote: "))})
}

// Close flushes a final partial line.
func (p *progressWriter) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line(strings.TrimSpace(p.buf.String()))
	p.buf.Reset()
}

// sidebandProgress returns what to give go-git as Progress, and a func to
// flush it: nothing when nobody listens, so that go-git asks the server for
// no progress at all (git fetch -q does the same).
func (c *cloner) sidebandProgress() (sideband.Progress, func()) {
	if c.o.Progress == nil {
		return nil, func() {}
	}
	p := newProgressWriter(c.report)
	return p, p.Close
}
