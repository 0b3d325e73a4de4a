package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/checks/doctor"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/safefile"
)

// ManifestVersion is the bundle format version.
const ManifestVersion = 1

// Manifest is manifest.json: what the bundle holds and what was redacted.
type Manifest struct {
	// Version is ManifestVersion; Read refuses any other.
	Version int `json:"version"`
	// CreatedAt is when the bundle was made (Inputs.Now, else now, UTC).
	CreatedAt time.Time `json:"created_at"`
	// Tool is the calctl that wrote it.
	Tool checks.Tool `json:"tool"`
	// Files list every file after manifest.json, in archive order.
	Files []FileEntry `json:"files"`
	// Redactions report each redaction made (file, line, key, rule; never the
	// value); [] when none.
	Redactions []Redaction `json:"redactions"`
	// Omitted are the files left out, each with its reason.
	Omitted []OmittedFile `json:"omitted,omitempty"`
}

// FileEntry is one file in the bundle.
type FileEntry struct {
	// Name is the path inside the archive ("facts.json", "logs/x.log").
	Name string `json:"name"`
	// Size is the stored (redacted) size in bytes.
	Size int `json:"size"`
	// What says in words what the file is.
	What string `json:"what"`
}

// OmittedFile is something the bundle left out, and why.
type OmittedFile struct {
	// Name is the archive path it would have had ("logs/" for all logs).
	Name string `json:"name"`
	// Reason is why it was left out (unreadable, binary, unparseable, ...).
	Reason string `json:"reason"`
}

// Inputs is what goes into a bundle.
type Inputs struct {
	// Facts are the collected facts (facts.json); required.
	Facts *checks.Facts
	// Report is the check report over Facts (results.json); required.
	Report *checks.Report
	// Doctor is doctor's report: doctor.txt, versions.json, outbox.json
	// (when it read the outbox) and preflight.json. Nil leaves them out.
	Doctor *doctor.Report
	// Options are the collect options the facts came from: the config files
	// to include and the Docker engine to read logs from.
	Options collect.Options
	// LogSince limits container logs (e.g. "24h"); LogTail is lines per container.
	LogSince string
	// LogTail is the number of log lines per container (0: 500).
	LogTail int
	// Tool names the calctl that wrote the bundle.
	Tool checks.Tool
	// Now is the bundle's time (zero: now).
	Now time.Time
}

// preflightFile is preflight.json.
type preflightFile struct {
	Findings []preflight.Finding `json:"findings"`
	Note     string              `json:"note"`
	Ran      []string            `json:"ran"`
}

type builder struct {
	m     Manifest
	files map[string][]byte
	order []string
	red   *Redactor
}

func (b *builder) add(name, what string, data []byte) {
	b.files[name] = data
	b.order = append(b.order, name)
	b.m.Files = append(b.m.Files, FileEntry{Name: name, Size: len(data), What: what})
}

func (b *builder) omit(name, reason string) {
	b.m.Omitted = append(b.m.Omitted, OmittedFile{Name: name, Reason: reason})
}

func (b *builder) addJSON(name, what string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	b.add(name, what, []byte(b.red.Structured(name, string(raw))))
	return nil
}

// knownSecrets reads secret values from the install's config files, in
// memory only, so that any copy of them elsewhere (logs, a command line,
// another file) is redacted too. It does not depend on a file parsing: an
// .env line calctl cannot parse once turned this off for the whole bundle,
// so each line is read on its own, multi-line quoted values included.
func knownSecrets(o collect.Options) []string {
	var out []string
	files := []string{o.EnvFile}
	if o.Dir != "" {
		files = append(files, filepath.Join(o.Dir, "db.env"))
	}
	for _, f := range files {
		if raw, err := readConfig(f); err == nil {
			out = append(out, envSecrets(string(raw))...)
		}
	}
	for _, f := range []string{o.ComposeFile, o.PM2File} {
		if raw, err := readConfig(f); err == nil {
			out = append(out, pairSecrets(string(raw))...)
		}
	}
	if v := o.DatabaseURL.Reveal(); v != "" {
		out = append(append(out, v), redact.URLPasswords(v)...)
	}
	if v := o.AdminDatabaseURL.Reveal(); v != "" {
		out = append(append(out, v), redact.URLPasswords(v)...)
	}
	return out
}

// envSecrets reads the values of secret-named keys and URL passwords from
// dotenv text line by line, tolerating lines no parser accepts; a quoted
// value left open continues until its closing quote.
func envSecrets(s string) []string {
	var out []string
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		out = append(out, redact.URLPasswords(lines[i])...)
		m := envLineRE.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		key, val := m[2], strings.TrimSpace(m[4])
		if q := val; len(q) > 0 && (q[0] == '"' || q[0] == '\'') && (len(q) == 1 || !strings.HasSuffix(q, q[:1])) {
			// an open quote: the value runs to the line that closes it
			quote := q[:1]
			parts := []string{q[1:]}
			for i+1 < len(lines) {
				i++
				out = append(out, redact.URLPasswords(lines[i])...)
				if j := strings.Index(lines[i], quote); j >= 0 {
					parts = append(parts, lines[i][:j])
					break
				}
				parts = append(parts, lines[i])
			}
			val = strings.Join(parts, "\n")
		} else {
			val = strings.Trim(val, `"'`)
		}
		if redact.IsSecretKey(key) && val != "" {
			out = append(out, val)
		}
	}
	return out
}

// pairSecretRE finds `KEY: value`, `KEY=value` and `"KEY": "value"` pairs in
// YAML or JavaScript text, wherever they stand on a line.
var pairSecretRE = regexp.MustCompile(`["']?([A-Za-z_][A-Za-z0-9_]*)["']?\s*[:=]\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,}#]+)`)

func pairSecrets(s string) []string {
	var out []string
	for _, m := range pairSecretRE.FindAllStringSubmatch(s, -1) {
		if redact.IsSecretKey(m[1]) {
			if v := strings.Trim(m[2], `"'`); v != "" && !strings.HasPrefix(v, "${") && v != "|" && v != ">" {
				out = append(out, v)
			}
		}
	}
	out = append(out, redact.URLPasswords(s)...)
	return out
}

// readConfig reads an install file for the bundle: a regular file of at
// most 4 MiB, never a FIFO or device.
func readConfig(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("no file")
	}
	return safefile.ReadFile(path, 4<<20)
}

// Write builds the bundle in memory, redacting as it goes, and writes it
// atomically with mode 0600. It returns the manifest.
func Write(ctx context.Context, out string, in Inputs) (*Manifest, error) {
	if in.Facts == nil || in.Report == nil {
		return nil, errors.New("bundle: facts and report are required")
	}
	_ = in.Options.Resolve() // fill file paths from Dir (idempotent)
	now := in.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	b := &builder{files: map[string][]byte{}, red: NewRedactor(knownSecrets(in.Options)),
		m: Manifest{Version: ManifestVersion, CreatedAt: now, Tool: in.Tool}}
	if err := b.addJSON("facts.json", "collected facts (no secret values by construction)", in.Facts); err != nil {
		return nil, err
	}
	if err := b.addJSON("results.json", "check results (calctl check -o json)", in.Report); err != nil {
		return nil, err
	}
	if d := in.Doctor; d != nil {
		var doc bytes.Buffer
		if err := d.WriteText(&doc); err != nil {
			return nil, err
		}
		b.add("doctor.txt", "calctl doctor output", []byte(b.red.Structured("doctor.txt", doc.String())))
		if err := b.addJSON("versions.json", "calctl, Postgres and Docker versions", d.Versions); err != nil {
			return nil, err
		}
	}
	if in.Doctor != nil && in.Doctor.OutboxSummary != nil {
		if err := b.addJSON("outbox.json", "usage-reporting outbox state", in.Doctor.OutboxSummary); err != nil {
			return nil, err
		}
	} else {
		b.omit("outbox.json", "the usage outbox is not available in this build")
	}
	if d := in.Doctor; d != nil {
		if err := b.addJSON("preflight.json", "preflight checks (docker, memory, disk, dns)", preflightFile{Findings: d.Preflight, Note: d.PreflightNote, Ran: d.PreflightRan}); err != nil {
			return nil, err
		}
	} else {
		b.omit("preflight.json", "preflight was not run")
	}
	for _, c := range []struct{ path, name, kind, what string }{
		{in.Options.EnvFile, "config/env", "env", ".env (secret values redacted)"},
		{in.Options.ComposeFile, "config/" + filepath.Base(in.Options.ComposeFile), "compose", "compose file (secret values redacted)"},
		{in.Options.PM2File, "config/" + filepath.Base(in.Options.PM2File), "pm2", "pm2 ecosystem file (secret values redacted)"},
	} {
		if c.path == "" {
			continue
		}
		raw, err := readConfig(c.path)
		switch {
		case err != nil:
			b.omit(c.name, "unreadable: "+err.Error())
		case bytes.IndexByte(raw, 0) >= 0:
			b.omit(c.name, "binary: cannot be redacted safely")
		default:
			red, err := b.red.Config(c.name, c.kind, string(raw))
			if err != nil {
				// Fail closed: what calctl cannot parse it cannot redact by structure.
				b.omit(c.name, "cannot be parsed ("+oneLine(err.Error())+"): left out so that no value escapes redaction")
				continue
			}
			b.add(c.name, c.what, []byte(red))
		}
	}
	if in.Facts.Docker != nil && in.Options.Docker {
		if err := b.containers(ctx, in); err != nil {
			b.omit("logs/", "container logs: "+err.Error())
		}
	}
	return b.finish(out)
}

// finish records the redaction log in the manifest and writes the bundle:
// manifest.json first, then the files in the order they were added, as a
// tar.gz, to a temp file renamed over out (0600).
func (b *builder) finish(out string) (*Manifest, error) {
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
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o600, Size: int64(len(data)), ModTime: b.m.CreatedAt, Typeflag: tar.TypeReg}); err != nil {
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

type containerRow struct {
	Name         string `json:"name"`
	Image        string `json:"image"`
	Role         string `json:"role"`
	State        string `json:"state"`
	Health       string `json:"health,omitempty"`
	RestartCount int    `json:"restart_count"`
}

func (b *builder) containers(ctx context.Context, in Inputs) error {
	var rows []containerRow
	for _, c := range in.Facts.Docker.Containers {
		rows = append(rows, containerRow{c.Name, c.Image, c.Role, c.State, c.Health, c.RestartCount})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	if err := b.addJSON("containers.json", "container list with states and restart counts", rows); err != nil {
		return err
	}
	cli, owned, err := collect.DockerClient(in.Options)
	if err != nil {
		return err
	}
	if owned {
		defer cli.Close()
	}
	tail := in.LogTail
	if tail <= 0 {
		tail = 500
	}
	for _, c := range in.Facts.Docker.Containers {
		name := "logs/" + c.Name + ".log"
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		rc, err := cli.ContainerLogs(lctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true, Since: in.LogSince, Tail: fmt.Sprint(tail), Timestamps: true})
		if err != nil {
			cancel()
			b.omit(name, "logs unavailable: "+err.Error())
			continue
		}
		var outb, errb bytes.Buffer
		_, err = stdcopy.StdCopy(&outb, &errb, io.LimitReader(rc, 32<<20))
		rc.Close()
		cancel()
		if err != nil && outb.Len() == 0 && errb.Len() == 0 {
			b.omit(name, "logs unreadable: "+err.Error())
			continue
		}
		text := outb.String() + errb.String()
		b.add(name, fmt.Sprintf("last %d log lines of %s (redacted)", tail, c.Name), []byte(b.red.Text(name, text)))
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
