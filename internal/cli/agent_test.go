package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
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
