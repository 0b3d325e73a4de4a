package kubeimage

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/kubechart"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/docker/docker/api/types/image"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestBuildPushPin builds an image with the real Docker engine from a
// streamed context (the clone under src/), pushes it to an in-process
// registry, and checks that the registry serves exactly the digest Push
// returned and that the rendered chart pins it.
func TestBuildPushPin(t *testing.T) {
	cli := testenv.RequireDocker(t)
	ctx := context.Background()
	reg := httptest.NewServer(registry.New())
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")

	src := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(src, "apps/web/node_modules/x"), 0o755))
	must(t, os.MkdirAll(filepath.Join(src, ".git"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "apps/web/page.txt"), []byte("hello"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "apps/web/node_modules/x/big.js"), []byte("skip me"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, ".git/HEAD"), []byte("ref: x"), 0o644))
	// node_modules and .git must stay out of the context (checked in the pushed layer).
	df := []byte("FROM scratch\nCOPY src/ /calcom/\n")
	files := map[string][]byte{"build/web.Dockerfile": df}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	local := "calctl-kubeimage-test-" + hex.EncodeToString(b) + ":" + ContentTag("0123456789abcdef", files)
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), local, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	if err := Build(ctx, cli, Context(src, files), "build/web.Dockerfile", local, nil); err != nil {
		t.Fatal(err)
	}
	remoteRef := host + "/calcom/web:" + ContentTag("0123456789abcdef", files)
	if _, ok, err := RemoteDigest(ctx, remoteRef); err != nil || ok {
		t.Fatalf("before push: found=%v err=%v", ok, err)
	}
	pinned, err := Push(ctx, cli, local, remoteRef)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pinned, host+"/calcom/web@sha256:") {
		t.Fatalf("pinned reference %q", pinned)
	}
	got, ok, err := RemoteDigest(ctx, remoteRef)
	if err != nil || !ok || got != pinned {
		t.Fatalf("registry has %q (found %v, err %v), push returned %q", got, ok, err, pinned)
	}
	// the registry serves the image by that digest, with our file and without node_modules
	ref, _ := name.ParseReference(pinned)
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var names []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	joined := strings.Join(names, " ")
	if !strings.Contains(joined, "calcom/apps/web/page.txt") || strings.Contains(joined, "node_modules") || strings.Contains(joined, ".git") {
		t.Fatalf("layer holds %v", names)
	}
	// the chart pins it
	files2, err := kubechart.Render(kubechart.Config{Release: "cal", Images: kubechart.Images{Web: pinned}, Database: kubechart.Database{Mode: "external"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files2 {
		if f.Path == kubechart.AppChartDir+"/values.yaml" && !strings.Contains(string(f.Data), "web: "+pinned) {
			t.Fatalf("values.yaml does not pin %s:\n%s", pinned, f.Data)
		}
	}
}

func TestContentTag(t *testing.T) {
	a := ContentTag("abc", map[string][]byte{"Dockerfile": []byte("FROM x")})
	if a != ContentTag("abc", map[string][]byte{"Dockerfile": []byte("FROM x")}) {
		t.Fatal("same inputs, different tags")
	}
	for _, b := range []string{ContentTag("abd", map[string][]byte{"Dockerfile": []byte("FROM x")}), ContentTag("abc", map[string][]byte{"Dockerfile": []byte("FROM y")})} {
		if a == b {
			t.Fatal("different inputs, same tag")
		}
	}
	if _, err := name.NewTag("r.example.com/x:" + a); err != nil {
		t.Fatalf("%s is not a valid tag: %v", a, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
