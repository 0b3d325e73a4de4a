package redact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:pw@h/db", "postgres://u:REDACTED@h/db"},
		{"https://u:p@h/x%zz", "https://u:REDACTED@h/x%zz"}, // does not parse
		{"git://u:p@h/x.git", "git://u:REDACTED@h/x.git"},
		{"ssh://u:p@h:22/x.git", "ssh://u:REDACTED@h:22/x.git"},
		{"ssh://git@h/x.git", "ssh://git@h/x.git"},
		{"postgresql://calcom@db/calendso", "postgresql://calcom@db/calendso"},
		{"https://ghp_TOKEN123@github.com/calcom/cal.com.git", "https://REDACTED@github.com/calcom/cal.com.git"},
		{"https://x-access-token:ghs_abc@github.com/o/r", "https://x-access-token:REDACTED@github.com/o/r"},
		{"postgres://u:p@ss@h/db", "postgres://u:REDACTED@h/db"},
		{"postgres://u:pa/ss@h/db", "postgres://u:REDACTED@h/db"},
		{"postgres://u:pa?ss@h/db", "postgres://u:REDACTED@h/db"},
		{"redis://:hunter22@redis:6379", "redis://:REDACTED@redis:6379"},
		{"https://h:8443/p@x", "https://h:REDACTED@x"}, // ambiguous: fails closed
		// a URL and its ref, as calctl displays a clone source: no user info
		{"would clone http://127.0.0.1:8080/calcom.git@main into /opt", "would clone http://127.0.0.1:8080/calcom.git@main into /opt"},
		{"http://localhost:3000/x.git@v5.0.0", "http://localhost:3000/x.git@v5.0.0"},
		{"http://[::1]:8080/x.git@feature/y", "http://[::1]:8080/x.git@feature/y"},
		{"http://127.0.0.1:8080@h/x", "http://127.0.0.1:REDACTED@h/x"},      // no path after the port: user info
		{"http://u:pw@127.0.0.1:8080/x.git@main", "http://u:REDACTED@main"}, // user info first: fails closed
		{"https://registry.npmjs.org/@babel/core", "https://registry.npmjs.org/@babel/core"},
		{"https://u:p@h/path?mail=a@b.com", "https://u:REDACTED@b.com"}, // ambiguous: fails closed
		{"https://h/path?mail=a@b.com", "https://h/path?mail=a@b.com"},
		{"https://tok@h/@scope/pkg", "https://REDACTED@h/@scope/pkg"},
		{"host=db user=calcom password=s3cret dbname=cal", "host=db user=calcom password=REDACTED dbname=cal"},
		{"host=db password='s 3cret' sslmode=require", "host=db password=REDACTED sslmode=require"},
		{"postgres://h/db?sslmode=require&password=q1&x=1", "postgres://h/db?sslmode=require&password=REDACTED&x=1"},
		{"postgres://h/db?sslpassword=q1", "postgres://h/db?sslpassword=REDACTED"},
		{`clone "https://u:p@a/x" failed, then ssh://v:q@b/y: no`, `clone "https://u:REDACTED@a/x" failed, then ssh://v:REDACTED@b/y: no`},
		{"parse \"https://u:p@h/x%zz\": invalid URL escape \"%zz\"", "parse \"https://u:REDACTED@h/x%zz\": invalid URL escape \"%zz\""},
		{"no url here: a:b@c", "no url here: a:b@c"},
		{"https://h/x", "https://h/x"},
		{"", ""},
	}
	for _, tt := range tests {
		got := URL(tt.in)
		if got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := URL(got); again != got {
			t.Errorf("URL is not idempotent on %q: %q", got, again)
		}
	}
}

// FuzzURL: whatever the password, it is replaced and nothing else is.
func FuzzURL(f *testing.F) {
	for _, s := range []string{"p", "p@ss", "pa/ss", "p%zz", "p?x#y", "REDACTED", "::", "@@"} {
		f.Add("https", "u", s, "h.example/x")
		f.Add("postgres", "", s, "db:5432/cal")
		f.Add("http", "127.0.0.1", s, "h/x")
	}
	f.Add("http", "127.0.0.1", "8080/calcom.git", "main")
	f.Fuzz(func(t *testing.T, scheme, user, pass, rest string) {
		if pass == "" || strings.ContainsAny(pass+user+rest+scheme, " \t\r\n\"'`<>") ||
			strings.ContainsAny(user, ":@/?#") || !schemeRE.MatchString(scheme+"://") || schemeRE.FindString(scheme+"://") != scheme+"://" ||
			strings.Contains(pass, "://") || strings.Contains(rest, "://") || strings.ContainsAny(rest, "@") || strings.Contains(strings.ToLower(pass+rest), "password=") {
			return
		}
		if localHostPort(user + ":" + pass) {
			return // 127.0.0.1:8080/x@ref: a URL and its ref (TestURL), no user name looks like that
		}
		in := "x " + scheme + "://" + user + ":" + pass + "@" + rest + " y"
		want := "x " + scheme + "://" + user + ":" + Redacted + "@" + rest + " y"
		if out := URL(in); out != want {
			t.Fatalf("URL(%q) = %q, want %q", in, out, want)
		}
	})
}

func TestURLPasswords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"postgres://u:p%40ss@h/db", []string{"p@ss", "p%40ss"}},
		{"postgres://u:pw@h/db?password=q2", []string{"pw", "q2"}},
		{"https://u:p@h/x%zz", []string{"p"}},
		{"host=h password='a b' user=u", []string{"a b", "a+b", "a%20b"}},
		{"postgres://h/db", nil},
	}
	for _, tt := range tests {
		if got := URLPasswords(tt.in); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("URLPasswords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsSecretKey(t *testing.T) {
	for k, want := range map[string]bool{
		"NEXTAUTH_SECRET": true, "CALENDSO_ENCRYPTION_KEY": true, "DATABASE_URL": true, "DATABASE_DIRECT_URL": true,
		"EMAIL_SERVER_PASSWORD": true, "CRON_API_KEY": true, "CALCOM_LICENSE_KEY": true, "GOOGLE_API_CREDENTIALS": true,
		"VAPID_PRIVATE_KEY": true, "password": true, "db_pass": true, "SENTRY_DSN": true,
		"NEXT_PUBLIC_WEBAPP_URL": false, "EMAIL_FROM": false, "NODE_ENV": false, "POSTGRES_USER": false, "KEYBOARD": false,
	} {
		if got := IsSecretKey(k); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", k, got, want)
		}
	}
}

func TestRedactorRules(t *testing.T) {
	r := New(Options{Known: []string{"known-value-123", "short"}, Rules: TextRules()})
	tests := []struct{ in, want string }{
		{"x known-value-123 y", "x [REDACTED:known-secret] y"},
		{"postgres://u:pw@h/db", "postgres://u:REDACTED@h/db"},
		{"mail bob@example.com now", "mail ***@example.com now"},
		{"token=abcd1234", "token=[REDACTED:secret-assignment]"},
		{"sent Bearer abcdefghijklmnop", "sent Bearer [REDACTED:bearer]"},
		{"AKIAIOSFODNN7EXAMPLE", "[REDACTED:aws-access-key]"},
		{"a short word", "a short word"},
		{"plain log line", "plain log line"},
	}
	for _, tt := range tests {
		if got := strings.TrimSuffix(r.Text("f", tt.in), "\n"); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var rules []string
	for _, x := range r.Report() {
		if x.File != "f" || x.Line != 1 {
			t.Errorf("redaction %+v: want file f, line 1", x)
		}
		rules = append(rules, x.Rule)
	}
	if got := strings.Join(rules, ","); got != "known-secret,url-password,email,secret-assignment,bearer,aws-access-key" {
		t.Errorf("report rules %s", got)
	}
	s := New(Options{Rules: StructuredRules()})
	if in := `{"secret": true, "has_password": true, "evidence": "bob@example.com"}`; s.Line("facts.json", 1, "", in) != in {
		t.Errorf("structured rules changed calctl's own JSON")
	}
}

func TestRedactorValueAndArgv(t *testing.T) {
	r := New(Options{Rules: TextRules()})
	if got := r.Value("compose", 3, "POSTGRES_PASSWORD", "hunter2"); got != "[REDACTED]" {
		t.Errorf("Value(secret key) = %q", got)
	}
	if got := r.Value("compose", 4, "NODE_ENV", "production"); got != "production" {
		t.Errorf("Value(plain) = %q", got)
	}
	if got := r.Value("compose", 5, "REDIS_HOST", "redis://:pw@r:6379"); got != "redis://:REDACTED@r:6379" {
		t.Errorf("Value(url) = %q", got)
	}
	got := r.Argv("cmd", []string{"postgres", "--password", "hunter2", "--db-token=t0k3n-v4lue", "-c", "ssl=on", "https://u:p@h/"})
	want := []string{"postgres", "--password", "[REDACTED]", "--db-token=[REDACTED]", "-c", "ssl=on", "https://u:REDACTED@h/"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Argv = %q, want %q", got, want)
	}
	for _, x := range r.Report() {
		if strings.Contains(fmt.Sprint(x), "hunter2") || strings.Contains(fmt.Sprint(x), "t0k3n") {
			t.Errorf("the report holds a value: %+v", x)
		}
	}
}

func TestErrorKeepsTheChain(t *testing.T) {
	base := fmt.Errorf("connect to postgres://calcom:hunter22@db/cal: %w", context.Canceled)
	err := Error(base, URLPasswords("postgres://calcom:hunter22@db/cal")...)
	if strings.Contains(err.Error(), "hunter22") || !strings.Contains(err.Error(), "postgres://calcom:") {
		t.Errorf("Error() = %q", err)
	}
	if !errors.Is(err, context.Canceled) || errors.Unwrap(err) != base {
		t.Errorf("the scrubbed error lost its chain")
	}
	wrapped := fmt.Errorf("migrate: %w", err)
	if !errors.Is(wrapped, context.Canceled) {
		t.Errorf("wrapping the scrubbed error lost its chain")
	}
	plain := errors.New("no secret here")
	if Error(plain, "hunter22") != plain || Error(nil) != nil {
		t.Errorf("Error changed an error without secrets")
	}
	if got := Error(errors.New("pw abc is short"), "abc").Error(); got != "pw abc is short" {
		t.Errorf("a 3-character value was replaced: %q", got)
	}
}

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewTextHandler(&buf, nil), "s3cr3t-token"))
	log = log.With("endpoint", "https://u:pw@billing.example.com")
	log.Info("send failed: token s3cr3t-token refused", "err", errors.New(`Post "https://x:y@h/": EOF`), "n", 3,
		slog.Group("g", "url", "postgres://a:b@c/d"))
	out := buf.String()
	for _, leak := range []string{"s3cr3t-token", ":pw@", ":y@", ":b@"} {
		if strings.Contains(out, leak) {
			t.Errorf("log holds %q: %s", leak, out)
		}
	}
	if !strings.Contains(out, "n=3") || !strings.Contains(out, "g.url=postgres://a:REDACTED@c/d") {
		t.Errorf("log lost attributes: %s", out)
	}
}

func TestWithRulesSharesTheReport(t *testing.T) {
	r := New(Options{Known: []string{"known-value-123"}, Rules: TextRules()})
	s := r.WithRules(StructuredRules()...)
	if got := s.Line("facts.json", 2, "", "bob@example.com known-value-123"); got != "bob@example.com [REDACTED:known-secret]" {
		t.Errorf("structured line = %q", got)
	}
	r.Line("log", 1, "", "bob@example.com")
	if rep := r.Report(); len(rep) != 2 || rep[0].File != "facts.json" || rep[1].Rule != "email" {
		t.Errorf("report %+v", rep)
	}
}

// Public values under secret-looking names stay (DK-008 once failed an
// image for its GPG_KEY fingerprint); environment assignments and shell
// scripts in a command line are redacted like flags (facts.json once kept
// raw compose commands and container Cmds).
func TestPublicKeysAndArgvShapes(t *testing.T) {
	for _, k := range []string{"GPG_KEY", "GPG_KEYS", "NEXT_PUBLIC_VAPID_PUBLIC_KEY", "NEXT_PUBLIC_STRIPE_PUBLIC_KEY", "SSH_HOST_KEY_FINGERPRINT"} {
		if IsSecretKey(k) {
			t.Errorf("%s judged secret", k)
		}
	}
	for _, k := range []string{"VAPID_PRIVATE_KEY", "CALENDSO_ENCRYPTION_KEY", "NEXTAUTH_SECRET"} {
		if !IsSecretKey(k) {
			t.Errorf("%s not judged secret", k)
		}
	}
	r := New(Options{})
	got := strings.Join(r.Argv("cmd", []string{"env", "PGPASSWORD=hunter2-argv", "sh", "-c", "pg_dump --password hunter2-sh -h db"}), " ")
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "PGPASSWORD=[REDACTED]") || !strings.Contains(got, "pg_dump --password [REDACTED] -h db") {
		t.Errorf("Argv = %q", got)
	}
}

// TestControls: what a git server, a repository or a bundle says reaches
// the terminal without anything that drives it.
func TestControls(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain text, ünïcode ✓", "plain text, ünïcode ✓"},
		{"evil\x1b]0;pwned\x07\x1b[2J", "evil\uFFFD]0;pwned\uFFFD\uFFFD[2J"},
		{"a\tb\nc\r", "a b c\uFFFD"},
		{"C1 \u009b31m", "C1 \uFFFD31m"},
		{"del \x7f", "del \uFFFD"},
		{"bidi \u202egnp.exe \u2066x\u2069", "bidi \uFFFDgnp.exe \uFFFDx\uFFFD"},
		{"sep \u2028", "sep \uFFFD"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	} {
		if got := Controls(tt.in); got != tt.want {
			t.Errorf("Controls(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := Controls(tt.want); again != tt.want {
			t.Errorf("not idempotent on %q", tt.want)
		}
	}
}
