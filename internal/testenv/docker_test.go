package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestBuildScratchImage(t *testing.T) {
	cli := RequireDocker(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\nfunc main(){}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := BuildStaticBinary(t, dir, dir, "app")
	tag := "calctl-testenv-probe:test"
	BuildScratchImage(t, cli, tag, map[string]string{"/app": bin}, `ENTRYPOINT ["/app"]`)
	insp, err := cli.ImageInspect(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	if len(insp.Config.Entrypoint) != 1 || insp.Config.Entrypoint[0] != "/app" {
		t.Fatalf("entrypoint = %v", insp.Config.Entrypoint)
	}
}
