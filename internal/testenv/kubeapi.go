package testenv

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// KubeAPIVersion is the kube-apiserver release the tests run.
const KubeAPIVersion = "v1.37.2"

// KubeAPIServerEnv names a kube-apiserver binary (plain or .gz) to use
// instead of the one in ../shared/tools/k8s or a locally built one.
const KubeAPIServerEnv = "CALCTL_KUBE_APISERVER"

// kubeAPIServerSHA256 is the sha256 of the unpacked v1.37.2 binary in
// shared/tools/k8s (its README); a locally built one differs and is not checked.
const kubeAPIServerSHA256 = "fda9890e4249c153c263f7400334c2799a2c4c1615c194e27590f99cef20e132"

// The recipe that builds kube-apiserver from the Go module proxy: a copy of
// shared/tools/k8s/build.go.mod and build.tools.go.txt, so a machine without
// that folder (CI's fresh machine) can still build it.
//
//go:embed kubebuild/go.mod.txt kubebuild/tools.go.txt
var kubeBuild embed.FS

// KubeAPI is a real kube-apiserver backed by etcd, both on 127.0.0.1. No
// kubelet, scheduler or controller-manager runs: objects are stored and
// admitted (Pod Security admission included) but no pod ever starts.
type KubeAPI struct {
	// URL is https://127.0.0.1:PORT.
	URL string
	// Token is a bearer token of a member of system:masters.
	Token string
	// CAData is the PEM of the CA that signed the server certificate.
	CAData []byte
	// Kubeconfig is the path of a kubeconfig file for this server
	// (context "calctl-test").
	Kubeconfig string

	dir   string
	procs []*exec.Cmd
}

var (
	sharedKubeOnce sync.Once
	sharedKube     *KubeAPI
	sharedKubeErr  error
)

// SharedKubeAPI returns the one kube-apiserver of this test binary,
// starting it (about 2.5 s) on first use. It skips, or fails under
// CALCTL_REQUIRE_SERVICES=1, when etcd or the apiserver cannot be had. Call
// KubeMain from TestMain so the servers stop when the tests end.
func SharedKubeAPI(t testing.TB) *KubeAPI {
	t.Helper()
	sharedKubeOnce.Do(func() {
		sharedKube, sharedKubeErr = StartKubeAPI(context.Background())
	})
	if sharedKubeErr != nil {
		var ue *unavailableError
		if errors.As(sharedKubeErr, &ue) {
			Unavailable(t, "kube-apiserver", sharedKubeErr)
		}
		t.Fatalf("kube-apiserver: %v", sharedKubeErr)
	}
	return sharedKube
}

// KubeMain runs the tests of m and then stops the shared kube-apiserver if
// one was started. Use it as `func TestMain(m *testing.M) { os.Exit(testenv.KubeMain(m)) }`.
func KubeMain(m *testing.M) int {
	code := m.Run()
	if sharedKube != nil {
		sharedKube.Stop()
	}
	return code
}

type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// StartKubeAPI starts etcd and kube-apiserver on free loopback ports and
// waits until /readyz answers. The caller must Stop it.
func StartKubeAPI(ctx context.Context) (*KubeAPI, error) {
	etcd, err := exec.LookPath("etcd")
	if err != nil {
		return nil, &unavailableError{fmt.Errorf("etcd not found in PATH (apt-get install etcd-server): %w", err)}
	}
	apiserver, err := KubeAPIServerBinary(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "calctl-kube-")
	if err != nil {
		return nil, err
	}
	k := &KubeAPI{dir: dir}
	ok := false
	defer func() {
		if !ok {
			k.Stop()
		}
	}()
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	ep, pp, mp, ap := ports[0], ports[1], ports[2], ports[3]
	if err := k.writeCredentials(); err != nil {
		return nil, err
	}
	u := func(p int) string { return fmt.Sprintf("http://127.0.0.1:%d", p) }
	if err := k.start(etcd, "etcd", "--name", "t", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", u(ep), "--advertise-client-urls", u(ep),
		"--listen-peer-urls", u(pp), "--initial-advertise-peer-urls", u(pp),
		"--initial-cluster", "t="+u(pp), "--listen-metrics-urls", u(mp),
		// The apiserver's watch cache advances on etcd progress notifications;
		// with etcd 3.4's 10m default a watch on a quiet resource type fails
		// with "Too large resource version" until something else writes it.
		"--experimental-watch-progress-notify-interval", "200ms"); err != nil {
		return nil, err
	}
	// Flags from shared/tools/k8s/README.md: --endpoint-reconciler-type=none
	// or the server exits on a loopback advertise address.
	if err := k.start(apiserver, "kube-apiserver", "--etcd-servers="+u(ep), "--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", ap), "--advertise-address=127.0.0.1",
		"--tls-cert-file="+filepath.Join(dir, "apiserver.crt"), "--tls-private-key-file="+filepath.Join(dir, "apiserver.key"),
		"--cert-dir="+filepath.Join(dir, "certs"), "--token-auth-file="+filepath.Join(dir, "tokens.csv"),
		"--anonymous-auth=false", "--authorization-mode=AlwaysAllow",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+filepath.Join(dir, "sa.pub"), "--service-account-signing-key-file="+filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/12", "--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false", "--profiling=false"); err != nil {
		return nil, err
	}
	k.URL = fmt.Sprintf("https://127.0.0.1:%d", ap)
	if err := k.waitReady(ctx, 90*time.Second); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, k.Log())
	}
	k.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(k.Kubeconfig, k.KubeconfigYAML("calctl-test"), 0o600); err != nil {
		return nil, err
	}
	ok = true
	return k, nil
}

// KubeconfigYAML returns a kubeconfig with one context named context.
func (k *KubeAPI) KubeconfigYAML(context string) []byte {
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
users:
- name: %[1]s
  user:
    token: %[4]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s
current-context: %[1]s
`, context, k.URL, b64(k.CAData), k.Token)
}

// Stop kills the apiserver and etcd and removes their data. It is safe to
// call more than once.
func (k *KubeAPI) Stop() {
	for i := len(k.procs) - 1; i >= 0; i-- {
		p := k.procs[i]
		if p.Process != nil {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	}
	k.procs = nil
	if k.dir != "" {
		_ = os.RemoveAll(k.dir)
	}
}

// Log returns the tail of both servers' logs, for failure messages.
func (k *KubeAPI) Log() string {
	var b strings.Builder
	for _, n := range []string{"etcd.log", "kube-apiserver.log"} {
		data, _ := os.ReadFile(filepath.Join(k.dir, n))
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		fmt.Fprintf(&b, "--- %s (tail)\n%s\n", n, data)
	}
	return b.String()
}

func (k *KubeAPI) start(bin, name string, args ...string) error {
	logf, err := os.Create(filepath.Join(k.dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = k.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig: the servers die with the test binary even when TestMain
	// never reaches Stop (a panic, a timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	logf.Close()
	k.procs = append(k.procs, cmd)
	return nil
}

func (k *KubeAPI) waitReady(ctx context.Context, limit time.Duration) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(k.CAData)
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, p := range k.procs {
			if p.ProcessState != nil {
				return fmt.Errorf("%s exited", p.Path)
			}
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, k.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+k.Token)
		resp, err := hc.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver not ready after %s: %s", limit, last)
}

// writeCredentials writes the CA, the serving certificate, the service
// account key pair and the token file into k.dir.
func (k *KubeAPI) writeCredentials() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "calctl-test-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost", "kubernetes.default.svc"}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	k.CAData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return err
	}
	k.Token = hex.EncodeToString(tok)
	keyPEM := func(key *ecdsa.PrivateKey) []byte {
		der, _ := x509.MarshalECPrivateKey(key)
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	}
	saPub, _ := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	files := map[string][]byte{
		"apiserver.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		"apiserver.key": keyPEM(srvKey),
		"sa.key":        keyPEM(saKey),
		"sa.pub":        pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub}),
		"tokens.csv":    []byte(k.Token + `,admin,admin-uid,"system:masters"` + "\n"),
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(k.dir, n), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// KubeAPIServerBinary returns the path of a runnable kube-apiserver
// v1.37.2: $CALCTL_KUBE_APISERVER (a binary or a .gz), else the prebuilt
// binary in shared/tools/k8s (found by walking up from the working
// directory), else one built from the Go module proxy with the recipe of
// shared/tools/k8s/README.md. Unpacked and built binaries are cached under
// the user cache directory (calctl/kube-apiserver-v1.37.2), so the slow
// build (5–13 min on 2 cores) happens once per machine.
func KubeAPIServerBinary(ctx context.Context) (string, error) {
	cache, err := kubeCacheDir()
	if err != nil {
		return "", err
	}
	if p := os.Getenv(KubeAPIServerEnv); p != "" {
		if strings.HasSuffix(p, ".gz") {
			return unpackCached(p, cache, "")
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", KubeAPIServerEnv, p, err)
		}
		return p, nil
	}
	if gz := findShared(filepath.Join("shared", "tools", "k8s", "kube-apiserver-"+KubeAPIVersion+"-linux-amd64.gz")); gz != "" {
		return unpackCached(gz, cache, kubeAPIServerSHA256)
	}
	return buildCached(ctx, cache)
}

// KubeCacheDir is where unpacked and built apiserver binaries are kept.
func kubeCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "calctl", "kube-apiserver-"+KubeAPIVersion)
	return dir, os.MkdirAll(dir, 0o755)
}

// findShared walks up from the working directory looking for rel.
func findShared(rel string) string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func unpackCached(gz, cache, wantSHA string) (string, error) {
	out := filepath.Join(cache, "kube-apiserver")
	if wantSHA != "" {
		if sum, err := fileSHA256(out); err == nil && sum == wantSHA {
			return out, nil
		}
	} else {
		out = filepath.Join(cache, "kube-apiserver-env-"+shortHash(gz))
		if _, err := os.Stat(out); err == nil {
			return out, nil
		}
	}
	f, err := os.Open(gz)
	if err != nil {
		return "", err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", gz, err)
	}
	tmp, err := os.CreateTemp(cache, ".unpack-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), zr); err != nil {
		tmp.Close()
		return "", fmt.Errorf("unpack %s: %w", gz, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); wantSHA != "" && sum != wantSHA {
		return "", fmt.Errorf("%s unpacks to sha256 %s, want %s", gz, sum, wantSHA)
	}
	return out, os.Rename(tmp.Name(), out)
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}

// buildCached builds kube-apiserver with the embedded recipe into cache,
// under an exclusive lock so concurrent test binaries build it once.
func buildCached(ctx context.Context, cache string) (string, error) {
	out := filepath.Join(cache, "kube-apiserver-built")
	lock, err := os.OpenFile(filepath.Join(cache, ".build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if _, err := exec.LookPath("go"); err != nil {
		return "", &unavailableError{fmt.Errorf("no kube-apiserver binary and no go toolchain to build one: %w", err)}
	}
	src := filepath.Join(cache, "build")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	for name, dst := range map[string]string{"kubebuild/go.mod.txt": "go.mod", "kubebuild/tools.go.txt": "tools.go"} {
		b, _ := kubeBuild.ReadFile(name)
		if err := os.WriteFile(filepath.Join(src, dst), b, 0o644); err != nil {
			return "", err
		}
	}
	// The ldflags of shared/tools/k8s/README.md: the version the server reports.
	ldf := "-s -w -X k8s.io/component-base/version.gitVersion=" + KubeAPIVersion +
		" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37" +
		" -X k8s.io/component-base/version.gitTreeState=clean" +
		" -X k8s.io/client-go/pkg/version.gitVersion=" + KubeAPIVersion +
		" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=37"
	tmp := filepath.Join(src, "kube-apiserver.tmp")
	for _, args := range [][]string{
		{"mod", "tidy"},
		{"build", "-tags", "tools", "-trimpath", "-ldflags", ldf, "-o", tmp, "k8s.io/kubernetes/cmd/kube-apiserver"},
	} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("build kube-apiserver (go %s): %w\n%s", strings.Join(args, " "), err, tail(buf.String(), 3000))
		}
	}
	return out, os.Rename(tmp, out)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
