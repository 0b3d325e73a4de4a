package cli

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript scripts run calctl as a command ("exec calctl"
// or plain "calctl") in the same test binary.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"calctl": func() { os.Exit(Main(context.Background(), os.Args[1:])) },
	})
}
