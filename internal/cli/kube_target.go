package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/installer/contract"
)

// KubeTarget says which cluster and namespace the kubernetes commands
// read: flags first, then the `kubernetes:` block of the install's answers.
type KubeTarget struct {
	// Kubeconfig is the kubeconfig path ("": $KUBECONFIG, then ~/.kube/config).
	Kubeconfig string
	// Context is the kubeconfig context ("": its current one).
	Context string
	// Namespace is where the release lives ("": the context's, then calcom).
	Namespace string
	// Release is the Helm release (verify; "": calcom).
	Release string
	// PublicURL is the install's public URL, when the answers give it.
	PublicURL string
	// Timeout bounds each API request.
	Timeout time.Duration
}

// KubeBundleOptions tune a namespace's bundle.
type KubeBundleOptions struct {
	// Since limits pod logs (0: all); Tail is lines per container.
	Since time.Duration
	Tail  int // last lines per container
}

// VerifyOptions are `calctl verify`'s options.
type VerifyOptions struct {
	Target KubeTarget // the cluster, namespace and release
	// URL is the public URL to probe at /auth/login ("": the answers', then the Ingress's host).
	URL string
	// Output is table or json.
	Output string
}

// kubeFlags are the flags naming a cluster, shared by check, bundle and verify.
type kubeFlags struct {
	Kubeconfig, Context, Namespace, Answers string
}

func addKubeFlags(cmd *cobra.Command, k *kubeFlags) {
	fs := cmd.Flags()
	fs.StringVar(&k.Kubeconfig, "kubeconfig", "", "kubernetes: kubeconfig file (default: the answers' kubernetes.kubeconfig, $KUBECONFIG, ~/.kube/config)")
	fs.StringVar(&k.Context, "context", "", "kubernetes: kubeconfig context (default: the answers', then the current context)")
	fs.StringVar(&k.Namespace, "namespace", "", "kubernetes: namespace of the release (default: the answers', then calcom)")
	fs.StringVar(&k.Answers, "answers", "", "kubernetes: the install's answers file, for its kubernetes: block (default <dir>/"+answersFileName+" when present)")
}

// answersFileName is where the install wizard keeps the answers in the
// install directory (installer/wizard.AnswersFile).
const answersFileName = "calctl-answers.yaml"

// set reports whether any kubernetes flag was given.
func (k kubeFlags) set() bool {
	return k.Kubeconfig != "" || k.Context != "" || k.Namespace != ""
}

// kubeTarget decides whether a command is about a Kubernetes namespace —
// --profile kubernetes, a kubernetes flag, or answers whose target is
// kubernetes — and returns the target, flags over answers.
func kubeTarget(f *Factory, profile, dir string, k kubeFlags, timeout time.Duration) (KubeTarget, bool, error) {
	t := KubeTarget{Kubeconfig: k.Kubeconfig, Context: k.Context, Namespace: k.Namespace, Timeout: timeout}
	kube := profile == checks.ProfileKubernetes || k.set()
	answers := k.Answers
	if answers == "" {
		if dir == "" {
			dir = f.getenv("CALCTL_INSTALL_DIR")
		}
		if dir != "" {
			if p := filepath.Join(dir, answersFileName); fileExists(p) {
				answers = p
			}
		}
	}
	if answers == "" {
		return t, kube, nil
	}
	a, err := contract.LoadAnswersFile(answers)
	if err != nil {
		if k.Answers == "" && !kube {
			return t, false, nil // someone else's answers file: not ours to judge
		}
		return t, kube, usageErrorf("--answers %s: %v", answers, err)
	}
	if a.Target != contract.TargetKubernetes {
		if k.Answers != "" && kube {
			return t, kube, usageErrorf("%s is for target %q, not kubernetes", answers, a.Target)
		}
		return t, kube, nil
	}
	kb := a.Kubernetes
	if t.Kubeconfig == "" && kb.Kubeconfig != "" {
		t.Kubeconfig = kb.Kubeconfig
		if !filepath.IsAbs(t.Kubeconfig) {
			t.Kubeconfig = filepath.Join(filepath.Dir(answers), t.Kubeconfig)
		}
	}
	if t.Context == "" {
		t.Context = kb.Context
	}
	if t.Namespace == "" {
		t.Namespace = kb.Namespace
	}
	t.Release, t.PublicURL = kb.Release, a.PublicURL
	return t, true, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

type verifyOptions struct {
	IO      IO
	Factory *Factory
	Kube    kubeFlags
	Dir     string
	Release string
	URL     string
	Output  string
	Timeout time.Duration
}

func newVerifyCmd(f *Factory) *cobra.Command {
	opts := &verifyOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Smoke-test a Cal.com release on a Kubernetes cluster",
		Long: `verify reads the release's namespace through the API server and reports,
one line per object: the Helm release deployed, every Deployment and
StatefulSet rolled out (ready replicas = desired), the migrations Job
succeeded, every Service has a ready endpoint, the Ingress has an address,
and — when the public URL answers — GET /auth/login below 500. Each line
that is not ready says what to do.

Exit codes: 0 everything ready; 1 the API server could not be read;
2 command-line mistake; 3 something is not ready.`,
		Example: `  calctl verify --namespace calcom
  calctl verify --dir /opt/calcom -o json
  calctl verify --kubeconfig ~/.kube/prod --context prod --namespace calcom --url https://cal.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVerify(cmd.Context(), opts) },
	}
	addKubeFlags(cmd, &opts.Kube)
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "install dir holding "+answersFileName+" (its kubernetes: block names the cluster)")
	cmd.Flags().StringVar(&opts.Release, "release", "", "Helm release (default: the answers', then calcom)")
	cmd.Flags().StringVar(&opts.URL, "url", "", "public URL to probe at /auth/login (default: the answers' public_url, then the Ingress host)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 10*time.Second, "time limit for each API request and the HTTP probe")
	outputFlag(cmd, &opts.Output, "table", []string{"table", "json"})
	return cmd
}

func runVerify(ctx context.Context, opts *verifyOptions) error {
	t, _, err := kubeTarget(opts.Factory, checks.ProfileKubernetes, opts.Dir, opts.Kube, opts.Timeout)
	if err != nil {
		return err
	}
	if Kube == nil || Kube.Verify == nil {
		return runKubernetesSibling(ctx, opts.IO)
	}
	if opts.Release != "" {
		t.Release = opts.Release
	}
	url := opts.URL
	if url == "" {
		url = t.PublicURL
	}
	ready, err := Kube.Verify(ctx, opts.IO, VerifyOptions{Target: t, URL: url, Output: opts.Output})
	if err != nil {
		return err
	}
	if !ready {
		what := "the lines marked → above"
		if opts.Output == "json" {
			what = `the items whose state is "not ready"`
		}
		return &ExitError{Code: ExitFindings, Err: fmt.Errorf("not ready: fix %s and run calctl verify again", what)}
	}
	return nil
}

// errKubeSibling says the facts must come from calctl-kubernetes: the
// command re-executes it (plugin.go).
var errKubeSibling = errors.New("the kubernetes target is in " + KubernetesBinary)

// kubeTarget is kubeTarget for these target flags; a command that cannot
// judge a namespace (doctor) gets a usage error naming the ones that can.
func (t *targetOptions) kubeTarget(f *Factory) (KubeTarget, bool, error) {
	kt, kube, err := kubeTarget(f, t.Profile, t.Dir, t.Kube, t.Timeout)
	if err == nil && kube && !t.allowKube {
		return kt, false, usageErrorf("this command does not read Kubernetes namespaces yet; use calctl check --profile kubernetes, calctl bundle --profile kubernetes and calctl verify")
	}
	return kt, kube, err
}

// runKubeBundle is `calctl bundle` for a Kubernetes namespace.
func runKubeBundle(ctx context.Context, opts *bundleOptions, kt KubeTarget) error {
	if Kube == nil || Kube.KubeBundle == nil {
		return runKubernetesSibling(ctx, opts.IO)
	}
	var since time.Duration
	if opts.Since != "" {
		if d, err := time.ParseDuration(opts.Since); err == nil {
			since = d
		} else if ts, err := time.Parse(time.RFC3339, opts.Since); err == nil {
			since = time.Since(ts)
		}
	}
	m, err := Kube.KubeBundle(ctx, kt, opts.Out, KubeBundleOptions{Since: since, Tail: opts.Tail})
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Err, "wrote %s: %d files, %d redactions, %d left out (see manifest.json)\n", opts.Out, len(m.Files)+1, len(m.Redactions), len(m.Omitted))
	return nil
}

// forProfile keeps the checks of list that apply to profile (the K8S
// checks for kubernetes, the others otherwise), as catalog.For does, so
// SARIF and JUnit list only the rules that ran.
func forProfile(list []checks.Check, profile string) []checks.Check {
	var out []checks.Check
	for _, c := range list {
		if (checks.Group(c.ID()) == "K8S") == (profile == checks.ProfileKubernetes) {
			out = append(out, c)
		}
	}
	return out
}
