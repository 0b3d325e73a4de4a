// Package sender delivers one usage report to the billing endpoint exactly
// as usage-protocol.md (protocol 1.1) specifies: the headers, the HMAC
// signature, the meaning of each response (ack, renumber, park or retry),
// the retry backoff, and the resync GET of what billing holds.
package sender

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/calctl/calctl/internal/secret"
)

// Path is appended to the endpoint.
const Path = "/v1/usage-reports"

// Outcome is what the agent does with a report after one attempt.
type Outcome int

const (
	// Retry keeps the report pending and tries again after a backoff.
	Retry Outcome = iota
	// Acked means the endpoint accepted it (2xx) or already had it with the
	// byte-identical body (409).
	Acked
	// Parked means the endpoint refused it for good (400/401/403/404, a 422
	// other than idempotency_key_reused).
	Parked
	// Renumber means the endpoint accepted this Idempotency-Key before with
	// another body (422 idempotency_key_reused): the report must get
	// revision LatestRevision+1 (or higher) and be sent again. Never parked,
	// never counted as delivered.
	Renumber
)

func (o Outcome) String() string {
	switch o {
	case Acked:
		return "acked"
	case Parked:
		return "parked"
	case Renumber:
		return "renumber"
	default:
		return "retry"
	}
}

// ErrKeyReused is the error of a Renumber result.
var ErrKeyReused = errors.New("idempotency_key_reused: this revision was accepted before with another body")

// Result is one attempt's outcome.
type Result struct {
	// Outcome is what to do with the report next: retry, acked, parked or
	// renumber.
	Outcome Outcome
	// Status is the HTTP status (0 when no response arrived).
	Status int
	// Receipt is the response body on acceptance (at most 4 KiB).
	Receipt string
	// RetryAfter is the endpoint's Retry-After, if it sent one.
	RetryAfter time.Duration
	// LatestRevision is the period's highest accepted revision, from a 422
	// idempotency_key_reused answer.
	LatestRevision int
	// Err explains a retry or a park.
	Err error
}

// Sender posts signed reports.
type Sender struct {
	// Endpoint is the base URL, e.g. https://billing.example.com.
	Endpoint string
	// Token is the deployment token sent as a Bearer credential.
	Token secret.Secret
	// SigningSecret keys the HMAC signature.
	SigningSecret secret.Secret
	// UserAgent is "calctl/{version}".
	UserAgent string
	// Client is the HTTP client (NewClient builds the right one).
	Client *http.Client
	// Now is the clock for the signature timestamp (default time.Now).
	Now func() time.Time
}

// Signature returns the X-Calctl-Signature value:
// t={unix seconds},v1={hex HMAC-SHA256(secret, t + "." + body)}.
func Signature(signingSecret secret.Secret, t int64, body []byte) string {
	ts := strconv.FormatInt(t, 10)
	mac := hmac.New(sha256.New, []byte(signingSecret.Reveal()))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Headers returns the request headers of a report except Authorization.
func (s *Sender) Headers(key string, body []byte) http.Header {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Idempotency-Key", key)
	h.Set("X-Calctl-Signature", Signature(s.SigningSecret, now().Unix(), body))
	h.Set("User-Agent", s.UserAgent)
	return h
}

// Send makes one attempt to deliver body under Idempotency-Key key.
func (s *Sender) Send(ctx context.Context, key string, body []byte) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.Endpoint, "/")+Path, bytes.NewReader(body))
	if err != nil {
		return Result{Outcome: Parked, Err: fmt.Errorf("build request: %w", err)}
	}
	req.Header = s.Headers(key, body)
	req.Header.Set("Authorization", "Bearer "+s.Token.Reveal())
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Result{Outcome: Retry, Err: ctx.Err()}
		}
		return Result{Outcome: Retry, Err: fmt.Errorf("POST %s: %w", Path, unwrapURLError(err))}
	}
	defer resp.Body.Close()
	rb, rerr := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	r := Result{Status: resp.StatusCode, RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	switch c := resp.StatusCode; {
	case c == 200 || c == 201 || c == 202 || c == http.StatusConflict:
		if rerr != nil && c != http.StatusConflict {
			// The status line says accepted; a torn body does not change that.
			rb = nil
		}
		r.Outcome, r.Receipt = Acked, string(rb)
	case c == 422 && rerr == nil && keyReused(rb, &r.LatestRevision):
		r.Outcome, r.Err = Renumber, fmt.Errorf("%w (latest accepted revision %d)", ErrKeyReused, r.LatestRevision)
	case c == 400 || c == 401 || c == 403 || c == 404 || c == 422:
		r.Outcome, r.Err = Parked, fmt.Errorf("%s: %s", resp.Status, snippet(rb))
	case c == 408 || c == 425 || c == 429 || c >= 500:
		r.Outcome, r.Err = Retry, fmt.Errorf("%s: %s", resp.Status, snippet(rb))
	case c >= 200 && c < 300:
		// Another 2xx (e.g. 204): the contract lists 200/201/202; treat
		// the rest of 2xx as accepted too, as HTTP means it.
		r.Outcome, r.Receipt = Acked, string(rb)
	default:
		// 3xx left after redirects, other 4xx: not in the contract's table.
		// Retrying is the safe side: the Idempotency-Key makes it harmless.
		r.Outcome, r.Err = Retry, fmt.Errorf("unexpected %s: %s", resp.Status, snippet(rb))
	}
	return r
}

// keyReused reads a 422 body {"error":"idempotency_key_reused",
// "latest_revision":N}.
func keyReused(body []byte, latest *int) bool {
	var v struct {
		Error          string `json:"error"`
		LatestRevision *int   `json:"latest_revision"`
	}
	if json.Unmarshal(body, &v) != nil || v.Error != "idempotency_key_reused" || v.LatestRevision == nil || *v.LatestRevision < 0 {
		return false
	}
	*latest = *v.LatestRevision
	return true
}

// Billing is what the endpoint holds for one period: the accepted report
// with the highest revision (the one billed).
type Billing struct {
	// Found is false when nothing was accepted (404), or the endpoint does
	// not offer the lookup (405): both mean "nothing accepted".
	Found bool
	// Status is the HTTP status of the answer.
	Status int
	// LatestRevision is the highest accepted revision (the billed one);
	// Final, Total and BodySHA256 describe that report.
	LatestRevision int
	// Final is whether that report is the month's final one.
	Final bool
	// Total is its billed bookings total.
	Total int64
	// BodySHA256 is the hex SHA-256 of its body as billing stored it.
	BodySHA256 string
}

// Lookup asks the endpoint what it holds for (deploymentID, period):
// GET {endpoint}/v1/usage-reports/{deployment_id}/{period} with the Bearer
// token. 200 describes the billed report; 404 and 405 mean nothing
// accepted. Any other answer is an error (the caller goes on without it:
// the 422 rule still prevents a silent divergence).
func (s *Sender) Lookup(ctx context.Context, deploymentID, period string) (Billing, error) {
	u := strings.TrimRight(s.Endpoint, "/") + Path + "/" + url.PathEscape(deploymentID) + "/" + url.PathEscape(period)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Billing{}, fmt.Errorf("build lookup: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token.Reveal())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", s.UserAgent)
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Billing{}, ctx.Err()
		}
		return Billing{}, fmt.Errorf("GET %s/{deployment_id}/{period}: %w", Path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	b := Billing{Status: resp.StatusCode}
	switch resp.StatusCode {
	case http.StatusOK:
		var v struct {
			LatestRevision *int   `json:"latest_revision"`
			Final          bool   `json:"final"`
			Total          int64  `json:"total"`
			BodySHA256     string `json:"body_sha256"`
		}
		if err := json.Unmarshal(rb, &v); err != nil || v.LatestRevision == nil || *v.LatestRevision < 1 {
			return b, fmt.Errorf("lookup of %s answered 200 without a latest_revision: %s", period, snippet(rb))
		}
		b.Found, b.LatestRevision, b.Final, b.Total, b.BodySHA256 = true, *v.LatestRevision, v.Final, v.Total, v.BodySHA256
		return b, nil
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return b, nil
	default:
		return b, fmt.Errorf("lookup of %s: %s: %s", period, resp.Status, snippet(rb))
	}
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// unwrapURLError drops *url.Error's "Post \"https://…\":" prefix, which
// repeats the endpoint in every log line.
func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// ParseRetryAfter reads a Retry-After value (seconds or an HTTP date);
// 0 when absent or invalid.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
