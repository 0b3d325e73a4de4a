package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calctl/calctl/reporter/outbox"
)

// syncBuffer is a bytes.Buffer safe for the agent's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAgentCommandJSONLogs(t *testing.T) {
	e := newReportEnv(t, "interval: 1s\n")
	e.db.Book(t, time.Now().UTC().Add(-time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	f := &Factory{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb}, Getenv: func(k string) string { return e.env[k] }}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, f, []string{"agent", "--config", e.config, "--log-format", "json"}) }()
	deadline := time.Now().Add(30 * time.Second)
	for len(e.rcv.Accepted()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("agent exit %d: %s", code, errb.String())
		}
	case <-time.After(2 * time.Second):
		t.Fatal("agent did not stop")
	}
	var delivered bool
	for _, line := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == "report delivered" && m["key"] != nil && m["status"] == float64(201) {
			delivered = true
		}
		if strings.Contains(line, "tok_cli") || strings.Contains(line, "whsec_cli") {
			t.Fatalf("secret in log: %s", line)
		}
	}
	if !delivered {
		t.Fatalf("no 'report delivered' log line:\n%s", errb.String())
	}
}

// TestAgentRetriesParkedWhenTokenFileChanges: a running agent whose report
// was refused with 401 sends it by itself once the token file is fixed.
func TestAgentRetriesParkedWhenTokenFileChanges(t *testing.T) {
	e := newReportEnv(t, "interval: 1h\nlive_since: 2026-12-01\n")
	token := filepath.Join(e.dir, "token")
	if err := os.WriteFile(token, []byte("tok_wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.db.Book(t, time.Now().UTC().Add(-time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	f := &Factory{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb}, Getenv: func(k string) string { return e.env[k] }}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, f, []string{"agent", "--config", e.config, "--log-format", "json"}) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; agent log:\n%s", what, errb.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("the report to be parked", func() bool {
		s, err := outbox.Summarize(filepath.Join(e.dir, "state"))
		return err == nil && s.Parked > 0
	})
	if err := os.WriteFile(token, []byte("tok_cli\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor("delivery after the token file was fixed", func() bool { return len(e.rcv.Accepted()) > 0 })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("agent exit %d:\n%s", code, errb.String())
	}
	if strings.Contains(errb.String(), "tok_cli") || strings.Contains(errb.String(), "tok_wrong") {
		t.Fatal("a token reached the log")
	}
}
