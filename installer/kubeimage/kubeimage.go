// Package kubeimage builds Cal.com's web image from the clone with the
// machine's Docker engine (the same generated Dockerfile as the compose
// target) and pushes it to the answers' registry with go-containerregistry,
// returning the digest the chart pins.
package kubeimage

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// ContentTag names an image by what it is built from: the clone's commit
// and the Dockerfile (and any other build file), so the same inputs give
// the same tag and a change gives a new one.
func ContentTag(commit string, files map[string][]byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "commit=%s\n", commit)
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%d\n", k, len(files[k]))
		h.Write(files[k])
	}
	c := commit
	if len(c) > 12 {
		c = c[:12]
	}
	if c == "" {
		c = "nocommit"
	}
	return "calctl-" + c + "-" + hex.EncodeToString(h.Sum(nil))[:12]
}

// skipped says whether a path of the clone stays out of the build context
// (templates/files/compose/dockerignore.tmpl: .git, node_modules, .next).
func skipped(rel string, d fs.DirEntry) bool {
	if !d.IsDir() {
		return false
	}
	switch d.Name() {
	case "node_modules", ".next":
		return true
	case ".git":
		return rel == ".git"
	}
	return false
}

// Context streams a Docker build context: files (name -> content, e.g.
// build/web.Dockerfile) at the root and the clone srcDir under src/, as the
// generated Dockerfile's `COPY src/ ./` expects. Symlinks are kept as links.
func Context(srcDir string, files map[string][]byte) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := func() error {
			names := make([]string, 0, len(files))
			for n := range files {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
					return err
				}
				if _, err := tw.Write(files[n]); err != nil {
					return err
				}
			}
			return filepath.WalkDir(srcDir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(srcDir, p)
				rel = filepath.ToSlash(rel)
				if skipped(rel, d) {
					return filepath.SkipDir
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				link := ""
				if info.Mode()&fs.ModeSymlink != 0 {
					if link, err = os.Readlink(p); err != nil {
						return err
					}
				}
				hdr, err := tar.FileInfoHeader(info, link)
				if err != nil {
					return err
				}
				hdr.Name = "src/" + rel
				if rel == "." {
					hdr.Name = "src"
				}
				if d.IsDir() {
					hdr.Name += "/"
				}
				hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
				if err := tw.WriteHeader(hdr); err != nil {
					return err
				}
				if info.Mode().IsRegular() {
					f, err := os.Open(p)
					if err != nil {
						return err
					}
					_, err = io.Copy(tw, f)
					f.Close()
					return err
				}
				return nil
			})
		}()
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// Build builds the image tag from buildContext with dockerfile (a path in
// the context), streaming the engine's output lines to out.
func Build(ctx context.Context, cli *client.Client, buildContext io.Reader, dockerfile, tag string, out io.Writer) error {
	resp, err := cli.ImageBuild(ctx, buildContext, build.ImageBuildOptions{Tags: []string{tag}, Dockerfile: dockerfile, Remove: true, ForceRemove: true})
	if err != nil {
		return fmt.Errorf("docker build: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	var last string
	for sc.Scan() {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		if m.Error != "" {
			return fmt.Errorf("docker build: %s", m.Error)
		}
		if s := strings.TrimRight(m.Stream, "\n"); s != "" {
			last = s
			if out != nil {
				fmt.Fprintln(out, s)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("docker build: %w (last output: %s)", err, last)
	}
	return nil
}

// Push copies the local image localTag from the engine to remoteRef
// (repository:tag) and returns the repository@digest reference the chart
// pins. Credentials come from the Docker config (~/.docker/config.json and
// its helpers), as `docker push` would use them.
func Push(ctx context.Context, cli *client.Client, localTag, remoteRef string, opts ...remote.Option) (string, error) {
	ref, err := name.ParseReference(remoteRef, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", remoteRef, err)
	}
	f, err := os.CreateTemp("", "calctl-image-*.tar")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	rc, err := cli.ImageSave(ctx, []string{localTag})
	if err != nil {
		return "", fmt.Errorf("docker save %s: %w", localTag, err)
	}
	_, err = io.Copy(f, rc)
	rc.Close()
	if err != nil {
		return "", fmt.Errorf("docker save %s: %w", localTag, err)
	}
	tag, err := name.NewTag(localTag, name.WeakValidation)
	if err != nil {
		return "", err
	}
	img, err := tarball.ImageFromPath(f.Name(), &tag)
	if err != nil {
		return "", fmt.Errorf("read saved image %s: %w", localTag, err)
	}
	opts = append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)
	if err := remote.Write(ref, img, opts...); err != nil {
		return "", fmt.Errorf("push %s: %w", remoteRef, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return ref.Context().Name() + "@" + d.String(), nil
}

// RemoteDigest returns repository@digest of remoteRef when the registry
// has it, and ok false when it does not.
func RemoteDigest(ctx context.Context, remoteRef string, opts ...remote.Option) (string, bool, error) {
	ref, err := name.ParseReference(remoteRef, name.WeakValidation)
	if err != nil {
		return "", false, err
	}
	opts = append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)
	desc, err := remote.Head(ref, opts...)
	var te interface{ Temporary() bool }
	if err != nil {
		if errors.As(err, &te) && !te.Temporary() || strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "MANIFEST_UNKNOWN") {
			return "", false, nil
		}
		return "", false, err
	}
	return ref.Context().Name() + "@" + v1.Hash(desc.Digest).String(), true, nil
}
