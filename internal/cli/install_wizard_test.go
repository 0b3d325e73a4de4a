package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/wizard"
	"github.com/calctl/calctl/internal/testenv"
)

// tmuxTerm is a real terminal: the calctl binary runs in a detached tmux
// session of a fixed size; the test types with send-keys and reads the
// screen with capture-pane.
type tmuxTerm struct {
	t      *testing.T
	socket string
	name   string
}

func startTmux(t *testing.T, w, h int, env []string, argv ...string) *tmuxTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		testenv.Unavailable(t, "tmux", err)
	}
	// $CALCTL_TMUX_TAG names the servers of one run (a worktree's, say), so
	// they can be told from others on a shared machine
	tag := "calctl-wizard"
	if v := os.Getenv("CALCTL_TMUX_TAG"); v != "" {
		tag += "-" + v
	}
	tm := &tmuxTerm{t: t, socket: fmt.Sprintf("%s-%d", tag, time.Now().UnixNano()), name: "wizard"}
	// the command's exit code is printed after it, and the pane stays
	shell := "env -i " + strings.Join(quoteAll(env), " ") + " " + strings.Join(quoteAll(argv), " ") + "; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?echo' | sed 's/^/TTY=/'; sleep 600"
	tm.run("new-session", "-d", "-s", tm.name, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), shell)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", tm.socket, "kill-server").Run() })
	return tm
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "'" + strings.ReplaceAll(x, "'", `'\''`) + "'"
	}
	return out
}

func (tm *tmuxTerm) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends tmux key names (Enter, Escape, Up, C-c ...).
func (tm *tmuxTerm) keys(ks ...string) {
	tm.t.Helper()
	for _, k := range ks {
		tm.run("send-keys", "-t", tm.name, k)
		time.Sleep(80 * time.Millisecond) // one key per frame, as a person types
	}
}

// typeText types s literally.
func (tm *tmuxTerm) typeText(s string) {
	tm.t.Helper()
	tm.run("send-keys", "-t", tm.name, "-l", s)
	time.Sleep(80 * time.Millisecond)
}

func (tm *tmuxTerm) screen() string {
	tm.t.Helper()
	return tm.run("capture-pane", "-p", "-t", tm.name)
}

// snap keeps the screen as name.txt in $CALCTL_WIZARD_CAPTURES when set
// (docs/wizard.md is made from them).
func (tm *tmuxTerm) snap(name string) {
	tm.t.Helper()
	dir := os.Getenv("CALCTL_WIZARD_CAPTURES")
	if dir == "" {
		return
	}
	screen := tm.screen()
	if strings.HasPrefix(name, "accessible") { // a scrolling session: keep its history too
		screen = tm.run("capture-pane", "-p", "-S", "-", "-t", tm.name)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(screen), 0o644); err != nil {
		tm.t.Fatal(err)
	}
}

// colourSGR matches an escape sequence that sets a foreground colour.
const colourSGR = "\x1b\\[[0-9;]*(3[0-7]|38;[25]|9[0-7])[;m]"

// noColor fails when the screen holds a foreground colour (NO_COLOR is set).
func (tm *tmuxTerm) noColor() {
	tm.t.Helper()
	raw := tm.run("capture-pane", "-p", "-e", "-t", tm.name)
	if regexp.MustCompile(colourSGR).MatchString(raw) {
		tm.t.Errorf("NO_COLOR is set but the screen has colours:\n%q", raw)
	}
}

// waitFor waits until the screen shows every one of texts (a text starting
// with "re:" is a regular expression) and returns the screen.
func (tm *tmuxTerm) waitFor(texts ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		s = tm.screen()
		if shows(s, texts...) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	tm.t.Fatalf("the screen never showed %q; it shows:\n%s", texts, s)
	return ""
}

func shows(s string, texts ...string) bool {
	for _, t := range texts {
		if re, ok := strings.CutPrefix(t, "re:"); ok {
			if !regexp.MustCompile(re).MatchString(s) {
				return false
			}
		} else if !strings.Contains(s, t) {
			return false
		}
	}
	return true
}

var wizardBinary, wizardBinaryDir string // TestMain removes wizardBinaryDir

// buildWizardBinary builds the real calctl binary once per test run.
func buildWizardBinary(t *testing.T) string {
	t.Helper()
	if wizardBinary == "" {
		dir, err := os.MkdirTemp("", "calctl-wizard-bin")
		if err != nil {
			t.Fatal(err)
		}
		wizardBinaryDir = dir
		wizardBinary = testenv.BuildStaticBinary(t, "../../cmd/calctl", dir, "calctl")
	}
	return wizardBinary
}

// TestInstallWizardInTmux drives the real binary through the whole wizard
// with --dry-run, against a local git server with a protected repository,
// asserting what each screen shows and that nothing was written.
func TestInstallWizardInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		testenv.Unavailable(t, "tmux", err)
	}
	const token = "wizard-token-3f9a"
	git := testenv.StartGitServer(t)
	repo := testenv.NewWorkRepo(t)
	repo.Write(map[string]string{
		"package.json": `{"name":"calcom-monorepo","engines":{"node":">=18.x"},"packageManager":"yarn@3.4.1"}`,
		"README.md":    "fixture\n",
	})
	repo.Commit("fixture")
	url := repo.Publish(git, "calcom/cal.com.git")
	git.Protect("calcom/cal.com.git", testenv.Credential{Password: token})

	installDir := filepath.Join(t.TempDir(), "calcom")
	if err := os.MkdirAll(installDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(installDir, "keep.txt"), []byte("untouched\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := testenv.TreeHash(t, installDir)
	answers := filepath.Join(t.TempDir(), "saved", "answers.yaml")

	bin := buildWizardBinary(t)
	env := []string{"HOME=" + t.TempDir(), "CALCTL_INSTALLS_FILE=" + filepath.Join(t.TempDir(), "installs.json"), "TERM=xterm-256color", "NO_COLOR=1", "PATH=" + os.Getenv("PATH")}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		env = append(env, "DOCKER_HOST="+h)
	}
	tm := startTmux(t, 80, 24, env, bin, "install", "--dry-run", "--install-dir", installDir,
		"--source-url", url, "--ignore-preflight", "all")

	// 1 Welcome
	tm.waitFor("1/8 Welcome", "Install directory: "+installDir, "--dry-run: the run only reports", "dry run")
	tm.snap("1-welcome")
	tm.noColor()
	tm.keys("Enter")

	// 2 Source: the URL from the flag is prefilled; no token is refused
	tm.waitFor("2/8 Source", "Repository URL", url, "> main")
	tm.snap("2-source")
	tm.noColor()
	tm.keys("Enter", "Enter", "Enter", "Enter")
	s := tm.waitFor("re:✗ .*")
	tm.snap("2-source-refused")
	if !shows(s, "Token        none") {
		t.Errorf("the Source check does not say which token it used:\n%s", s)
	}
	if strings.Contains(s, token) {
		t.Fatalf("the screen shows the token:\n%s", s)
	}
	// the fix is on the same screen: "e" edits the failing field, the token
	tm.waitFor("Fix it here", "e   edit the git token")
	if strings.Contains(s, "--submodules skip") {
		t.Errorf("a parent-repository failure with submodules skipped advises --submodules skip:\n%s", s)
	}
	tm.keys("e")
	tm.waitFor("┃ Git token", url)
	tm.keys("Up", "Enter")
	tm.waitFor("read access to the repository")
	tm.typeText(token)
	s = tm.waitFor("> *****")
	if strings.Contains(s, token) {
		t.Fatalf("the token input is not masked:\n%s", s)
	}
	tm.keys("Enter")
	tm.waitFor("✓ "+url+" is readable with the token", "Token        typed")
	tm.snap("2-source-ok")

	// 3 Target: preflight findings of this host, as found
	tm.keys("Enter")
	tm.waitFor("3/8 Target", "Run Cal.com with", "compose", "pm2")
	tm.snap("3-target-form")
	tm.keys("Enter")
	tm.waitFor("Preflight (findings as they are found)", `re:(no problems found|warning\(s\)|error\(s\)|could not run)`)
	tm.snap("3-target")

	// 4 Database: bundled needs no connection test
	tm.keys("Enter")
	tm.waitFor("4/8 Database", "bundled")
	tm.snap("4-database")
	tm.keys("Enter")

	// 5 Public URL: invalid input is refused next to the field
	tm.waitFor("5/8 Public URL", "Public URL")
	tm.typeText("cal.example.com")
	tm.keys("Enter")
	tm.waitFor("is not an http(s) URL")
	tm.snap("5-public-url-invalid")
	tm.keys("C-u")
	tm.typeText("https://cal.example.com")
	tm.keys("Enter", "Enter")
	tm.waitFor("SMTP host")
	tm.snap("5-email")
	tm.keys("Enter", "Enter", "Enter", "Enter")
	tm.waitFor("deployment id")
	tm.snap("5-billing")
	tm.keys("Enter")

	// 6 Review: the dry-run plan, secrets masked; save the answers
	s = tm.waitFor("6/8 Review", "token typed (••••••••)", "Plan (--dry-run", "preflight → clone")
	if strings.Contains(s, token) {
		t.Fatalf("the review shows the token:\n%s", s)
	}
	tm.keys("s")
	tm.waitFor("save answers to:")
	tm.typeText(answers)
	tm.keys("Enter")
	tm.waitFor("✓ saved to " + answers)
	tm.snap("6-review")

	// the terminal grows and shrinks: the wizard redraws to fit
	tm.run("resize-window", "-t", tm.name, "-x", "120", "-y", "40")
	tm.waitFor("re:preflight → clone → secrets → render → write → start → migrate → seed →\\s*verify →\\s*check →\\s*agent")
	tm.run("resize-window", "-t", tm.name, "-x", "80", "-y", "24")
	tm.waitFor("re:migrate →\\s+seed →\\s+verify →\\s+check →\\s+agent")

	// 7 Run: every step, dry run
	tm.keys("Enter")
	s = tm.waitFor("7/8 Run", "re:dry run finished|r retry")
	tm.snap("7-run")
	tm.noColor()
	if strings.Contains(s, "r retry") {
		t.Fatalf("the dry run failed:\n%s", s)
	}
	for _, step := range []string{"preflight", "clone", "secrets", "render", "write", "start", "migrate", "verify", "check", "agent"} {
		if !regexp.MustCompile(`(✓|-) ` + step).MatchString(s) {
			t.Errorf("step %s is not shown as done or skipped:\n%s", step, s)
		}
	}

	// 8 Summary, then a clean exit
	tm.keys("Enter")
	tm.waitFor("8/8 Summary", "Dry run finished: nothing was written")
	tm.snap("8-summary")
	// At 80×24 the Next commands may sit below the list of files (the
	// bundled database alone writes ten): the Summary scrolls to them.
	for i := 0; i < 15 && !strings.Contains(tm.screen(), "calctl doctor"); i++ {
		tm.keys("Down")
	}
	tm.waitFor("8/8 Summary", "calctl doctor")
	tm.keys("Enter")
	s = tm.waitFor("EXIT=0")
	tm.snap("9-after-exit")
	if strings.Contains(s, "8/8 Summary") || strings.Contains(s, "────") {
		t.Errorf("the wizard's screen was left behind after exit:\n%s", s)
	}
	// the printed summary may be taller than the pane: read its history
	if h := tm.run("capture-pane", "-p", "-S", "-200", "-t", tm.name); !strings.Contains(h, "Dry run finished") || !strings.Contains(h, "calctl doctor --dir "+installDir) {
		t.Errorf("the summary (with Next commands aimed at the install) is not printed after the wizard ends:\n%s", h)
	}

	if after := testenv.TreeHash(t, installDir); after != before {
		t.Errorf("the dry run changed %s", installDir)
	}
	data, err := os.ReadFile(answers)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(token)) {
		t.Fatalf("saved answers hold the token:\n%s", data)
	}
	a, err := contract.LoadAnswersFile(answers)
	if err != nil {
		t.Fatal(err)
	}
	if a.Source.URL != url || a.Source.TokenEnv != wizard.GitTokenEnv || a.PublicURL != "https://cal.example.com" || a.InstallDir != installDir {
		t.Errorf("saved answers: %+v", a)
	}
	if err := a.Finish(); err != nil {
		t.Errorf("saved answers do not validate: %v", err)
	}
}

// TestInstallWizardCtrlCInTmux: Ctrl+C on a form leaves at once, with the
// terminal restored, exit 130 and nothing written.
func TestInstallWizardCtrlCInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		testenv.Unavailable(t, "tmux", err)
	}
	installDir := filepath.Join(t.TempDir(), "calcom")
	bin := buildWizardBinary(t)
	env := []string{"HOME=" + t.TempDir(), "CALCTL_INSTALLS_FILE=" + filepath.Join(t.TempDir(), "installs.json"), "TERM=xterm-256color", "PATH=" + os.Getenv("PATH")}
	tm := startTmux(t, 80, 24, env, bin, "install", "--install-dir", installDir)
	tm.waitFor("1/8 Welcome")
	tm.keys("Enter")
	tm.waitFor("Repository URL", "https://github.com/calcom/cal.com.git")
	// without NO_COLOR there are colours: this proves noColor can see them
	if raw := tm.run("capture-pane", "-p", "-e", "-t", tm.name); !regexp.MustCompile(colourSGR).MatchString(raw) {
		t.Errorf("no colour without NO_COLOR:\n%q", raw)
	}
	tm.keys("C-c")
	s := tm.waitFor("EXIT=130")
	if !strings.Contains(s, "nothing was changed") || strings.Contains(s, "Repository URL") {
		t.Errorf("after Ctrl+C the screen shows:\n%s", s)
	}
	if _, err := os.Stat(installDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("install dir was created: %v", err)
	}
}

// TestInstallWizardNeedsATerminal: without a TTY the wizard never starts.
func TestInstallWizardNeedsATerminal(t *testing.T) {
	var out, errb bytes.Buffer
	f := &Factory{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb, IsTerminal: true}, Getenv: func(string) string { return "" }}
	err := runInstallWizard(context.Background(), f, &contract.Answers{}, false)
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--non-interactive --answers FILE") {
		t.Fatalf("err = %v, want a usage error pointing to --non-interactive --answers", err)
	}
	if out.Len() != 0 || errb.Len() != 0 {
		t.Errorf("the wizard drew something without a terminal: %q %q", out.String(), errb.String())
	}
}

// TestInstallWizardAccessibleInTmux runs the wizard as huh's accessible
// prompts (CALCTL_ACCESSIBLE=1): line by line, no redrawing, same checks
// and engine.
func TestInstallWizardAccessibleInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		testenv.Unavailable(t, "tmux", err)
	}
	git := testenv.StartGitServer(t)
	repo := testenv.NewWorkRepo(t)
	repo.Write(map[string]string{"package.json": `{"name":"calcom-monorepo","engines":{"node":">=18.x"}}`})
	repo.Commit("fixture")
	url := repo.Publish(git, "calcom/cal.com.git")
	installDir := filepath.Join(t.TempDir(), "calcom")

	bin := buildWizardBinary(t)
	env := []string{"HOME=" + t.TempDir(), "CALCTL_INSTALLS_FILE=" + filepath.Join(t.TempDir(), "installs.json"), "TERM=xterm-256color", "PATH=" + os.Getenv("PATH"), "CALCTL_ACCESSIBLE=1"}
	tm := startTmux(t, 100, 50, env, bin, "install", "--dry-run", "--install-dir", installDir,
		"--source-url", url, "--ignore-preflight", "all")
	line := func(s string) { tm.typeText(s); tm.keys("Enter") }
	tm.waitFor("Install Cal.com on this host", "== Source ==", "Repository URL")
	line("") // keep the URL
	tm.waitFor("Ref (branch, tag or commit)")
	line("")
	tm.waitFor("Private submodules")
	line("")
	tm.waitFor("Git token")
	line("3") // no token: the fixture is public
	tm.waitFor("is readable without a token", "== Target ==")
	line("")
	tm.waitFor("preflight: done", "== Database ==")
	line("")
	tm.waitFor("Public URL")
	line("cal.example.com")
	tm.waitFor("is not an http(s) URL")
	line("https://cal.example.com")
	tm.waitFor("Proxy and TLS")
	line("")
	tm.waitFor("SMTP host")
	for _, l := range []string{"", "", "", ""} {
		line(l)
	}
	tm.waitFor("deployment id")
	line("")
	tm.waitFor("== Review ==", "Plan (--dry-run", "Save answers to FILE")
	tm.snap("accessible") // the prompts, to the Review
	line("")
	tm.waitFor("Start the install now?")
	line("y")
	s := tm.waitFor("== Summary ==", "Dry run finished: nothing was written", "EXIT=0")
	if !strings.Contains(s, "write: done") && !strings.Contains(s, "] write") {
		t.Errorf("the run's text view is missing:\n%s", s)
	}
	if _, err := os.Stat(installDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dry run created %s: %v", installDir, err)
	}
}

// TestInstallWizardAccessibleCtrlCInTmux: with --accessible, Ctrl+C at a prompt
// (cooked mode: a signal) leaves at once, even at the masked token prompt,
// with echo back on and nothing written.
func TestInstallWizardAccessibleCtrlCInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		testenv.Unavailable(t, "tmux", err)
	}
	installDir := filepath.Join(t.TempDir(), "calcom")
	bin := buildWizardBinary(t)
	env := []string{"HOME=" + t.TempDir(), "CALCTL_INSTALLS_FILE=" + filepath.Join(t.TempDir(), "installs.json"), "TERM=xterm-256color", "PATH=" + os.Getenv("PATH")}
	tm := startTmux(t, 100, 30, env, bin, "install", "--accessible", "--install-dir", installDir)
	tm.waitFor("Repository URL")
	tm.keys("Enter")
	tm.waitFor("Ref (branch")
	tm.keys("Enter")
	tm.waitFor("Private submodules")
	tm.keys("Enter")
	tm.waitFor("Git token")
	tm.typeText("2")
	tm.keys("Enter")
	tm.waitFor(`re:(?s)1 and 3 \[\d\]: 2.*Git token`) // the masked prompt: echo is off
	tm.keys("C-c")
	s := tm.waitFor("EXIT=130", "TTY=")
	if !strings.Contains(s, "nothing was changed") || !strings.Contains(s, "TTY=echo") {
		t.Errorf("after Ctrl+C at the token prompt:\n%s", s)
	}
	if _, err := os.Stat(installDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("install dir was created: %v", err)
	}
}

// TestInstallWithoutATerminalRefuses: `calctl install 2>&1 | tee log`
// (stderr not a terminal) refuses and points to --non-interactive
// --answers, as docs/wizard.md says; it never installs on defaults.
func TestInstallWithoutATerminalRefuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "install")
	for _, args := range [][]string{
		{"install", "--install-dir", dir},
		{"install", "--install-dir", dir, "--dry-run"},
		{"install", "--install-dir", dir, "-o", "json"},
	} {
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != 2 || !strings.Contains(stderr, "--non-interactive --answers FILE") || !strings.Contains(stderr, "is not one") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a pointer to --non-interactive --answers", args, code, stderr)
		}
		if strings.Contains(stdout, "step") {
			t.Errorf("%v: the install ran: %s", args, stdout)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v: the install dir was created", args)
		}
	}
}
