package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/home"
)

// runCLI runs calctl in this process with env as its environment.
func runCLI(t testing.TB, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	// the list of installs on this host (installer/home) is the test's own
	installs := filepath.Join(t.TempDir(), "installs.json")
	getenv := func(k string) string {
		if v, ok := env[k]; ok || k != home.InstallsEnv {
			return v
		}
		return installs
	}
	f := &Factory{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb}, Getenv: getenv}
	code = Run(context.Background(), f, args)
	return code, out.String(), errb.String()
}
