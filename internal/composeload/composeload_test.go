package composeload

import (
	"context"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		wantErr    string // "" means it loads
	}{
		{"plain", "services:\n  web:\n    image: busybox\n", ""},
		// compose-go v2.16.2 (through yaml v4 rc.4) dereferences nil on a
		// document that is only a !reset tag: a panic, not an error.
		{"a bare !reset panics inside compose-go", "!reset", "compose-go cannot load it"},
		{"null network_mode", "services:\n  a:\n    image: x\n    network_mode:\n", "network_mode must be a string"},
		{"refused by the schema", "services:\n  a:\n    image: [1]\n", "image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			details := types.ConfigDetails{WorkingDir: t.TempDir(),
				ConfigFiles: []types.ConfigFile{{Filename: "docker-compose.yml", Content: []byte(tc.yaml)}}}
			p, err := Load(context.Background(), details, func(o *loader.Options) { o.SetProjectName("t", true) })
			if tc.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if p != nil {
				t.Fatalf("a project came back with the error")
			}
		})
	}
}
