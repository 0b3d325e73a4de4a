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
	"github.com/calctl/calctl/internal/testenv"
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

// TestWizardKubernetesInTmux drives the real lean calctl binary on a real
// terminal (tmux) to target kubernetes with --dry-run: the wizard leaves its
// screen and calctl-kubernetes gets the terminal and the answers. The
// sibling is a STUB script on $PATH (it records its argv and answers file,
// then reads a line from the terminal to prove it has it): this test is
// about the handoff, not the kubernetes install.
func TestWizardKubernetesInTmux(t *testing.T) {
	w := startKubeWizard(t, 80, 24, "NO_COLOR=1", "--dry-run")
	tm, url, rec, installDir := w.tm, w.url, w.rec, w.installDir

	tm.waitFor("1/8 Welcome")
	tm.keys("Enter")
	tm.waitFor("2/8 Source", url)
	tm.keys("Enter", "Enter", "Enter", "Enter")
	tm.waitFor("is readable without a token")
	tm.keys("Enter")
	tm.waitFor("3/8 Target", "kubernetes")
	tm.keys("Down", "Down")
	tm.waitFor("> kubernetes")
	tm.snap("kube-target")
	tm.keys("Enter")
	tm.waitFor("Kubeconfig", "> "+filepath.Join(w.home, ".kube", "config"))
	tm.snap("kube-cluster")
	tm.noColor()
	tm.keys("Enter", "Enter")
	tm.waitFor("Namespace", "Helm release")
	tm.snap("kube-names")
	tm.keys("Enter", "Enter", "Enter")
	tm.waitFor("Image registry")
	tm.typeText("Registry.example.com/web")
	tm.keys("Enter")
	tm.waitFor("is not an image repository")
	tm.snap("kube-registry-invalid")
	tm.keys("C-u")
	tm.typeText("registry.example.com/calcom/web")
	tm.keys("Enter", "Enter")
	tm.waitFor("Ingress class")
	tm.snap("kube-classes")
	tm.keys("Enter", "Enter")
	tm.waitFor("Ingress certificate")
	tm.snap("kube-tls")
	tm.keys("Enter")
	tm.waitFor("ClusterIssuer")
	tm.typeText("letsencrypt-prod")
	tm.snap("kube-issuer")
	tm.keys("Enter")
	tm.waitFor("4/8 Database", "bundled")
	tm.snap("kube-database")
	tm.keys("Enter")
	tm.waitFor("5/8 Public URL")
	tm.snap("kube-public-url")
	tm.typeText("https://cal.example.com")
	tm.keys("Enter")
	tm.waitFor("SMTP host")
	tm.keys("Enter", "Enter", "Enter", "Enter")
	tm.waitFor("deployment id")
	tm.keys("Enter")
	tm.waitFor("6/8 Review", "namespace calcom, release calcom", "enter hands these answers")
	tm.snap("kube-review")
	tm.noColor()
	tm.keys("PageDown")
	tm.waitFor(`re:calctl-kubernetes\s+--dry-run`, `re:release\s+→\s+check`)
	tm.snap("kube-review-end")
	tm.keys("Enter")
	s := tm.waitFor("STUB-KUBE: type a line")
	tm.snap("kube-handoff")
	// the terminal wraps the line at 80 columns
	if !strings.Contains(strings.ReplaceAll(s, "\n", ""), "calctl: target kubernetes runs in calctl-kubernetes: calctl-kubernetes install --non-interactive --answers ") {
		t.Errorf("calctl did not say what it runs:\n%s", s)
	}
	if strings.Contains(s, "6/8 Review") {
		t.Errorf("the wizard's screen is still up under the sibling:\n%s", s)
	}
	tm.typeText("hello")
	tm.keys("Enter")
	tm.waitFor("STUB-KUBE got hello", "EXIT=0")

	argv, err := os.ReadFile(filepath.Join(rec, "argv"))
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Fields(string(argv)); len(args) != 5 || args[0] != "install" || args[1] != "--non-interactive" || args[2] != "--answers" || args[4] != "--dry-run" {
		t.Errorf("the sibling got %q", args)
	}
	a, err := contract.LoadAnswersFile(filepath.Join(rec, "answers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("the answers the sibling got do not validate: %v", err)
	}
	if a.Target != contract.TargetKubernetes || a.Kubernetes.Registry != "registry.example.com/calcom/web" || a.Source.URL != url {
		t.Errorf("answers: target %s, registry %s, source %s", a.Target, a.Kubernetes.Registry, a.Source.URL)
	}
	if _, err := os.Stat(installDir); err == nil {
		t.Errorf("a dry run created %s", installDir)
	}
}

// ttyStub writes a STUB calctl-kubernetes into a new directory for $PATH:
// it records its argv (rec/argv) and the answers file it is given
// (rec/answers.yaml), then reads a line from the terminal and echoes it.
func ttyStub(t *testing.T) (rec, dir string) {
	t.Helper()
	rec, dir = t.TempDir(), t.TempDir()
	stub := `#!/bin/sh
printf '%s\n' "$@" > "` + rec + `/argv"
while [ $# -gt 0 ]; do
  if [ "$1" = --answers ]; then cp "$2" "` + rec + `/answers.yaml"; fi
  shift
done
printf 'STUB-KUBE: type a line: '
read line
echo "STUB-KUBE got $line"
exit 0
`
	if err := os.WriteFile(filepath.Join(dir, KubernetesBinary), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	return rec, dir
}

// kubeWizard is one run of the real binary's wizard in tmux (see
// startKubeWizard).
type kubeWizard struct {
	tm *tmuxTerm
	// url is the fixture repository's; rec the STUB sibling's record
	// directory (ttyStub); installDir the install directory; home the
	// wizard's $HOME; installs its $CALCTL_INSTALLS_FILE.
	url, rec, installDir, home, installs string
}

// startKubeWizard starts the real binary's `install` wizard in tmux at
// cols×rows, aimed at a fixture repository on a local git server, with the
// STUB sibling (ttyStub) first on $PATH and mode ("NO_COLOR=1" or
// "CALCTL_ACCESSIBLE=1") in its environment; extra are more install flags.
func startKubeWizard(t *testing.T, cols, rows int, mode string, extra ...string) kubeWizard {
	t.Helper()
	git := testenv.StartGitServer(t)
	repo := testenv.NewWorkRepo(t)
	repo.Write(map[string]string{"README.md": "fixture\n"})
	repo.Commit("fixture")
	w := kubeWizard{url: repo.Publish(git, "calcom/cal.com.git"), installDir: filepath.Join(t.TempDir(), "calcom"),
		home: t.TempDir(), installs: filepath.Join(t.TempDir(), "installs.json")}
	var stubDir string
	w.rec, stubDir = ttyStub(t)
	env := []string{"HOME=" + w.home, "CALCTL_INSTALLS_FILE=" + w.installs,
		"TERM=xterm-256color", mode, "PATH=" + stubDir + string(os.PathListSeparator) + os.Getenv("PATH")}
	argv := append([]string{buildWizardBinary(t), "install"}, extra...)
	argv = append(argv, "--install-dir", w.installDir, "--source-url", w.url, "--submodules", "skip")
	w.tm = startTmux(t, cols, rows, env, argv...)
	return w
}

// TestWizardKubernetesAccessibleInTmux: the accessible prompts ask the same
// kubernetes answers and hand off the same way (STUB sibling, ttyStub).
func TestWizardKubernetesAccessibleInTmux(t *testing.T) {
	w := startKubeWizard(t, 100, 50, "CALCTL_ACCESSIBLE=1")
	tm, rec, installDir := w.tm, w.rec, w.installDir
	line := func(s string) { tm.typeText(s); tm.keys("Enter") }
	tm.waitFor("== Source ==", "Repository URL")
	line("")
	tm.waitFor("Ref (branch, tag or commit)")
	line("")
	tm.waitFor("Private submodules")
	line("")
	tm.waitFor("Git token")
	line("3")
	tm.waitFor("is readable without a token", "== Target ==", "kubernetes")
	line("3")
	tm.waitFor("Kubeconfig [")
	for _, l := range []string{"", "", "", "", ""} { // kubeconfig, context, namespace, release, replicas
		line(l)
	}
	tm.waitFor("Image registry")
	line("registry.example.com/calcom/web")
	tm.waitFor("Pull secret")
	for _, l := range []string{"", "", "", ""} { // pull secret, ingress class, storage class, TLS: issuer
		line(l)
	}
	tm.waitFor("ClusterIssuer")
	line("letsencrypt-prod")
	tm.waitFor("== Database ==")
	line("")
	tm.waitFor("Public URL")
	line("https://cal.example.com")
	tm.waitFor("SMTP host")
	for _, l := range []string{"", "", "", ""} {
		line(l)
	}
	tm.waitFor("deployment id")
	line("")
	tm.waitFor("== Review ==", "hands them to", "Save answers to FILE")
	line("")
	tm.waitFor("Start the install now?")
	line("y")
	tm.waitFor("STUB-KUBE: type a line")
	line("hi")
	tm.waitFor("STUB-KUBE got hi", "EXIT=0")
	tm.snap("accessible-kubernetes")
	a, err := contract.LoadAnswersFile(filepath.Join(rec, "answers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("the answers the sibling got do not validate: %v", err)
	}
	argv, _ := os.ReadFile(filepath.Join(rec, "argv"))
	if args := strings.Fields(string(argv)); len(args) != 4 || args[3] != filepath.Join(home.PendingDir(func(k string) string {
		if k == home.InstallsEnv {
			return w.installs
		}
		return ""
	}, installDir), home.AnswersFile) {
		t.Errorf("the sibling got %q, want the answers kept in the install's pending directory", args)
	}
}

// TestWizardKubernetesNarrowInTmux walks the kubernetes pages of the real
// binary at 60×15 with NO_COLOR: every option of the certificate select,
// the contract's error in full, the key line on every page, no colour, the
// Review scrolling to what enter does, and the handoff (STUB sibling,
// ttyStub).
func TestWizardKubernetesNarrowInTmux(t *testing.T) {
	w := startKubeWizard(t, 60, 15, "NO_COLOR=1", "--dry-run")
	tm := w.tm
	// page waits for a page showing texts, with the key line, in no colour
	page := func(texts ...string) string {
		t.Helper()
		s := tm.waitFor(append(texts, "enter next")...)
		tm.noColor()
		return s
	}
	tm.waitFor("1/8 Welcome")
	tm.keys("Enter")
	tm.waitFor("2/8 Source")
	tm.keys("Enter", "Enter", "Enter", "Enter")
	tm.waitFor("is readable")
	tm.keys("Enter")
	page("3/8 Target", "compose", "pm2", "kubernetes")
	tm.keys("Down", "Down", "Enter")
	page("Kubeconfig", "Context (empty")
	tm.keys("Enter", "Enter")
	page("Namespace", "Helm release", "Web replicas")
	tm.keys("Enter", "Enter", "C-u")
	tm.typeText("two")
	tm.keys("Enter")
	page(`re:"two"\s+is\s+not\s+a\s+number\s+of\s+replicas;\s+expected\s+1\s+to\s+100`)
	tm.keys("C-u")
	tm.typeText("2")
	tm.keys("Enter")
	page("Image registry")
	tm.typeText("Registry.example.com/web")
	tm.keys("Enter")
	page(`re:is\s+not\s+an\s+image\s+repository;\s+expected\s+host\[:port\]/path\s+in\s+lower\s+case,\s+without\s+tag\s+or\s+digest,\s+e\.g\.\s+registry\.example\.com/calcom/web`)
	tm.keys("C-u")
	tm.typeText("registry.example.com/calcom/web")
	tm.keys("Enter", "Enter")
	page("Ingress class", "Storage class")
	tm.keys("Enter", "Enter")
	page("Ingress certificate", "> issuer", "secret", "none    plain http")
	tm.keys("Enter")
	page("ClusterIssuer")
	tm.keys("Enter")
	page(`re:required:\s+the\s+ClusterIssuer\s+that\s+issues\s+the\s+certificate`)
	tm.typeText("letsencrypt-prod")
	tm.keys("Enter")
	page("4/8 Database", "calcom-postgres", "external", "rds")
	tm.keys("Enter")
	page("5/8 Public URL")
	tm.typeText("https://cal.example.com")
	tm.keys("Enter")
	page("SMTP host")
	tm.keys("Enter", "Enter", "Enter", "Enter")
	page("deployment id")
	tm.keys("Enter")
	tm.waitFor("6/8 Review", "more lines", "enter")
	tm.noColor()
	for i := 0; i < 3; i++ {
		tm.keys("PageDown")
	}
	tm.waitFor(`re:calctl-kubernetes\s+--dry-run`, `re:release\s+→\s+check`)
	tm.keys("Enter")
	tm.waitFor("STUB-KUBE: type a line")
	tm.typeText("ok")
	tm.keys("Enter")
	tm.waitFor("STUB-KUBE got ok", "EXIT=0")
}
