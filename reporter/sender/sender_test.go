package sender

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/calctl/calctl/reporter/receiver"
)

// TestSignatureVector pins the signature against a value computed
// independently: printf '1790000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
func TestSignatureVector(t *testing.T) {
	got := Signature(secret.Secret("whsec_test"), 1790000000, []byte(`{"a":1}`))
	out, err := exec.Command("sh", "-c", `printf '%s' '1790000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test -r`).Output()
	if err != nil {
		testenv.Unavailable(t, "openssl (to cross-check the signature)", err)
	}
	want := "t=1790000000,v1=" + strings.Fields(string(out))[0]
	if got != want {
		t.Fatalf("Signature = %s, want %s", got, want)
	}
}

func newSender(t *testing.T, r *receiver.Receiver, timeout time.Duration) *Sender {
	t.Helper()
	ca, err := r.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(ca, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return &Sender{Endpoint: r.URL(), Token: "tok_1", SigningSecret: "whsec_1", UserAgent: "calctl/test", Client: c}
}

func body(rev int) []byte {
	return []byte(fmt.Sprintf(`{"schema":"calctl.usage/v1","deployment_id":"dep_1","period":"2026-10","revision":%d,"live":true,"bookings":{"total":501},"estimate":{"total_cents":18905}}`, rev))
}

// TestSendAgainstReceiver sends to a real HTTPS receiver that verifies the
// token, the signature, the key and the body.
func TestSendAgainstReceiver(t *testing.T) {
	r := receiver.Start("tok_1", "whsec_1")
	defer r.Close()
	r.HangFor = time.Second
	s := newSender(t, r, 300*time.Millisecond)
	ctx := context.Background()
	res := s.Send(ctx, "dep_1:2026-10:1", body(1))
	if res.Outcome != Acked || res.Status != 201 || !strings.Contains(res.Receipt, "rcpt_1") {
		t.Fatalf("first send: %+v (invalid: %v)", res, r.Invalid())
	}
	if res := s.Send(ctx, "dep_1:2026-10:1", body(1)); res.Outcome != Acked || res.Status != 409 {
		t.Fatalf("repeat: %+v, want acked via 409", res)
	}
	if res := s.Send(ctx, "dep_1:2026-10:9", body(1)); res.Outcome != Parked || res.Status != 400 {
		t.Fatalf("key not matching body: %+v, want parked 400", res)
	}
	bad := *s
	bad.SigningSecret = "wrong"
	if res := bad.Send(ctx, "dep_1:2026-10:2", body(2)); res.Outcome != Parked || !strings.Contains(res.Err.Error(), "signature") {
		t.Fatalf("bad secret: %+v", res)
	}
	bad = *s
	bad.Token = "wrong"
	if res := bad.Send(ctx, "dep_1:2026-10:2", body(2)); res.Outcome != Parked || res.Status != 401 {
		t.Fatalf("bad token: %+v", res)
	}
	for _, tt := range []struct {
		fault receiver.Fault
		want  string
	}{{receiver.Unavailable, "503"}, {receiver.Hang, "Timeout"}, {receiver.Reset, "reset"}} {
		r.Set([]receiver.Fault{tt.fault}, 0)
		res := s.Send(ctx, "dep_1:2026-10:3", body(3))
		if res.Outcome != Retry || res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) {
			t.Errorf("fault %s: %+v, want retry mentioning %q", tt.fault, res, tt.want)
		}
	}
	if got := len(r.Accepted()); got != 1 {
		t.Fatalf("accepted %d, want 1", got)
	}
}

// TestResponseTable drives every status of the contract's table.
func TestResponseTable(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter string
		want       Outcome
		wantAfter  time.Duration
	}{
		{200, "", Acked, 0}, {201, "", Acked, 0}, {202, "", Acked, 0}, {409, "", Acked, 0},
		{400, "", Parked, 0}, {401, "", Parked, 0}, {403, "", Parked, 0}, {404, "", Parked, 0}, {422, "", Parked, 0},
		{408, "", Retry, 0}, {425, "", Retry, 0}, {429, "7", Retry, 7 * time.Second}, {500, "", Retry, 0},
		{502, "", Retry, 0}, {503, "120", Retry, 2 * time.Minute}, {504, "", Retry, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, `{"receipt":"x"}`)
			}))
			defer srv.Close()
			s := &Sender{Endpoint: srv.URL, Token: "t", SigningSecret: "s", UserAgent: "calctl/test", Client: srv.Client()}
			res := s.Send(context.Background(), "k", []byte(`{}`))
			if res.Outcome != tt.want || res.Status != tt.status || res.RetryAfter != tt.wantAfter {
				t.Fatalf("got %v status %d retry-after %v, want %v %v", res.Outcome, res.Status, res.RetryAfter, tt.want, tt.wantAfter)
			}
		})
	}
}

func TestTLSVerified(t *testing.T) {
	r := receiver.Start("tok_1", "whsec_1")
	defer r.Close()
	c, err := NewClient("", time.Second) // system roots only: the test CA is unknown
	if err != nil {
		t.Fatal(err)
	}
	s := &Sender{Endpoint: r.URL(), Token: "tok_1", SigningSecret: "whsec_1", UserAgent: "calctl/test", Client: c}
	res := s.Send(context.Background(), "dep_1:2026-10:1", body(1))
	if res.Outcome != Retry || !strings.Contains(res.Err.Error(), "certificate") {
		t.Fatalf("unverified server: %+v, want a certificate error", res)
	}
	if r.Attempts() != 0 {
		t.Fatal("request reached a server whose certificate failed verification")
	}
	if _, err := NewClient("/nonexistent/ca.pem", 0); err == nil {
		t.Fatal("missing ca_file accepted")
	}
}

// TestProxyFromEnvironment runs the sender in a child process with
// HTTPS_PROXY set (Go reads the proxy environment once per process) and
// checks that the request went through the CONNECT proxy.
func TestProxyFromEnvironment(t *testing.T) {
	if os.Getenv("CALCTL_PROXY_CHILD") != "" {
		r := os.Getenv("CALCTL_PROXY_CA")
		c, err := NewClient(r, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// example.com is in httptest's certificate; only the proxy knows
		// where it really is.
		s := &Sender{Endpoint: "https://example.com", Token: "tok_1", SigningSecret: "whsec_1", UserAgent: "calctl/test", Client: c}
		if res := s.Send(context.Background(), "dep_1:2026-10:1", body(1)); res.Outcome != Acked {
			t.Fatalf("through proxy: %+v", res)
		}
		return
	}
	r := receiver.Start("tok_1", "whsec_1")
	defer r.Close()
	ca, _ := r.WriteCAFile(t.TempDir())
	target := r.Server.Listener.Addr().String()
	var connects []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		connects = append(connects, req.Host)
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, brw, _ := w.(http.Hijacker).Hijack()
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { _, _ = io.Copy(up, brw); up.Close() }()
		_, _ = io.Copy(conn, up)
		conn.Close()
	}))
	defer proxy.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromEnvironment$", "-test.v")
	cmd.Env = append(os.Environ(), "CALCTL_PROXY_CHILD=1", "CALCTL_PROXY_CA="+ca, "HTTPS_PROXY="+proxy.URL, "NO_PROXY=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if len(connects) != 1 || connects[0] != "example.com:443" || len(r.Accepted()) != 1 {
		t.Fatalf("proxy saw %v, receiver accepted %d", connects, len(r.Accepted()))
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Cap: time.Second}
	for n := 1; n <= 10; n++ {
		ceil := min(time.Second, 100*time.Millisecond<<(n-1))
		for i := 0; i < 200; i++ {
			if d := b.Delay(n, 0); d < 0 || d > ceil {
				t.Fatalf("Delay(%d) = %v outside [0, %v]", n, d, ceil)
			}
		}
	}
	if d := b.Delay(1, 5*time.Second); d != 5*time.Second {
		t.Fatalf("Retry-After not honoured: %v", d)
	}
	if d := b.Delay(1, 100*time.Hour); d != MaxRetryAfter {
		t.Fatalf("Retry-After not bounded: %v", d)
	}
	now := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{{"", 0}, {"30", 30 * time.Second}, {"-1", 0}, {"soon", 0}, {"Thu, 01 Oct 2026 00:01:00 GMT", time.Minute}} {
		if got := ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidateEndpoint(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{{"https://billing.example.com", true}, {"http://127.0.0.1:8080", true}, {"http://localhost:1", true},
		{"http://billing.example.com", false}, {"ftp://x", false}, {"billing.example.com", false}} {
		if err := ValidateEndpoint(tt.in); (err == nil) != tt.ok {
			t.Errorf("ValidateEndpoint(%q) = %v", tt.in, err)
		}
	}
}
