// Package testenv starts REAL services for tests: a throwaway PostgreSQL
// cluster, a git smart-HTTP server with per-repository basic auth, and the
// machine's Docker engine.
//
// A test may skip because a service is missing only when the environment
// variable CALCTL_REQUIRE_SERVICES is unset; CI sets it, so there a missing
// service fails the test loudly instead.
package testenv

import (
	"errors"
	"os"
	"testing"
)

// RequireServicesEnv is the environment variable that turns skips for a
// missing service into failures.
const RequireServicesEnv = "CALCTL_REQUIRE_SERVICES"

// ServicesRequired reports whether missing services must fail tests.
func ServicesRequired() bool {
	v := os.Getenv(RequireServicesEnv)
	return v != "" && v != "0" && v != "false"
}

// Unavailable skips t because service is not available, or fails it when
// services are required.
func Unavailable(t testing.TB, service string, err error) {
	t.Helper()
	if ServicesRequired() {
		t.Fatalf("%s is required (%s=1) but unavailable: %v", service, RequireServicesEnv, err)
	}
	t.Skipf("%s unavailable (set %s=1 to fail instead): %v", service, RequireServicesEnv, err)
}

// Slow skips t under -short, saying why it is slow; like a missing
// service, that fails instead when services are required.
func Slow(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		Unavailable(t, "time for a slow test ("+why+")", errors.New("-short"))
	}
}
