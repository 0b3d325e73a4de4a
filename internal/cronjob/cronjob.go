// Package cronjob calls Cal.com's cron routes on their schedules: the
// routes under apps/web/pages/api/cron and apps/web/app/api/cron do nothing
// unless something requests them (calcom-facts.md §9, "Cron"); on Vercel
// that is vercel.json's crons, on cal.com's own infrastructure the GitHub
// workflows .github/workflows/cron-*.yml. calctl discovers both from the
// checked-out tree (installer) and runs them here (`calctl cron`, as the
// compose cron service or a systemd unit on pm2 hosts).
package cronjob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Auth says how a route authenticates the caller.
const (
	// AuthAPIKey sends `authorization: <CRON_API_KEY>`, which every cron
	// route accepts (cal.com@04338a8:apps/web/pages/api/cron/bookingReminder.ts:
	// `req.headers.authorization || req.query.apiKey` compared to
	// CRON_API_KEY; the app-router routes compare the same header).
	AuthAPIKey = "api_key"
	// AuthBearer sends `authorization: Bearer <CRON_SECRET>`, for routes that
	// accept only CRON_SECRET (Vercel's convention).
	AuthBearer = "bearer"
)

// Job is one route called on one schedule.
type Job struct {
	// Path is the route's URL path on the web app, e.g.
	// "/api/cron/bookingReminder" (no query string).
	Path string `yaml:"path"`
	// Method is GET or POST, as the tree's workflow or vercel.json calls it.
	Method string `yaml:"method"`
	// Schedule is a five-field cron expression, evaluated in UTC.
	Schedule string `yaml:"schedule"`
	// Auth is AuthAPIKey or AuthBearer.
	Auth string `yaml:"auth"`
	// Source says where the schedule came from (a workflow or vercel.json).
	Source string `yaml:"source,omitempty"`
}

// Config is the cron runner's configuration (cron.yaml).
type Config struct {
	// BaseURL is where the web app listens, as the runner reaches it.
	BaseURL string `yaml:"base_url"`
	// Jobs are the routes to call; Once calls them in this order.
	Jobs []Job `yaml:"jobs"`
}

// ParseConfig decodes and checks a cron.yaml.
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("cron config: %w", err)
	}
	if !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return nil, fmt.Errorf("cron config: base_url %q is not an http(s) URL", c.BaseURL)
	}
	for i, j := range c.Jobs {
		if !strings.HasPrefix(j.Path, "/") || strings.ContainsAny(j.Path, " ?#\r\n") {
			return nil, fmt.Errorf("cron config: jobs[%d].path %q is not a URL path", i, j.Path)
		}
		if j.Method != http.MethodGet && j.Method != http.MethodPost {
			return nil, fmt.Errorf("cron config: jobs[%d].method %q is not GET or POST", i, j.Method)
		}
		if j.Auth != AuthAPIKey && j.Auth != AuthBearer {
			return nil, fmt.Errorf("cron config: jobs[%d].auth %q is not %s or %s", i, j.Auth, AuthAPIKey, AuthBearer)
		}
		if _, err := ParseSchedule(j.Schedule); err != nil {
			return nil, fmt.Errorf("cron config: jobs[%d].schedule: %w", i, err)
		}
	}
	return &c, nil
}

// Schedule is a parsed five-field cron expression (minute hour
// day-of-month month day-of-week), evaluated in UTC like GitHub Actions'
// and Vercel's schedules.
type Schedule struct {
	min, hour, dom, month, dow uint64 // bit sets
	domStar, dowStar           bool
}

var fieldRanges = [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}

// ParseSchedule parses "m h dom mon dow" with *, lists, ranges and steps.
func ParseSchedule(expr string) (*Schedule, error) {
	f := strings.Fields(expr)
	if len(f) != 5 {
		return nil, fmt.Errorf("%q: want 5 fields (minute hour day month weekday), got %d", expr, len(f))
	}
	var sets [5]uint64
	for i, field := range f {
		s, err := parseField(field, fieldRanges[i][0], fieldRanges[i][1])
		if err != nil {
			return nil, fmt.Errorf("%q: field %d: %w", expr, i+1, err)
		}
		sets[i] = s
	}
	if sets[4]&(1<<7) != 0 { // 7 is Sunday too
		sets[4] |= 1
	}
	return &Schedule{min: sets[0], hour: sets[1], dom: sets[2], month: sets[3], dow: sets[4],
		domStar: strings.HasPrefix(f[2], "*"), dowStar: strings.HasPrefix(f[4], "*")}, nil
}

func parseField(field string, lo, hi int) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(field, ",") {
		rng, stepS, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepS)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("bad step %q", part)
			}
			step = n
		}
		a, b := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			x, y, _ := strings.Cut(rng, "-")
			var err1, err2 error
			a, err1 = strconv.Atoi(x)
			b, err2 = strconv.Atoi(y)
			if err1 != nil || err2 != nil || a > b {
				return 0, fmt.Errorf("bad range %q", part)
			}
		default:
			n, err := strconv.Atoi(rng)
			if err != nil {
				return 0, fmt.Errorf("bad value %q", part)
			}
			a, b = n, n
			if hasStep {
				b = hi
			}
		}
		if a < lo || b > hi {
			return 0, fmt.Errorf("%q is outside %d-%d", part, lo, hi)
		}
		for v := a; v <= b; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

func has(set uint64, v int) bool { return set&(1<<uint(v)) != 0 }

// Matches reports whether the minute t (UTC) is a firing time.
func (s *Schedule) Matches(t time.Time) bool {
	t = t.UTC()
	if !has(s.min, t.Minute()) || !has(s.hour, t.Hour()) || !has(s.month, int(t.Month())) {
		return false
	}
	dom, dow := has(s.dom, t.Day()), has(s.dow, int(t.Weekday()))
	switch {
	case s.domStar && s.dowStar:
		return true
	case s.domStar:
		return dow
	case s.dowStar:
		return dom
	}
	return dom || dow // cron's rule: either restricted day field matches
}

// Next returns the first firing minute strictly after t (UTC), within five
// years; the zero time if there is none (e.g. 31 February).
func (s *Schedule) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	end := t.AddDate(5, 0, 0)
	for t.Before(end) {
		if !has(s.month, int(t.Month())) {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !s.Matches(time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)) {
			if !has(s.hour, t.Hour()) {
				t = t.Truncate(time.Hour).Add(time.Hour)
				continue
			}
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}

// Keys are the secrets a Runner authenticates with.
type Keys struct {
	// APIKey is CRON_API_KEY (sent for AuthAPIKey jobs) and Secret is
	// CRON_SECRET (sent as a Bearer token for AuthBearer jobs), both from
	// the environment of `calctl cron`; an empty one fails its jobs.
	APIKey, Secret string
}

// Runner calls the jobs of a Config on their schedules.
type Runner struct {
	// Config is the parsed cron.yaml.
	Config *Config
	// Keys authenticate the calls.
	Keys Keys
	// Client makes the requests; nil uses one with a 5-minute timeout.
	Client *http.Client
	// Log records each call's outcome; nil logs nothing.
	Log *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Call requests one job's route once and returns an error unless the app
// answered 2xx.
func (r *Runner) Call(ctx context.Context, j Job) error {
	req, err := http.NewRequestWithContext(ctx, j.Method, strings.TrimRight(r.Config.BaseURL, "/")+j.Path, nil)
	if err != nil {
		return err
	}
	switch j.Auth {
	case AuthBearer:
		if r.Keys.Secret == "" {
			return errors.New("CRON_SECRET is empty")
		}
		req.Header.Set("Authorization", "Bearer "+r.Keys.Secret)
	default:
		if r.Keys.APIKey == "" {
			return errors.New("CRON_API_KEY is empty")
		}
		req.Header.Set("Authorization", r.Keys.APIKey)
	}
	req.Header.Set("Content-Type", "application/json")
	c := r.Client
	if c == nil {
		c = &http.Client{Timeout: 5 * time.Minute}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", j.Method, j.Path, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s", j.Method, j.Path, resp.Status)
	}
	return nil
}

// Once calls every job once, in order; it returns the first error after
// trying them all.
func (r *Runner) Once(ctx context.Context) error {
	var first error
	for _, j := range r.Config.Jobs {
		err := r.Call(ctx, j)
		r.log(j, err)
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (r *Runner) log(j Job, err error) {
	if r.Log == nil {
		return
	}
	if err != nil {
		r.Log.Warn("cron job failed", "path", j.Path, "err", err)
	} else {
		r.Log.Info("cron job done", "path", j.Path)
	}
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Run calls each job when its schedule fires, until ctx ends. A job that
// is still running when it fires again is skipped that time.
func (r *Runner) Run(ctx context.Context) error {
	scheds := make([]*Schedule, len(r.Config.Jobs))
	for i, j := range r.Config.Jobs {
		s, err := ParseSchedule(j.Schedule)
		if err != nil {
			return err
		}
		scheds[i] = s
	}
	running := make([]chan struct{}, len(r.Config.Jobs))
	last := r.now().UTC().Truncate(time.Minute)
	for {
		next := time.Time{}
		for _, s := range scheds {
			if n := s.Next(last); !n.IsZero() && (next.IsZero() || n.Before(next)) {
				next = n
			}
		}
		if next.IsZero() {
			<-ctx.Done()
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(next)):
		}
		for i, s := range scheds {
			if !s.Matches(next) {
				continue
			}
			if running[i] != nil {
				select {
				case <-running[i]:
				default:
					r.Log.Warn("cron job still running; skipped", "path", r.Config.Jobs[i].Path)
					continue
				}
			}
			done := make(chan struct{})
			running[i] = done
			go func(j Job) {
				defer close(done)
				r.log(j, r.Call(ctx, j))
			}(r.Config.Jobs[i])
		}
		last = next
	}
}
