package bundle

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/checks"
)

// TestWriteKubeStaysReadable: files over the entry limit, or past the
// total limit, are left out with a manifest entry, so the bundle written
// can always be read back; the rest are redacted by kind.
func TestWriteKubeStaysReadable(t *testing.T) {
	f := &checks.Facts{SchemaVersion: checks.FactsSchemaVersion, Target: checks.Target{Profile: checks.ProfileKubernetes},
		Kube: &checks.KubeFacts{Namespace: "ns", NamespaceFound: true}}
	f.SetSource(checks.SourceKube, checks.SourceState{Collected: true})
	secret := "s3cret-value-0123456789"
	in := KubeInputs{Facts: f, Report: &checks.Report{}, Known: SecretValues([][]byte{[]byte("NEXTAUTH_SECRET=" + secret + "\nPUBLIC=https://cal.example.com\n")}),
		Files: []KubeFile{
			{Name: "objects/deployments.yaml", Kind: "objects", Data: []byte("image: web@sha256:" + strings.Repeat("ab", 32) + "\nenv: " + secret + "\n")},
			{Name: "objects/configmaps.yaml", Kind: "configmaps", Data: []byte("data:\n  SMTP_PASSWORD: hunter2hunter2\n  URL: https://cal.example.com\n")},
			{Name: "logs/big.log", Kind: "text", Data: bytes.Repeat([]byte("x"), maxEntry+1)},
			// (kind objects and blank lines: the redactor is quick on them)
			{Name: "objects/a.yaml", Kind: "objects", Data: bytes.Repeat([]byte(" "), maxTotal/2)},
			{Name: "logs/b.log", Kind: "text", Data: bytes.Repeat([]byte("line\n"), (maxTotal/2)/5)},
			{Name: "events.txt", Kind: "text", Data: []byte("pod printed " + secret + "\n")},
		}}
	out := filepath.Join(t.TempDir(), "k.tar.gz")
	m, err := WriteKube(out, in)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Read(out)
	if err != nil {
		t.Fatalf("the bundle WriteKube wrote cannot be read: %v", err)
	}
	omitted := map[string]bool{}
	for _, o := range m.Omitted {
		omitted[o.Name] = true
	}
	if !omitted["logs/big.log"] || !omitted["logs/b.log"] || omitted["objects/a.yaml"] || omitted["events.txt"] {
		t.Errorf("omitted %v", omitted)
	}
	for name, data := range c.Files {
		if bytes.Contains(data, []byte(secret)) || bytes.Contains(data, []byte("hunter2hunter2")) {
			t.Errorf("%s holds a secret value", name)
		}
	}
	if !bytes.Contains(c.Files["objects/deployments.yaml"], []byte(strings.Repeat("ab", 32))) {
		t.Error("objects lost the image digest")
	}
	if !bytes.Contains(c.Files["objects/configmaps.yaml"], []byte("https://cal.example.com")) {
		t.Error("a public value in a ConfigMap was redacted")
	}
}
