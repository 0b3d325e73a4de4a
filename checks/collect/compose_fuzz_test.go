package collect

import (
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParseCompose: whatever compose file an install holds, loading it for
// the checks never panics or hangs, fails with one line, judges only
// services the file names, and resolves YAML merge keys: a service that is
// privileged or on the host network through `<<: *anchor` is privileged or
// on the host network in the facts (issue 11 item 2 and "compose loading in
// the checks"). File references (env_file, extends, include) point into an
// empty directory or at whatever absolute path the input names; a FIFO,
// device or kernel file among them is refused (item 6).
func FuzzParseCompose(f *testing.F) {
	for _, s := range []string{
		"services:\n  web:\n    image: calcom/cal.com:v5\n",
		"x-base: &base\n  privileged: true\n  network_mode: host\n  ports: [\"0.0.0.0:5432:5432\"]\nservices:\n  database:\n    <<: *base\n    image: postgres:15\n",
		"x-a: &a {privileged: true}\nx-b: &b {pid: host}\nservices:\n  s:\n    <<: [*a, *b]\n    image: x\n",
		"services:\n  web:\n    extends: {service: common}\n    image: calcom/cal.com:${TAG}\n  common:\n    image: busybox\n    user: \"0\"\n",
		"services:\n  web:\n    image: x\n    env_file: [/dev/zero, /proc/kmsg, ./missing.env]\n",
		"services:\n  web:\n    image: x\n    extends: {file: /dev/stdin, service: a}\n",
		"include:\n  - /proc/self/status\nservices: {}\n",
		"services:\n  web:\n    image: x\n    command: [\"--password\", \"hunter2\"]\n    profiles: [debug]\n",
		"a: &a [*a]\n",
		"services:\n  web: &w\n    image: x\n    <<: *w\n",
		"services:\n  \"\\e[31mred\":\n    image: x\n",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data string) {
		cf, err := ParseCompose(filepath.Join(dir, "docker-compose.yml"), []byte(data), map[string]string{"TAG": "v5"})
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error is not one line: %q", err)
			}
			return
		}
		var doc yaml.Node
		if yaml.Unmarshal([]byte(data), &doc) != nil || len(doc.Content) == 0 {
			return // compose-go and yaml.v3 disagree on what parses: no oracle
		}
		svcs := deref(mapGet(doc.Content[0], "services"))
		raw := map[string]*yaml.Node{}
		if svcs != nil && svcs.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(svcs.Content); i += 2 {
				raw[svcs.Content[i].Value] = svcs.Content[i+1]
			}
		}
		for _, s := range cf.Services {
			n, ok := raw[s.Name]
			if !ok {
				t.Fatalf("judged service %q that the file does not name", s.Name)
			}
			if _, v := mapGetMerged(n, "privileged", 0); isTrue(v) && !s.Privileged {
				t.Fatalf("service %q: privileged through a merge key, not in the facts", s.Name)
			}
			if _, v := mapGetMerged(n, "network_mode", 0); v != nil && v.Kind == yaml.ScalarNode && v.Value == "host" && s.NetworkMode != "host" {
				t.Fatalf("service %q: network_mode host through a merge key, facts say %q", s.Name, s.NetworkMode)
			}
		}
	})
}

// isTrue: a YAML scalar that is the boolean true.
func isTrue(n *yaml.Node) bool {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false
	}
	var b bool
	return n.Decode(&b) == nil && b
}

// TestSelfMergeRefusedEarly: a service merging its own anchor is refused
// by the YAML decoder before compose-go walks it to its node-visit limit
// (5 s of CPU per load for 45 bytes; the crasher of FuzzParseCompose in
// testdata/fuzz/FuzzParseCompose/self-merge).
func TestSelfMergeRefusedEarly(t *testing.T) {
	_, err := ParseCompose(filepath.Join(t.TempDir(), "docker-compose.yml"), []byte("services:\n  web: &w\n    image: x\n    <<: *w\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "contains itself") {
		t.Fatalf("got %v", err)
	}
}
