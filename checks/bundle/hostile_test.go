package bundle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/bundle"
	"github.com/calctl/calctl/checks/catalog"
)

func bundleWithFacts(t *testing.T, facts []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		data []byte
	}{{"manifest.json", []byte(`{"version":1}`)}, {"facts.json", facts}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o600, Size: int64(len(f.data)), Typeflag: tar.TypeReg})
		tw.Write(f.data)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// A small hostile bundle (600 KB holding 200,000 containers) once took
// minutes of CPU to judge; it is now refused at once, by the limits on
// facts (issue 11, Low).
func TestHostileBundleRefusedFast(t *testing.T) {
	f := &checks.Facts{SchemaVersion: checks.FactsSchemaVersion, Docker: &checks.DockerFacts{}}
	f.SetSource(checks.SourceDocker, checks.SourceState{Collected: true})
	for i := 0; i < 200000; i++ {
		f.Docker.Containers = append(f.Docker.Containers, checks.Container{Name: fmt.Sprint("c", i)})
	}
	raw, _ := json.Marshal(f)
	if _, err := bundle.ReadFrom(bytes.NewReader(bundleWithFacts(t, raw))); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("ReadFrom = %v, want the 39 MB facts.json refused", err)
	}
	f.Docker.Containers = f.Docker.Containers[:checks.MaxContainers+1]
	raw, _ = json.Marshal(f)
	c, err := bundle.ReadFrom(bytes.NewReader(bundleWithFacts(t, raw)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Facts(); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Facts() = %v, want a refusal naming the limit", err)
	}
	// Within the limits, a bundle at the limit still judges in bounded time.
	f.Docker.Containers = f.Docker.Containers[:checks.MaxContainers]
	raw, _ = json.Marshal(f)
	c, _ = bundle.ReadFrom(bytes.NewReader(bundleWithFacts(t, raw)))
	ff, err := c.Facts()
	if err != nil {
		t.Fatal(err)
	}
	rep := checks.Run(ff, catalog.All(), checks.Selection{}, nil)
	if len(rep.Results) == 0 {
		t.Fatal("no results")
	}
}

// Facts that say a source was collected but hold none of its facts made
// checks panic (caught as ERROR "check panicked"); they are validated on
// read: the source becomes a collector error and its checks say so.
func TestInconsistentFactsNeverPanic(t *testing.T) {
	f := &checks.Facts{SchemaVersion: checks.FactsSchemaVersion}
	for _, s := range []checks.Source{checks.SourceFiles, checks.SourcePG, checks.SourceDocker, checks.SourceNet, checks.SourceHost, checks.SourceBackup} {
		f.SetSource(s, checks.SourceState{Collected: true})
	}
	f.PG = nil
	raw, _ := json.Marshal(f)
	// A PG section with null maps and a collected flag.
	raw2 := []byte(strings.Replace(string(raw), `"sources"`, `"postgres":{"settings":null,"unreadable":null},"sources"`, 1))
	for _, data := range [][]byte{raw, raw2} {
		c, err := bundle.ReadFrom(bytes.NewReader(bundleWithFacts(t, data)))
		if err != nil {
			t.Fatal(err)
		}
		ff, err := c.Facts()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range checks.Run(ff, catalog.All(), checks.Selection{}, nil).Results {
			if strings.Contains(r.Message, "panicked") {
				t.Errorf("%s panicked: %s", r.ID, r.Message)
			}
		}
	}
}
