package testenv

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// GitServer is a git smart-HTTP server on loopback: `git http-backend`
// behind net/http/cgi, serving bare repositories from a root directory with
// optional per-repository basic auth.
//
// Repositories are addressed as URL() + "/" + name, where name is the bare
// repository's directory relative to Root (e.g. "calcom/cal.com.git").
type GitServer struct {
	// Root is the directory holding the bare repositories.
	Root string
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string

	mu       sync.Mutex
	auth     map[string]Credential // repo name -> required credential
	requests []string              // "METHOD path status"
	served   int64                 // response body bytes written
	srv      *http.Server
	backend  string
}

// Credential is a basic-auth user and password. An empty User accepts any
// user name with the right password, as GitHub does for tokens.
type Credential struct {
	// User is the basic-auth user ("" accepts any) and Password the
	// password or token it must carry.
	User, Password string
}

// StartGitServer starts a smart-HTTP git server for the duration of t.
func StartGitServer(t testing.TB) *GitServer {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		Unavailable(t, "git", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		Unavailable(t, "git http-backend", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	g := &GitServer{Root: t.TempDir(), URL: "http://" + ln.Addr().String(), auth: map[string]Credential{}, backend: backend}
	g.srv = &http.Server{Handler: g}
	go func() { _ = g.srv.Serve(ln) }()
	t.Cleanup(func() { _ = g.srv.Close() })
	return g
}

// Protect requires cred for the repository name (relative to Root).
func (g *GitServer) Protect(name string, cred Credential) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.auth[strings.Trim(name, "/")] = cred
}

// RepoURL returns the clone URL of the repository name.
func (g *GitServer) RepoURL(name string) string { return g.URL + "/" + strings.Trim(name, "/") }

// Requests returns the requests served so far, one "METHOD path status" each.
func (g *GitServer) Requests() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.requests...)
}

// BytesServed returns the response body bytes sent so far (pack data,
// ref advertisements and errors), so a benchmark can tell how much a fetch
// transferred.
func (g *GitServer) BytesServed() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.served
}

// ServeHTTP routes a request to git http-backend after checking auth.
func (g *GitServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	status := g.serve(rec, r)
	g.mu.Lock()
	g.served += rec.bytes
	g.requests = append(g.requests, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, status))
	g.mu.Unlock()
}

func (g *GitServer) serve(w http.ResponseWriter, r *http.Request) int {
	p := r.URL.Path
	repo := ""
	for _, suffix := range []string{"/info/refs", "/git-upload-pack", "/git-receive-pack", "/HEAD"} {
		if strings.HasSuffix(p, suffix) {
			repo = strings.Trim(strings.TrimSuffix(p, suffix), "/")
			break
		}
	}
	if repo == "" || strings.Contains(repo, "..") {
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	g.mu.Lock()
	cred, protected := g.auth[repo]
	g.mu.Unlock()
	if protected {
		user, pass, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return http.StatusUnauthorized
		}
		userOK := cred.User == "" || subtle.ConstantTimeCompare([]byte(user), []byte(cred.User)) == 1
		if !userOK || subtle.ConstantTimeCompare([]byte(pass), []byte(cred.Password)) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return http.StatusForbidden
		}
	}
	if st, err := os.Stat(filepath.Join(g.Root, repo)); err != nil || !st.IsDir() {
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	h := &cgi.Handler{
		Path: g.backend,
		Dir:  g.Root,
		Env: []string{
			"GIT_PROJECT_ROOT=" + g.Root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=test",
		},
		InheritEnv: []string{"PATH", "HOME"},
	}
	h.ServeHTTP(w, r)
	return w.(*statusRecorder).status
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush forwards to the underlying writer so pack data streams.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
