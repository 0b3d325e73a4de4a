package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/home"
	"github.com/calctl/calctl/installer/tui"
	"github.com/calctl/calctl/installer/wizard"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
)

// kubeWizardResult drives the real wizard (installer/tui, with no backend:
// no live checks) through target kubernetes to its Review and confirms it,
// and returns how it ended.
func kubeWizardResult(t *testing.T, installDir string) tui.Result {
	t.Helper()
	m := tui.New(context.Background(), tui.Config{
		Answers:    &contract.Answers{InstallDir: installDir},
		Env:        contract.EnvSecrets{GitToken: "wizard-token-k8s"},
		TokenEnv:   "CALCTL_GIT_TOKEN",
		Kubeconfig: "/home/op/.kube/config",
		Plain:      true,
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	var seen bytes.Buffer
	see := func(texts ...string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			seen.Write(b)
			s := ansi.Strip(seen.String())
			for _, x := range texts {
				if !strings.Contains(s, x) {
					return false
				}
			}
			seen.Reset()
			return true
		}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	keys := func(ks ...string) {
		for _, k := range ks {
			switch k {
			case "enter":
				tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
			case "down":
				tm.Send(tea.KeyMsg{Type: tea.KeyDown})
			default:
				tm.Type(k)
			}
			time.Sleep(30 * time.Millisecond) // huh moves focus after the key
		}
	}
	see("Install Cal.com")
	keys("enter")
	see("Repository URL")
	keys("enter", "enter", "enter", "enter")
	see("Run Cal.com with")
	keys("down", "down", "enter")
	see("Kubeconfig")
	keys("enter", "enter")
	see("Namespace")
	keys("enter", "enter", "enter")
	see("Image registry")
	keys("registry.example.com/calcom/web", "enter", "enter")
	see("Ingress class")
	keys("enter", "enter")
	see("Ingress certificate")
	keys("enter")
	see("ClusterIssuer")
	keys("letsencrypt-prod", "enter")
	see("Postgres")
	keys("enter")
	see("Public URL")
	keys("https://cal.example.com", "enter")
	see("SMTP host")
	keys("enter", "enter", "enter", "enter")
	see("deployment id")
	keys("enter")
	see("Review", "plan ready")
	keys("enter")
	return tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*tui.Model).Result()
}

// TestWizardKubernetesHandoff: the answers the wizard gathers for target
// kubernetes are saved and handed to calctl-kubernetes install
// --non-interactive, with the secrets in the variables they name. The
// sibling here is a STUB script on $PATH that records its argv, the answers
// file it is given and $CALCTL_GIT_TOKEN, and exits 7: the subject is what
// the lean calctl hands over (the real sibling's install is
// internal/kubecli's). A missing sibling is plugin.go's one-line error.
func TestWizardKubernetesHandoff(t *testing.T) {
	rec, bin := t.TempDir(), t.TempDir()
	stub := `#!/bin/sh
printf '%s\n' "$@" > "$REC/argv"
while [ $# -gt 0 ]; do
  if [ "$1" = --answers ]; then cp "$2" "$REC/answers.yaml"; fi
  shift
done
printf '%s' "$CALCTL_GIT_TOKEN" > "$REC/token"
exit 7
`
	if err := os.WriteFile(filepath.Join(bin, KubernetesBinary), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REC", rec)
	t.Setenv("CALCTL_GIT_TOKEN", "") // the token reaches the sibling only through the handoff
	t.Setenv(home.InstallsEnv, filepath.Join(t.TempDir(), "installs.json"))
	installDir := filepath.Join(t.TempDir(), "calcom")

	res := kubeWizardResult(t, installDir)
	if res.Outcome != tui.Handoff {
		t.Fatalf("the wizard ended with outcome %d, want Handoff", res.Outcome)
	}
	for _, tc := range []struct {
		name   string
		dryRun bool
		path   string
	}{
		{"install", false, bin + string(os.PathListSeparator) + os.Getenv("PATH")},
		{"dry-run", true, bin + string(os.PathListSeparator) + os.Getenv("PATH")},
		{"missing sibling", false, t.TempDir()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			_ = os.Remove(filepath.Join(rec, "argv"))
			var errb bytes.Buffer
			f := &Factory{IO: IO{In: os.Stdin, Out: &bytes.Buffer{}, Err: &errb}, Getenv: os.Getenv}
			err := kubeHandoff(context.Background(), f, res, wizardOptions{Options: wizard.Options{DryRun: tc.dryRun}}, os.Getenv)
			if tc.name == "missing sibling" {
				if err == nil || !strings.Contains(err.Error(), "the kubernetes target needs calctl-kubernetes") {
					t.Fatalf("err = %v, want plugin.go's missing-sibling error", err)
				}
				return
			}
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Code != 7 {
				t.Fatalf("err = %v, want the sibling's exit 7", err)
			}
			argv, err := os.ReadFile(filepath.Join(rec, "argv"))
			if err != nil {
				t.Fatal(err)
			}
			args := strings.Split(strings.TrimSpace(string(argv)), "\n")
			want := []string{"install", "--non-interactive", "--answers"}
			if len(args) < 4 || strings.Join(args[:3], " ") != strings.Join(want, " ") {
				t.Fatalf("the sibling got %q, want %q FILE", args, want)
			}
			file := args[3]
			if got := strings.Contains(strings.Join(args, " "), "--dry-run"); got != tc.dryRun {
				t.Errorf("--dry-run passed: %v, want %v (%q)", got, tc.dryRun, args)
			}
			if !strings.Contains(errb.String(), "calctl-kubernetes install --non-interactive --answers "+file) {
				t.Errorf("calctl did not say what it runs: %q", errb.String())
			}
			// the answers file the sibling got loads and validates
			a, err := contract.LoadAnswersFile(filepath.Join(rec, "answers.yaml"))
			if err != nil {
				t.Fatalf("the answers file the sibling got does not load: %v", err)
			}
			if err := a.Validate(); err != nil {
				t.Fatalf("the answers file the sibling got does not validate: %v", err)
			}
			k := a.Kubernetes
			if a.Target != contract.TargetKubernetes || k.Registry != "registry.example.com/calcom/web" || k.TLS.Issuer != "letsencrypt-prod" || k.Kubeconfig != "/home/op/.kube/config" {
				t.Errorf("answers lost the wizard's values: target %s, %+v", a.Target, k)
			}
			if tok, _ := os.ReadFile(filepath.Join(rec, "token")); string(tok) != "wizard-token-k8s" {
				t.Errorf("the sibling's %s = %q, want the wizard's token", a.Source.TokenEnv, tok)
			}
			saved, _ := os.ReadFile(file)
			switch {
			case tc.dryRun && saved != nil:
				t.Errorf("a dry run kept its answers in %s", file)
			case !tc.dryRun && filepath.Dir(file) != home.PendingDir(os.Getenv, installDir):
				t.Errorf("answers saved in %s, want the install's pending directory %s", file, home.PendingDir(os.Getenv, installDir))
			case !tc.dryRun && saved == nil:
				t.Errorf("the answers were not kept in %s", file)
			}
			if strings.Contains(string(saved), "wizard-token-k8s") {
				t.Error("the saved answers hold the token")
			}
		})
	}
}
