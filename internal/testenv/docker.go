package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// RequireDocker returns a client for the machine's Docker engine, or skips
// (fails when services are required) when the daemon does not answer.
func RequireDocker(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		Unavailable(t, "Docker engine", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		Unavailable(t, "Docker engine", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// BuildStaticBinary compiles the Go package pkg (an import path or ./dir)
// with CGO_ENABLED=0 into dir and returns the binary's path.
func BuildStaticBinary(t testing.TB, pkg, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	if st, err := os.Stat(pkg); err == nil && st.IsDir() {
		cmd.Dir = pkg
		cmd.Args[len(cmd.Args)-1] = "."
	}
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// BuildScratchImage builds a Docker image tagged tag FROM scratch holding
// the given files (path in image -> local file) and the Dockerfile lines
// that follow FROM (e.g. `ENTRYPOINT ["/app"]`). The image is removed when
// t ends. No registry is needed.
func BuildScratchImage(t testing.TB, cli *client.Client, tag string, files map[string]string, dockerfile ...string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	df := "FROM scratch\n"
	i := 0
	for dst, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("f%d", i)
		i++
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(b))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
		df += fmt.Sprintf("COPY %s %s\n", name, dst)
	}
	for _, l := range dockerfile {
		df += l + "\n"
	}
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(df))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(df)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true})
	if err != nil {
		t.Fatalf("docker build %s: %v", tag, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(body, []byte(`"error"`)) {
		t.Fatalf("docker build %s: %s", tag, body)
	}
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
}
