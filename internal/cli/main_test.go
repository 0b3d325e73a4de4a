package cli

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript scripts run calctl as a command ("exec calctl"
// or plain "calctl") in the same test binary, and removes what the run
// built once for all its tests (the wizard's binary).
func TestMain(m *testing.M) {
	testscript.Main(cleanupM{m}, map[string]func(){
		"calctl": func() { os.Exit(Main(context.Background(), os.Args[1:])) },
	})
}

// cleanupM runs the tests, then removes the shared build directories.
type cleanupM struct{ m *testing.M }

// Run runs the tests and removes wizardBinaryDir.
func (c cleanupM) Run() int {
	code := c.m.Run()
	if wizardBinaryDir != "" {
		os.RemoveAll(wizardBinaryDir)
	}
	return code
}
