package cronjob

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct{ expr, from, want string }{
		{"* * * * *", "2026-03-01 10:00", "2026-03-01 10:01"},
		{"*/15 * * * *", "2026-03-01 10:01", "2026-03-01 10:15"},
		{"0 0 * * *", "2026-03-01 10:01", "2026-03-02 00:00"},
		{"0 5 * * *", "2026-03-01 05:00", "2026-03-02 05:00"},
		// cal.com's cron-monthlyDigestEmail.yml
		{"59 23 28-31 * *", "2026-02-01 00:00", "2026-02-28 23:59"},
		{"0 8 * * 1", "2026-03-01 10:00", "2026-03-02 08:00"}, // 2026-03-02 is a Monday
		{"0 0 1 1 *", "2026-03-01 10:00", "2027-01-01 00:00"},
		{"0 0 * * 7", "2026-03-01 00:00", "2026-03-08 00:00"}, // Sunday as 7
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.expr)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		if got := s.Next(at(tt.from)); !got.Equal(at(tt.want)) {
			t.Errorf("%s after %s = %s, want %s", tt.expr, tt.from, got.Format("2006-01-02 15:04"), tt.want)
		}
	}
	for _, bad := range []string{"* * * *", "60 * * * *", "a * * * *", "*/0 * * * *", "5-1 * * * *", "0 0 30 2 * extra"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if s, _ := ParseSchedule("0 0 31 2 *"); !s.Next(at("2026-01-01 00:00")).IsZero() {
		t.Error("31 February fired")
	}
}

// TestCallSendsTheKey: the runner sends the key the way the routes compare
// it, and a 401 is an error.
func TestCallSendsTheKey(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		switch r.Header.Get("Authorization") {
		case "k$y #1", "Bearer s3cret":
			w.WriteHeader(200)
		default:
			w.WriteHeader(401)
		}
	}))
	defer srv.Close()
	cfg, err := ParseConfig([]byte("base_url: " + srv.URL + "\njobs:\n  - {path: /api/cron/a, method: POST, schedule: '0 0 * * *', auth: api_key}\n  - {path: /api/cron/b, method: GET, schedule: '0 5 * * *', auth: bearer}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Config: cfg, Keys: Keys{APIKey: "k$y #1", Secret: "s3cret"}}
	if err := r.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "POST /api/cron/a k$y #1|GET /api/cron/b Bearer s3cret"
	if strings.Join(got, "|") != want {
		t.Errorf("requests %q, want %q", strings.Join(got, "|"), want)
	}
	r.Keys.APIKey = "wrong"
	if err := r.Once(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong key: %v", err)
	}
}

func TestParseConfigRefuses(t *testing.T) {
	for _, c := range []string{
		"base_url: ftp://x\njobs: []\n",
		"base_url: http://web:3000\njobs:\n  - {path: api, method: POST, schedule: '* * * * *', auth: api_key}\n",
		"base_url: http://web:3000\njobs:\n  - {path: /a, method: DELETE, schedule: '* * * * *', auth: api_key}\n",
		"base_url: http://web:3000\njobs:\n  - {path: /a, method: POST, schedule: 'nope', auth: api_key}\n",
		"base_url: http://web:3000\nextra: 1\n",
	} {
		if _, err := ParseConfig([]byte(c)); err == nil {
			t.Errorf("accepted %q", c)
		}
	}
}
