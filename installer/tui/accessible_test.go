package tui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
)

// accessibleRun runs RunAccessible with the lines of script on its stdin (a
// pipe: what a person types, line by line) and returns how it ended and
// its transcript, with dir written as $DIR.
func accessibleRun(t *testing.T, cfg Config, dir string, script ...string) (Result, string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	go func() {
		// a pipe holds far more than a script: it is written whole and
		// closed, and the prompts read it line by line
		_, _ = w.WriteString(strings.Join(script, "\n") + "\n")
		w.Close()
	}()
	var out bytes.Buffer
	res, err := RunAccessible(context.Background(), cfg, r, &out)
	s := out.String()
	if dir != "" {
		s = strings.ReplaceAll(s, dir, "$DIR")
	}
	return res, s, err
}

// promptsAgain fails unless each refusal in refused is followed by the
// same prompt asked again: an invalid answer is refused with its reason
// and the question is repeated.
func promptsAgain(t *testing.T, transcript string, refused map[string]string) {
	t.Helper()
	for reason, prompt := range refused {
		re := regexp.MustCompile(regexp.QuoteMeta(prompt) + `[^\n]*\n✗ [^\n]*` + regexp.QuoteMeta(reason) + `[^\n]*\n` + regexp.QuoteMeta(prompt))
		if !re.MatchString(transcript) {
			t.Errorf("%q is not refused with %q and asked again:\n%s", prompt, reason, transcript)
		}
	}
}

// TestAccessibleCompose drives the accessible prompts through stdin for a
// compose install, through every screen, with a wrong answer at each kind
// of prompt (a number out of range, an empty required token, a refused
// check, an invalid URL, an invalid port) and a typed-ahead script. The
// transcript is a golden file: every option is listed with its number,
// every default is stated in brackets.
func TestAccessibleCompose(t *testing.T) {
	b := &memBackend{}
	cfg := testConfig(b)
	dir := t.TempDir()
	saved := filepath.Join(dir, "answers.yaml")
	res, out, err := accessibleRun(t, cfg, dir,
		// Source: URL, ref, submodules (9 is refused), token
		"", "", "9", "", "2", "", "bad-token",
		"y", // the token is refused: change these answers
		"", "", "", "2", "good-token",
		// Target: compose; ignore the blocking preflight finding
		"", "y",
		// Database: external, with its URL (hidden) and no CA file
		"2", "postgresql://cal:pw@db.internal:5432/cal?sslmode=require", "",
		// Public URL (the first is refused), proxy, e-mail (port refused), billing
		"cal.example.com", "https://cal.example.com", "", "", "x", "", "", "", "",
		// Review: save the answers, start
		saved, "y")
	if err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out)
	}
	if res.Outcome != Finished {
		t.Fatalf("outcome %d, want Finished:\n%s", res.Outcome, out)
	}
	a := res.Answers
	if a.Database.Mode != contract.DBExternal || a.PublicURL != "https://cal.example.com" || a.Source.Submodules != "skip" {
		t.Errorf("answers: database %s, public URL %s, submodules %s", a.Database.Mode, a.PublicURL, a.Source.Submodules)
	}
	if _, err := os.Stat(saved); err != nil {
		t.Errorf("the answers were not saved: %v", err)
	}
	for _, want := range []string{
		"1. resolve", "2. flatten", "3. skip", "Enter a number between 1 and 3 [3]: ",
		"1. compose", "2. pm2", "3. kubernetes",
		"Repository URL [https://github.com/calcom/cal.com.git]: ",
		"the address people open, e.g. https://cal.example.com", // a field's description
		"SMTP port [587]: ",
		"Start the install now? [y/N]: ",
		"== Summary ==",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, out)
		}
	}
	promptsAgain(t, out, map[string]string{
		`"9" is not a number between 1 and 3`:  "Enter a number between 1 and 3 [3]: ",
		"required: the token":                  "Git token (hidden): ",
		"is not an http(s) URL":                "Public URL: ",
		`expected 587 (STARTTLS) or 465 (TLS)`: "SMTP port [587]: ",
	})
	if strings.Contains(out, "good-token") || strings.Contains(out, "cal:pw@") {
		t.Errorf("a secret is in the transcript:\n%s", out)
	}
	golden(t, "accessible_compose", out)
}

// TestAccessibleKubernetes drives the kubernetes pages of the accessible
// prompts through stdin, with the contract's errors refused and asked
// again, to the Review and the handoff to calctl-kubernetes.
func TestAccessibleKubernetes(t *testing.T) {
	cfg := testConfig(&memBackend{})
	kubeCfg(&cfg)
	res, out, err := accessibleRun(t, cfg, "",
		"", "", "", "", // Source: keep everything (the token from the environment)
		"3",    // Target: kubernetes
		"", "", // kubeconfig, context
		"kube-system", "", // namespace: a system namespace is refused
		"",              // release
		"abc", "0", "3", // web replicas: words and 0 are refused
		"", "Registry.example.com/web", "registry.example.com/calcom/web", // registry: required, then lower case
		"", "", "", // pull secret, ingress class, storage class
		"", "", "letsencrypt-prod", // certificate: issuer; the issuer is required
		"",                                            // Database: bundled (in the cluster)
		"https://cal.example.com", "", "", "", "", "", // Public URL (no proxy question), e-mail, billing
		"", "y") // Review: do not save; start
	if err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out)
	}
	if res.Outcome != Handoff || res.Upgrade != nil {
		t.Fatalf("outcome %d (upgrade %v), want the kubernetes Handoff:\n%s", res.Outcome, res.Upgrade, out)
	}
	k := res.Answers.Kubernetes
	if res.Answers.Target != contract.TargetKubernetes || k.Namespace != "calcom" || k.Replicas.Web != 3 || k.Registry != "registry.example.com/calcom/web" || k.TLS.Issuer != "letsencrypt-prod" {
		t.Errorf("kubernetes answers: %+v", k)
	}
	if err := res.Answers.Validate(); err != nil {
		t.Errorf("the answers do not validate: %v", err)
	}
	for _, want := range []string{
		"Kubeconfig [/root/.kube/config]: ",
		"Namespace [calcom]: ", "Helm release [calcom]: ", "Web replicas [2]: ",
		"calctl pushes the web image here, e.g. registry.example.com/calcom/web",
		"1. issuer", "2. secret", "3. none", "Enter a number between 1 and 3 [1]: ",
		"bundled   Postgres 16 in the cluster",
		"and hands them to\n  calctl-kubernetes, which runs the install",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Proxy and TLS") {
		t.Errorf("target kubernetes asks for a proxy:\n%s", out)
	}
	promptsAgain(t, out, map[string]string{
		"is a system namespace":             "Namespace [calcom]: ",
		`"abc" is not a number of replicas`: "Web replicas [2]: ",
		`"0" is not a number of replicas`:   "Web replicas [2]: ",
		"missing":                           "Image registry: ",
		"is not an image repository":        "Image registry: ",
	})
	golden(t, "accessible_kubernetes", out)
}

// TestAccessibleUpgradeOffer: on an existing install the accessible prompts
// first offer the upgrade, with both choices numbered and the default
// stated; an invalid ref is refused and asked again; confirming hands off
// to calctl upgrade.
func TestAccessibleUpgradeOffer(t *testing.T) {
	cfg := testConfig(&memBackend{})
	existingCfg(&cfg)
	cfg.DryRun = true
	res, out, err := accessibleRun(t, cfg, "", "2", "v5 9", "v5.9.0", "y")
	if err != nil {
		t.Fatalf("RunAccessible: %v\n%s", err, out)
	}
	if res.Outcome != Handoff || res.Upgrade == nil || res.Upgrade.Ref != "v5.9.0" || res.Upgrade.Dir != "/opt/calcom" {
		t.Fatalf("result %+v, want the upgrade to v5.9.0 handed off:\n%s", res, out)
	}
	for _, want := range []string{
		"1. Change settings and re-run the install", "2. Upgrade this install to another Cal.com version",
		"Enter a number between 1 and 2 [1]: ", "[v5.8.0]: ", "Runs: calctl upgrade --ref v5.9.0 --dir /opt/calcom --dry-run",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, out)
		}
	}
	promptsAgain(t, out, map[string]string{"no spaces or control characters": "Upgrade to ref (branch, tag or commit; now v5.8.0) [v5.8.0]: "})
	golden(t, "accessible_upgrade", out)
}

// TestAccessibleInputEnds: when stdin ends before the wizard does (a short
// script, Ctrl+D), the prompts stop with ErrInputEnded instead of taking
// defaults for the rest, and nothing runs.
func TestAccessibleInputEnds(t *testing.T) {
	b := &memBackend{}
	res, out, err := accessibleRun(t, testConfig(b), "", "", "")
	if !errors.Is(err, ErrInputEnded) {
		t.Fatalf("err = %v, want ErrInputEnded:\n%s", err, out)
	}
	if res.Outcome != Quit || b.runs != 0 {
		t.Errorf("outcome %d after %d runs, want Quit and none", res.Outcome, b.runs)
	}
}
