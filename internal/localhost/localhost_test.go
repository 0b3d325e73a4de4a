package localhost

import "testing"

func TestOf(t *testing.T) {
	for host, want := range map[string]Scope{
		"":                    Loopback,
		"/var/run/postgresql": Loopback,
		"[local]":             Loopback,
		"unix":                Loopback,
		"localhost":           Loopback,
		"LocalHost":           Loopback,
		"cal.localhost":       Loopback,
		"127.0.0.1":           Loopback,
		"127.1.2.3":           Loopback,
		"127.1":               Loopback,
		"::1":                 Loopback,
		"[::1]":               Loopback,
		"database":            SameHost,
		"calcom-db_1":         SameHost,
		"samehost":            SameHost,
		"172.17.0.2":          SameHost,
		"172.18.0.2":          Remote,
		"10.0.0.5":            Remote,
		"0.0.0.0":             Remote,
		"::":                  Remote,
		"db.example.com":      Remote,
		"localhost.evil.com":  Remote,
		"fe80::1":             Remote,
		"all":                 SameHost, // a bare word is a service name; pg_hba callers treat "all" themselves
	} {
		if got := Of(host); got != want {
			t.Errorf("Of(%q) = %s, want %s", host, got, want)
		}
	}
	if !IsLoopback("127.0.0.1") || IsLoopback("database") || !IsLocal("database") || IsLocal("db.example.com") {
		t.Error("IsLoopback/IsLocal disagree with Of")
	}
}
