package dburl

import (
	"strings"
	"testing"
)

func TestAnalyze(t *testing.T) {
	tests := []struct {
		url      string
		d        Driver
		enc, ver bool
	}{
		// the RDS URL people write: libpq's words, which the engine reads as prefer
		{"postgresql://u:p@h/db?sslmode=verify-full&sslrootcert=/ca.pem", Engine, false, false},
		{"postgresql://u:p@h/db?sslmode=verify-full&sslrootcert=/ca.pem", NodePG, true, true},
		{"postgresql://u:p@h/db?sslmode=verify-full&sslrootcert=/ca.pem", Libpq, true, true},
		{"postgresql://u:p@h/db?sslmode=require&sslcert=/ca.pem&sslaccept=strict", Engine, true, true},
		// the engine form read by node-postgres: sslcert is a client certificate
		{"postgresql://u:p@h/db?sslmode=require&sslcert=/ca.pem&sslaccept=strict", NodePG, false, false},
		{"postgresql://u:p@h/db?sslmode=require", Engine, true, false},
		{"postgresql://u:p@h/db", Engine, false, false},
		{"postgresql://u:p@h/db?sslmode=disable", Libpq, false, false},
		{"postgresql://u:p@h/db?sslmode=verify-ca", Libpq, true, false},
	}
	for _, tt := range tests {
		got, err := Analyze(tt.url, tt.d, "")
		if err != nil || got.Encrypted != tt.enc || got.Verified != tt.ver {
			t.Errorf("%s by %s: %+v %v; want encrypted %v verified %v", tt.url, tt.d, got, err, tt.enc, tt.ver)
		}
		if strings.Contains(got.Why, ":p@") {
			t.Errorf("Why leaks the URL: %s", got.Why)
		}
	}
	if got, _ := Analyze("postgresql://u:p@h/db", Libpq, "verify-full"); !got.Verified {
		t.Error("PGSSLMODE=verify-full not honoured for libpq")
	}
}

// TestFormKeepsBytes: only the query changes; "%24" in the password is not
// decoded, other parameters stay, and the result verifies for its driver.
func TestFormKeepsBytes(t *testing.T) {
	raw := "postgresql://cal:p%24ss%23w0rd@db.example.com:5432/cal?connection_limit=5&sslmode=verify-full&sslrootcert=/old.pem"
	for _, d := range []Driver{Engine, NodePG, Libpq} {
		got, err := Form(raw, d, "/etc/calcom/db ca.pem")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, "postgresql://cal:p%24ss%23w0rd@db.example.com:5432/cal?connection_limit=5&") {
			t.Errorf("%s: %s", d, got)
		}
		if tls, _ := Analyze(got, d, ""); !tls.Verified {
			t.Errorf("%s form %s does not verify: %s", d, got, tls.Why)
		}
		if strings.Contains(got, "old.pem") {
			t.Errorf("%s kept the old CA: %s", d, got)
		}
	}
	want := "postgresql://cal:p%24ss%23w0rd@db.example.com:5432/cal?connection_limit=5&sslmode=require&sslcert=/etc/calcom/db%20ca.pem&sslaccept=strict"
	if got, _ := Form(raw, Engine, "/etc/calcom/db ca.pem"); got != want {
		t.Errorf("engine form\n got %s\nwant %s", got, want)
	}
	if _, err := Form("mysql://x@y/z", Engine, ""); err == nil {
		t.Error("accepted a mysql URL")
	}
}
