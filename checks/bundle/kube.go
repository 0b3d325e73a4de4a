package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/redact"
)

// KubeFile is one file of a Kubernetes namespace's bundle, as the
// Kubernetes collector (checks/kubecollect) gathered it. Secret objects
// arrive with their data and stringData values already replaced (keys
// kept); WriteKube still redacts every file before writing it.
type KubeFile struct {
	// Name is the path in the bundle (objects/deployments.yaml, events.yaml,
	// logs/<pod>/<container>.log).
	Name string
	What string // what the file holds, for manifest.json
	Data []byte // the content before redaction
	// Kind says how to redact: "objects" (calctl-serialised objects:
	// known values and token shapes, so image digests and UIDs stay),
	// "configmaps" (YAML: secret-named keys' values, then every text rule)
	// or "text" (events and logs: every text rule).
	Kind string
}

// KubeInputs is what goes into a Kubernetes namespace's bundle.
type KubeInputs struct {
	// Facts are the namespace's facts (facts.json, Kube set); required.
	Facts *checks.Facts
	// Report is the K8S check report over Facts (results.json); required.
	Report *checks.Report
	Files  []KubeFile // the collector's files
	// Omitted are things left out, with why (no pods to read logs from, a
	// log the API server would not give).
	Omitted []OmittedFile
	// Known are the namespace's Secret values, in memory only: replaced
	// wherever they appear (a value echoed in a log or an event).
	Known []string
	Tool  checks.Tool // the calctl that wrote the bundle
	Now   time.Time   // the bundle's time (zero: now)
}

// WriteKube writes a Kubernetes namespace's support bundle to out (mode
// 0600, atomically): manifest.json, facts.json and results.json as Write
// makes them, so `calctl check --from-bundle` re-runs the K8S checks
// offline, plus the collector's files, each redacted.
func WriteKube(out string, in KubeInputs) (*Manifest, error) {
	if in.Facts == nil || in.Report == nil {
		return nil, errors.New("bundle: facts and report are required")
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	b := &builder{files: map[string][]byte{}, red: NewRedactor(in.Known),
		m: Manifest{Version: ManifestVersion, CreatedAt: now, Tool: in.Tool}}
	if err := b.addJSON("facts.json", "collected facts (no secret values by construction)", in.Facts); err != nil {
		return nil, err
	}
	if err := b.addJSON("results.json", "check results (calctl check -o json)", in.Report); err != nil {
		return nil, err
	}
	for _, f := range in.Files {
		if bytes.IndexByte(f.Data, 0) >= 0 {
			b.omit(f.Name, "binary: cannot be redacted safely")
			continue
		}
		s := string(f.Data)
		switch f.Kind {
		case "objects":
			s = b.red.Structured(f.Name, s)
		case "configmaps":
			red, err := b.red.Config(f.Name, "compose", s)
			if err != nil {
				b.omit(f.Name, "cannot be parsed ("+oneLine(err.Error())+"): left out so that no value escapes redaction")
				continue
			}
			s = red
		default:
			s = b.red.Text(f.Name, s)
		}
		b.add(f.Name, f.What, []byte(s))
	}
	b.m.Omitted = append(b.m.Omitted, in.Omitted...)
	b.m.Redactions = b.red.Log()
	if b.m.Redactions == nil {
		b.m.Redactions = []Redaction{}
	}
	mraw, err := json.MarshalIndent(b.m, "", "  ")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, n := range append([]string{"manifest.json"}, b.order...) {
		data := mraw
		if n != "manifest.json" {
			data = b.files[n]
		}
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o600, Size: int64(len(data)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		return nil, fmt.Errorf("write bundle %s: %w", out, err)
	}
	return &b.m, nil
}

// SecretValues expands Secret values into the strings to redact: each
// value whole, and for a dotenv-shaped value (KEY=VALUE lines, as calctl's
// Secret holds the app's .env) the VALUE of each secret-named KEY
// unquoted, plus any password in a URL, so a value that shows up on its own in a log is caught too.
func SecretValues(values [][]byte) []string {
	var out []string
	for _, v := range values {
		s := string(v)
		out = append(out, s)
		out = append(out, redact.URLPasswords(s)...)
		for _, l := range strings.Split(s, "\n") {
			i := strings.IndexByte(l, '=')
			if i <= 0 || strings.HasPrefix(strings.TrimSpace(l), "#") {
				continue
			}
			val := strings.Trim(strings.TrimSpace(l[i+1:]), `"'`)
			out = append(out, redact.URLPasswords(val)...)
			if redact.IsSecretKey(strings.TrimPrefix(strings.TrimSpace(l[:i]), "export ")) {
				out = append(out, val)
			}
		}
	}
	return out
}
