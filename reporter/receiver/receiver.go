// Package receiver is a billing endpoint for tests: a real HTTPS server
// (httptest) that checks every request against usage-protocol.md (protocol
// 1.1) — bearer token, HMAC signature, Idempotency-Key matching the body,
// schema and money — accepts each key once (201), answers 409 to a repeat
// with the byte-identical body and 422 idempotency_key_reused (with the
// period's latest_revision) to a repeat with another body, and serves the
// resync GET /v1/usage-reports/{deployment_id}/{period}. Per (deployment,
// period) the accepted report with the highest revision is the billed one.
// It can be told to fail the first attempts with 503s, timeouts or
// connection resets, to refuse with a fixed status, or to lack the GET. It
// is for tests and benchmarks only.
package receiver

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is what the receiver does to one attempt.
type Fault string

// Faults.
const (
	// None handles the request normally.
	None Fault = ""
	// Unavailable answers 503 with Retry-After: 0.
	Unavailable Fault = "503"
	// Hang waits longer than the client's timeout (HangFor) before 503.
	Hang Fault = "hang"
	// Reset closes the connection with a TCP RST before any response.
	Reset Fault = "reset"
)

// Report is an accepted report as the receiver decoded it.
type Report struct {
	// Key is the Idempotency-Key; Body the exact bytes; Doc the decoded body.
	Key string
	// Body is the request body exactly as received (what was signed).
	Body []byte
	// Doc is Body decoded as JSON.
	Doc map[string]any
	// Revision and Total are read from the body.
	Revision int
	// Total is bookings.total of the body.
	Total int64
	// Final is the body's "final" flag.
	Final bool
}

// Lookup is how the receiver answers the resync GET.
type Lookup int

// Lookups.
const (
	// LookupOn answers 200 with the latest accepted revision, or 404.
	LookupOn Lookup = iota
	// LookupNotFound answers 404 to every period (an endpoint without the GET).
	LookupNotFound
	// LookupNotAllowed answers 405 (an endpoint without the GET).
	LookupNotAllowed
)

// Receiver is the test billing endpoint.
type Receiver struct {
	// Server is the TLS test server (set by Start); URL and WriteCAFile
	// read it.
	Server *httptest.Server
	// Token and Secret are what requests must carry.
	Token, Secret string
	// Faults apply to attempts in order (attempt 1 gets Faults[0]); after
	// them requests are handled normally.
	Faults []Fault
	// Status, when non-zero, is returned to every valid request instead of
	// accepting it (e.g. 401).
	Status int
	// HangFor is how long a Hang fault stalls (default 3s).
	HangFor time.Duration
	// AckDelay, when set, is a random pause of up to this long after a
	// report is accepted and before the response is written: the window in
	// which a client crash makes it resend an accepted report.
	AckDelay time.Duration
	// Lookup is how the resync GET is answered (default LookupOn).
	Lookup Lookup
	// RetryAfter is the Retry-After header of an Unavailable fault
	// (default "0").
	RetryAfter string

	mu         sync.Mutex
	attempts   int
	lookups    int
	accepted   map[string]Report
	order      []string
	dupes      int
	reused     int
	invalid    []string
	latest     map[string]string // "dep:period" -> key of the highest accepted revision
	outOfOrder []string
}

// Start starts an HTTPS receiver; its certificate is written to a PEM file
// (CAFile) for the client's ca_file.
func Start(token, secret string) *Receiver {
	r := &Receiver{Token: token, Secret: secret, accepted: map[string]Report{}, latest: map[string]string{}, HangFor: 3 * time.Second}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	return r
}

// URL is the endpoint base URL.
func (r *Receiver) URL() string { return r.Server.URL }

// Close stops the server.
func (r *Receiver) Close() { r.Server.CloseClientConnections(); r.Server.Close() }

// WriteCAFile writes the server certificate as PEM into dir and returns its path.
func (r *Receiver) WriteCAFile(dir string) (string, error) {
	p := filepath.Join(dir, "receiver-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Server.Certificate().Raw})
	return p, os.WriteFile(p, b, 0o644)
}

// Set changes the faults and status under the lock.
func (r *Receiver) Set(faults []Fault, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Faults, r.Status, r.attempts = faults, status, 0
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodGet && strings.HasPrefix(req.URL.Path, "/v1/usage-reports/") {
		r.serveLookup(w, req)
		return
	}
	r.mu.Lock()
	r.attempts++
	n := r.attempts
	fault := None
	if n <= len(r.Faults) {
		fault = r.Faults[n-1]
	}
	status := r.Status
	hang := r.HangFor
	retryAfter := r.RetryAfter
	r.mu.Unlock()

	switch fault {
	case Unavailable:
		if retryAfter == "" {
			retryAfter = "0"
		}
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	case Hang:
		_, _ = io.Copy(io.Discard, req.Body) // lets the server notice the client leave
		select {
		case <-time.After(hang):
		case <-req.Context().Done():
		}
		http.Error(w, "too slow", http.StatusServiceUnavailable)
		return
	case Reset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("receiver: response writer cannot hijack")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			if tc, ok := underlyingTCP(conn); ok {
				_ = tc.SetLinger(0) // close sends RST, not a TLS close_notify
				_ = tc.Close()
			} else {
				_ = conn.Close()
			}
		}
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if problem := r.validate(req, body); problem != "" {
		r.mu.Lock()
		r.invalid = append(r.invalid, problem)
		r.mu.Unlock()
		code := http.StatusBadRequest
		if strings.HasPrefix(problem, "auth") {
			code = http.StatusUnauthorized
		}
		http.Error(w, problem, code)
		return
	}
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	key := req.Header.Get("Idempotency-Key")
	var doc map[string]any
	_ = json.Unmarshal(body, &doc)
	rep := Report{Key: key, Body: body, Doc: doc}
	rep.Revision, rep.Total, rep.Final = docRevision(doc), docTotal(doc), doc["final"] == true
	period := fmt.Sprintf("%v:%v", doc["deployment_id"], doc["period"])
	r.mu.Lock()
	if prev, ok := r.accepted[key]; ok {
		if bytes.Equal(prev.Body, body) {
			r.dupes++
			r.mu.Unlock()
			w.WriteHeader(http.StatusConflict)
			fmt.Fprintf(w, `{"error":"duplicate","key":%q}`, key)
			return
		}
		// One key, another document: the client lost its state.
		r.reused++
		latest := r.accepted[r.latest[period]].Revision
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, `{"error":"idempotency_key_reused","latest_revision":%d}`, latest)
		return
	}
	r.accepted[key] = rep
	r.order = append(r.order, key)
	if cur, ok := r.latest[period]; !ok || r.accepted[cur].Revision < rep.Revision {
		r.latest[period] = key
	} else {
		// Billed stays the higher revision; the client sent out of order.
		r.outOfOrder = append(r.outOfOrder, fmt.Sprintf("%s accepted after revision %d", key, r.accepted[cur].Revision))
	}
	idx := len(r.order)
	delay := r.AckDelay
	r.mu.Unlock()
	if delay > 0 {
		time.Sleep(time.Duration(rand.Int64N(int64(delay))))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"receipt":"rcpt_%d","key":%q}`, idx, key)
}

// serveLookup answers GET /v1/usage-reports/{deployment_id}/{period}.
func (r *Receiver) serveLookup(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.lookups++
	lookup := r.Lookup
	r.mu.Unlock()
	if req.Header.Get("Authorization") != "Bearer "+r.Token {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	switch lookup {
	case LookupNotFound:
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	case LookupNotAllowed:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/v1/usage-reports/"), "/")
	if len(parts) != 2 {
		http.Error(w, `{"error":"bad path"}`, http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	key, ok := r.latest[parts[0]+":"+parts[1]]
	rep := r.accepted[key]
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"not_found"}`)
		return
	}
	sum := sha256.Sum256(rep.Body)
	fmt.Fprintf(w, `{"latest_revision":%d,"final":%v,"total":%d,"body_sha256":%q}`, rep.Revision, rep.Final, rep.Total, hex.EncodeToString(sum[:]))
}

func docRevision(doc map[string]any) int {
	f, _ := doc["revision"].(float64)
	return int(f)
}

func docTotal(doc map[string]any) int64 {
	b, _ := doc["bookings"].(map[string]any)
	f, _ := b["total"].(float64)
	return int64(f)
}

func underlyingTCP(c net.Conn) (*net.TCPConn, bool) {
	if tc, ok := c.(*net.TCPConn); ok {
		return tc, true
	}
	if nc, ok := c.(interface{ NetConn() net.Conn }); ok {
		tc, ok := nc.NetConn().(*net.TCPConn)
		return tc, ok
	}
	return nil, false
}

// validate checks a request against the contract; "" means valid.
func (r *Receiver) validate(req *http.Request, body []byte) string {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/usage-reports" {
		return fmt.Sprintf("wrong method/path %s %s", req.Method, req.URL.Path)
	}
	if req.Header.Get("Authorization") != "Bearer "+r.Token {
		return "auth: bad bearer token"
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		return "content-type " + ct
	}
	if ua := req.Header.Get("User-Agent"); !strings.HasPrefix(ua, "calctl/") {
		return "user-agent " + ua
	}
	sig := req.Header.Get("X-Calctl-Signature")
	var ts, v1 string
	for _, part := range strings.Split(sig, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(t, 0)).Abs() > 5*time.Minute {
		return "signature timestamp " + ts
	}
	mac := hmac.New(sha256.New, []byte(r.Secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	if want := hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(want), []byte(v1)) {
		return "signature mismatch"
	}
	var doc struct {
		Schema       string `json:"schema"`
		DeploymentID string `json:"deployment_id"`
		Period       string `json:"period"`
		Revision     int    `json:"revision"`
		Live         bool   `json:"live"`
		Bookings     struct {
			Total int64 `json:"total"`
		} `json:"bookings"`
		Estimate struct {
			TotalCents int64 `json:"total_cents"`
		} `json:"estimate"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "body: " + err.Error()
	}
	if doc.Schema != "calctl.usage/v1" || doc.Revision < 1 {
		return "body schema/revision"
	}
	if key := fmt.Sprintf("%s:%s:%d", doc.DeploymentID, doc.Period, doc.Revision); req.Header.Get("Idempotency-Key") != key {
		return "idempotency key " + req.Header.Get("Idempotency-Key") + " != " + key
	}
	want := int64(0)
	if doc.Live {
		want = 18900 + 5*max(0, doc.Bookings.Total-500)
	}
	if doc.Estimate.TotalCents != want {
		return fmt.Sprintf("total_cents %d, want %d", doc.Estimate.TotalCents, want)
	}
	return ""
}

// Attempts is how many requests arrived.
func (r *Receiver) Attempts() int { r.mu.Lock(); defer r.mu.Unlock(); return r.attempts }

// Accepted returns accepted reports in arrival order.
func (r *Receiver) Accepted() []Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Report, 0, len(r.order))
	for _, k := range r.order {
		out = append(out, r.accepted[k])
	}
	return out
}

// Duplicates is how many requests repeated an accepted key with the same
// body (answered 409).
func (r *Receiver) Duplicates() int { r.mu.Lock(); defer r.mu.Unlock(); return r.dupes }

// Reused is how many requests repeated an accepted key with another body
// (answered 422 idempotency_key_reused).
func (r *Receiver) Reused() int { r.mu.Lock(); defer r.mu.Unlock(); return r.reused }

// Lookups is how many resync GETs arrived.
func (r *Receiver) Lookups() int { r.mu.Lock(); defer r.mu.Unlock(); return r.lookups }

// Billed returns, per "deployment_id:period", the accepted report with the
// highest revision: what billing charges.
func (r *Receiver) Billed() map[string]Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]Report{}
	for p, k := range r.latest {
		out[p] = r.accepted[k]
	}
	return out
}

// OutOfOrder lists reports accepted after a higher revision of the same
// period had been accepted (a stale revision arriving late).
func (r *Receiver) OutOfOrder() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.outOfOrder...)
}

// Invalid lists requests that broke the contract.
func (r *Receiver) Invalid() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.invalid...)
}
