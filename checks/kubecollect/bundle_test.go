package kubecollect_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/bundle"
	"github.com/calctl/calctl/checks/kubecollect"
	"github.com/calctl/calctl/internal/kubetest"
	"github.com/calctl/calctl/internal/redact"
)

// TestBundleFromRealAPIServer bundles a namespace holding calctl's charts,
// a pod no node runs and an event that echoes a secret value: the archive
// holds no byte of any Secret value calctl created (grepped in the
// uncompressed tar), keeps the Secrets' keys, says why there are no logs,
// and `check --from-bundle` (bundle.ReadFacts + the K8S checks) gives the
// live results.
func TestBundleFromRealAPIServer(t *testing.T) {
	in := kubetest.Install(t, nil)
	ctx := context.Background()
	ns := in.Config.Namespace
	cs := in.Client.Clientset()
	pod := goodDeployment("lonely", "worker").Spec.Template
	// no controller-manager creates the "default" ServiceAccount here
	pod.Spec.ServiceAccountName = in.Config.Release
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "lonely", Labels: pod.Labels}, Spec: pod.Spec}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	leak := string(in.Secrets["NEXTAUTH_SECRET"])
	if _, err := cs.CoreV1().Events(ns).Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "leaky"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "lonely", Namespace: ns}, Reason: "Debug", Type: "Warning",
		Message: "app printed NEXTAUTH_SECRET " + leak + " at start"}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	target := kubecollect.Target{Kubeconfig: in.API.Kubeconfig, Namespace: ns}
	kin, err := kubecollect.Bundle(ctx, target, kubecollect.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kin.Report = judge(kin.Facts)
	out := filepath.Join(t.TempDir(), "support.tar.gz")
	m, err := bundle.WriteKube(out, *kin)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(out)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("bundle mode %v, want 0600", st.Mode().Perm())
	}
	fh, _ := os.Open(out)
	gz, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(gz)
	fh.Close()
	var secrets []string
	for key, v := range in.Secrets {
		secrets = append(secrets, string(v))
		if key == "dotenv" {
			for _, l := range strings.Split(string(v), "\n") {
				if i := strings.IndexByte(l, '='); i > 0 && redact.IsSecretKey(l[:i]) {
					secrets = append(secrets, strings.Trim(l[i+1:], `"'`))
				}
			}
		}
	}
	checked := 0
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		checked++
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the bundle holds a Secret value (%d bytes, starts %q)", len(s), s[:3])
		}
	}
	if checked < 8 {
		t.Fatalf("only %d secret values checked", checked)
	}
	c, err := bundle.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	sec := string(c.Files["objects/secrets.yaml"])
	for key := range in.Secrets {
		if !strings.Contains(sec, key+": "+kubecollect.Redacted) && !strings.Contains(sec, key+`: '`+kubecollect.Redacted) {
			t.Errorf("objects/secrets.yaml lost key %s:\n%s", key, sec)
		}
	}
	if !strings.Contains(string(c.Files["events.txt"]), "NEXTAUTH_SECRET [REDACTED") {
		t.Errorf("events.txt: the echoed secret is not redacted:\n%s", c.Files["events.txt"])
	}
	for _, want := range []string{"objects/deployments.yaml", "objects/statefulsets.yaml", "objects/networkpolicies.yaml", "objects/ingresses.yaml", "objects/cronjobs.yaml", "objects/configmaps.yaml", "facts.json", "results.json"} {
		if _, ok := c.Files[want]; !ok {
			t.Errorf("bundle lacks %s", want)
		}
	}
	if d := string(c.Files["objects/deployments.yaml"]); !strings.Contains(d, "@"+kubetest.Digest) || strings.Contains(d, "managedFields") {
		t.Errorf("deployments.yaml lost the image digest or kept managedFields")
	}
	omitted := ""
	for _, o := range m.Omitted {
		omitted += o.Name + ": " + o.Reason + "\n"
	}
	if !strings.Contains(omitted, "logs/lonely/app.log: pod is not scheduled to a node") {
		t.Errorf("manifest does not say why the pod has no log:\n%s", omitted)
	}
	// --from-bundle judges as the live run did
	bf, err := bundle.ReadFacts(out)
	if err != nil {
		t.Fatal(err)
	}
	replay, live := judge(bf), judge(kubecollect.Collect(ctx, target))
	if len(replay.Results) == 0 || len(replay.Results) != len(live.Results) {
		t.Fatalf("from bundle %d results, live %d", len(replay.Results), len(live.Results))
	}
	key := func(r checks.Result) [4]string { return [4]string{r.ID, r.Resource, string(r.Status), r.Message} }
	for i := range live.Results {
		if !reflect.DeepEqual(key(replay.Results[i]), key(live.Results[i])) {
			t.Errorf("from bundle %v, live %v", key(replay.Results[i]), key(live.Results[i]))
		}
	}
	t.Logf("bundle: %d files, %d redactions, %d omitted, %d secret values grepped, %d results equal live", len(m.Files)+1, len(m.Redactions), len(m.Omitted), checked, len(live.Results))
}
