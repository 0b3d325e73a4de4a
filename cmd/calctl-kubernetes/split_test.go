package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/testenv"
)

// kubeAnswers is an answers file for target kubernetes; the registry is a
// closed local port, so the dry run's registry lookup fails at once.
const kubeAnswers = `target: kubernetes
public_url: https://cal.example.com
database: {mode: external, url_env: DATABASE_URL}
billing: {endpoint: https://billing.example.com, deployment_id: dep_1, live_since: 2026-01-01}
kubernetes:
  registry: 127.0.0.1:1/calcom/web
  kubeconfig: KUBECONFIG_PATH
  tls: {issuer: letsencrypt}
`

// TestSplitBinaries builds the two binaries the way a release does (`go
// build ./cmd/calctl` knows nothing of kubernetes) into one directory and
// runs them as users do: the lean calctl hands the kubernetes target to
// calctl-kubernetes next to it, with its exit code and signals, and says
// what to do when the sibling is missing.
func TestSplitBinaries(t *testing.T) {
	testenv.Slow(t, "builds calctl and calctl-kubernetes")
	dir := t.TempDir()
	for _, b := range []struct{ out, pkg string }{
		{"calctl", "github.com/calctl/calctl/cmd/calctl"},
		{"calctl-kubernetes", "github.com/calctl/calctl/cmd/calctl-kubernetes"},
	} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	lean, full := filepath.Join(dir, "calctl"), filepath.Join(dir, "calctl-kubernetes")
	work := t.TempDir()
	answers := func(kubeconfig string) string {
		p := filepath.Join(work, "answers-"+filepath.Base(kubeconfig)+".yaml")
		if err := os.WriteFile(p, []byte(strings.Replace(kubeAnswers, "KUBECONFIG_PATH", kubeconfig, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// no kubeconfig: the dry run goes on without a cluster, a real run stops
	noCluster := answers(filepath.Join(work, "no-such-kubeconfig"))
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + work,
		"DATABASE_URL=postgresql://calcom:pw@db.example.com:5432/calendso?sslmode=verify-full",
		"CALCTL_BILLING_TOKEN=tok", "CALCTL_SIGNING_SECRET=sig"}
	run := func(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			code = ee.ExitCode()
		case err != nil:
			t.Fatal(err)
		}
		return o.String(), e.String(), code
	}

	t.Run("version names the binary", func(t *testing.T) {
		for bin, want := range map[string]string{lean: "calctl dev ", full: "calctl-kubernetes dev "} {
			out, _, code := run(t, bin, "version")
			if code != 0 || !strings.HasPrefix(out, want) {
				t.Errorf("%s version: exit %d, %q; want it to start with %q", filepath.Base(bin), code, out, want)
			}
		}
	})

	t.Run("lean delegates render", func(t *testing.T) {
		out := filepath.Join(work, "render")
		_, stderr, code := run(t, lean, "render", "--answers", noCluster, "--out", out, "--dry-run")
		if code != 0 {
			t.Fatalf("calctl render (kubernetes, dry run): exit %d\n%s", code, stderr)
		}
		// what only the kubernetes plan prints: the image step and the chart
		for _, want := range []string{"plan: secrets → image → render → write", "dry run: would build and push 127.0.0.1:1/calcom/web:", "create    chart/calcom/Chart.yaml", "nothing was written"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a dry run wrote %s (%v)", out, err)
		}
	})

	t.Run("exit code comes back", func(t *testing.T) {
		_, stderr, code := run(t, lean, "render", "--answers", noCluster, "--out", filepath.Join(work, "real"))
		if code != 1 || !strings.Contains(stderr, "kubeconfig") {
			t.Errorf("calctl render (kubernetes, no cluster): exit %d, want 1 with the kubeconfig remedy:\n%s", code, stderr)
		}
	})

	t.Run("missing sibling", func(t *testing.T) {
		alone := t.TempDir()
		b, err := os.ReadFile(lean)
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(alone, "calctl")
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := run(t, bin, "render", "--answers", noCluster, "--dry-run")
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 1 || stdout != "" || len(lines) != 1 {
			t.Fatalf("exit %d, stdout %q, stderr %q: want exit 1 and one line", code, stdout, stderr)
		}
		for _, want := range []string{"calctl-kubernetes", filepath.Join(alone, "calctl-kubernetes"), "$PATH", "install it next to calctl"} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("%q lacks %q", lines[0], want)
			}
		}
		// a lean calctl under the sibling's name never loops
		if err := os.WriteFile(filepath.Join(alone, "calctl-kubernetes"), b, 0o755); err != nil {
			t.Fatal(err)
		}
		_, stderr, code = run(t, bin, "render", "--answers", noCluster, "--dry-run")
		if code != 1 || !strings.Contains(stderr, "does not include the kubernetes target") {
			t.Errorf("lean binary as calctl-kubernetes: exit %d, %q", code, stderr)
		}
	})

	t.Run("signals reach the child", func(t *testing.T) {
		// an API server that takes the request and never answers: the
		// child blocks in its secrets step until it is told to stop
		arrived, gone := make(chan struct{}, 1), make(chan struct{}, 1)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			<-r.Context().Done()
			gone <- struct{}{}
		})}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		kc := filepath.Join(work, "hanging-kubeconfig")
		if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://`+l.Addr().String()+`"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: calcom}}]
current-context: x
`), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(sig.String(), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, lean, "render", "--answers", answers(kc), "--out", filepath.Join(work, "hang"))
				cmd.Env = env
				cmd.WaitDelay = 10 * time.Second // a child left behind holds stderr open
				var e bytes.Buffer
				cmd.Stderr = &e
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				select {
				case <-arrived:
				case <-ctx.Done():
					t.Fatalf("the child never asked the API server\n%s", e.String())
				}
				// only the parent is signalled; the child must hear it
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				err := cmd.Wait()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 130 {
					t.Fatalf("after %s: %v, want exit 130 (the child's interrupted)\n%s", sig, err, e.String())
				}
				select {
				case <-gone:
				case <-time.After(10 * time.Second):
					t.Fatalf("the child still holds its request after calctl exited")
				}
			})
		}
	})
}
