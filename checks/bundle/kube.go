package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/calctl/calctl/checks"
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
	total := 0
	for _, n := range b.order {
		total += len(b.files[n])
	}
	for _, f := range in.Files {
		// What Read refuses, WriteKube never writes: an entry over
		// maxEntry, or one that would take the bundle over maxTotal
		// (a margin is kept for manifest.json).
		if len(f.Data) > maxEntry || total+len(f.Data) > maxTotal-(1<<20) {
			b.omit(f.Name, fmt.Sprintf("%d bytes: over the bundle's size limits (%d MiB an entry, %d MiB in all); read it with kubectl", len(f.Data), maxEntry>>20, maxTotal>>20))
			continue
		}
		if bytes.IndexByte(f.Data, 0) >= 0 {
			b.omit(f.Name, "binary: cannot be redacted safely")
			continue
		}
		total += len(f.Data)
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
	return b.finish(out)
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
