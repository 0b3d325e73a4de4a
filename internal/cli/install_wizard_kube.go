package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/home"
	"github.com/calctl/calctl/installer/tui"
	"github.com/calctl/calctl/internal/secret"
)

// defaultKubeconfig is the kubeconfig target kubernetes reads when the
// answers name none: $KUBECONFIG, then ~/.kube/config (as client-go's
// loading rules; installer/kuberelease). A $KUBECONFIG list of several
// files gives "": the answer stays empty and the list is used as it is.
func defaultKubeconfig(getenv func(string) string) string {
	if k := getenv("KUBECONFIG"); k != "" {
		if strings.ContainsRune(k, os.PathListSeparator) {
			return ""
		}
		return k
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".kube", "config")
	}
	return ""
}

// kubeHandoff runs the install of target kubernetes that the wizard
// gathered (tui.Handoff). The lean calctl links no kubernetes code, so it
// keeps the answers as every run does (installer/home: the pending
// directory of the install, where the sibling's own record of the run
// then takes them over; a dry run keeps nothing, so its answers go to a
// temporary file) and re-executes `calctl-kubernetes install
// --non-interactive --answers FILE` on this terminal, with the secrets the
// wizard gathered in the environment variables the answers name. It says
// first what it runs; a missing sibling is plugin.go's one-line error.
func kubeHandoff(ctx context.Context, f *Factory, res tui.Result, o wizardOptions, getenv func(string) string) error {
	a := res.Answers
	var path string
	if o.DryRun {
		dir, err := os.MkdirTemp("", "calctl-kubernetes-answers-")
		if err != nil {
			return fmt.Errorf("save the answers for %s: %w", KubernetesBinary, err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, home.AnswersFile)
		if err := home.WriteAnswers(path, a); err != nil {
			return err
		}
	} else {
		pending := home.PendingDir(getenv, a.InstallDir)
		if err := home.SaveAnswers(pending, a); err != nil {
			return err
		}
		path = filepath.Join(pending, home.AnswersFile)
	}
	args := []string{"install", "--non-interactive", "--answers", path}
	if o.DryRun {
		args = append(args, "--dry-run")
	}
	if o.FailOn != "" && o.FailOn != "none" {
		args = append(args, "--fail-on", o.FailOn)
	}
	if len(o.IgnorePreflight) > 0 {
		args = append(args, "--ignore-preflight", strings.Join(o.IgnorePreflight, ","))
	}
	fmt.Fprintf(f.IO.Err, "calctl: target kubernetes runs in %s: %s %s\n", KubernetesBinary, KubernetesBinary, strings.Join(args, " "))
	return execKubernetes(ctx, f.IO, args, kubeSecretsEnv(a, res.Env))
}

// kubeSecretsEnv puts the secrets the wizard gathered in the environment
// variables the answers name (NAME=value), for the sibling to read as
// `install --non-interactive` does.
func kubeSecretsEnv(a *contract.Answers, e contract.EnvSecrets) []string {
	var env []string
	set := func(name string, v secret.Secret) {
		if name != "" && v != "" {
			env = append(env, name+"="+v.Reveal())
		}
	}
	set(a.Source.TokenEnv, e.GitToken)
	if a.Database.Mode != contract.DBBundled {
		set(a.Database.URLEnv, e.DatabaseURL)
	}
	set(a.Email.PasswordEnv, e.SMTPPassword)
	set(a.Billing.TokenEnv, e.BillingToken)
	set(a.Billing.SigningSecretEnv, e.SigningSecret)
	set(a.API.LicenseKeyEnv, e.LicenseKey)
	return env
}
