package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kubeAnswersFile writes an answers file for target kubernetes and sets
// the environment its secrets come from.
func kubeAnswersFile(t *testing.T) string {
	t.Helper()
	t.Setenv("DATABASE_URL", "postgresql://calcom:pw@db.example.com:5432/calendso?sslmode=verify-full")
	t.Setenv("CALCTL_BILLING_TOKEN", "tok")
	t.Setenv("CALCTL_SIGNING_SECRET", "sig")
	p := filepath.Join(t.TempDir(), "answers.yaml")
	if err := os.WriteFile(p, []byte(`target: kubernetes
public_url: https://cal.example.com
database: {mode: external, url_env: DATABASE_URL}
billing: {endpoint: https://billing.example.com, deployment_id: dep_1, live_since: 2026-01-01}
kubernetes:
  registry: 127.0.0.1:1/calcom/web
  tls: {issuer: letsencrypt}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKubernetesSibling: with cli.Kube nil (this test binary links no
// kubernetes code, like cmd/calctl), every way into the kubernetes target
// looks for calctl-kubernetes and, without it, stops with one line that
// says where it looked and what to do. cmd/calctl-kubernetes's
// TestSplitBinaries runs the real pair.
func TestKubernetesSibling(t *testing.T) {
	if Kube != nil {
		t.Fatal("internal/cli links the kubernetes target")
	}
	answers := kubeAnswersFile(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"render", nil, []string{"render", "--answers", answers, "--dry-run"},
			[]string{"the kubernetes target needs calctl-kubernetes", filepath.Join(filepath.Dir(self), "calctl-kubernetes"), "$PATH", "install it next to calctl"}},
		{"install", nil, []string{"install", "--non-interactive", "--answers", answers, "--dry-run"},
			[]string{"the kubernetes target needs calctl-kubernetes"}},
		{"stub", nil, []string{"kubestub", "--any-flag", "x"},
			[]string{"the kubernetes target needs calctl-kubernetes"}},
		{"loop", map[string]string{delegatedEnv: "1"}, []string{"render", "--answers", answers, "--dry-run"},
			[]string{"calctl-kubernetes (" + self + ") does not include the kubernetes target"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			f := &Factory{IO: IO{Out: &out, Err: &errb}, Getenv: os.Getenv}
			root := NewRootCmd(f)
			root.AddCommand(newKubernetesStubCmd(f, "kubestub", "a kubernetes-only command"))
			root.SetArgs(tc.args)
			code := exitCode(context.Background(), f, root.ExecuteContext(withArgs(context.Background(), tc.args)))
			lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
			if code != ExitFailure || out.Len() != 0 || len(lines) != 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q: want exit 1 and one line", code, out.String(), errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(lines[0], w) {
					t.Errorf("%q lacks %q", lines[0], w)
				}
			}
		})
	}
}

func TestJoinLooked(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"$PATH"}, "$PATH"},
		{[]string{"/a", "$PATH"}, "/a and $PATH"},
		{[]string{"/a", "/b", "$PATH"}, "/a, /b and $PATH"},
	} {
		if got := joinLooked(tc.in); got != tc.want {
			t.Errorf("joinLooked(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
