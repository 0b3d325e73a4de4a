package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCLI runs calctl in this process with env as its environment.
func runCLI(t testing.TB, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	f := &Factory{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb}, Getenv: func(k string) string { return env[k] }}
	code = Run(context.Background(), f, args)
	return code, out.String(), errb.String()
}
