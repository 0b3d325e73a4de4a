package preflight

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/database"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/docker/docker/client"
)

func runOne(t *testing.T, c Check, in *Input) []Finding {
	t.Helper()
	r, err := Run(context.Background(), in, []Check{c}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.Findings
}

func wantFinding(t *testing.T, fs []Finding, sev Severity, substr string) {
	t.Helper()
	for _, f := range fs {
		if f.Severity == sev && strings.Contains(f.Message, substr) {
			if f.Remedy == "" && sev == Error {
				t.Errorf("error finding without a remedy: %+v", f)
			}
			return
		}
	}
	t.Errorf("want a %s finding containing %q, got %+v", sev, substr, fs)
}

func TestDockerCheckRealEngine(t *testing.T) {
	cli := testenv.RequireDocker(t)
	if fs := runOne(t, dockerCheck, &Input{Target: "compose", Docker: cli}); len(fs) != 0 {
		t.Errorf("real engine: %+v", fs)
	}
	sock := filepath.Join(t.TempDir(), "closed.sock")
	dead, err := client.NewClientWithOpts(client.WithHost("unix://"+sock), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	wantFinding(t, runOne(t, dockerCheck, &Input{Target: "compose", Docker: dead, DockerHost: "unix://" + sock}), Error, "does not answer")
}

func TestComposeCheckFindsThisMachinesCompose(t *testing.T) {
	in := &Input{Target: "compose"}
	fs := runOne(t, composeCheck, in)
	if in.Compose == nil {
		t.Fatalf("no compose found: %+v", fs)
	}
	if in.Compose.V1 {
		wantFinding(t, fs, Warning, "end-of-life")
	} else if len(fs) != 0 {
		t.Errorf("compose v2: %+v", fs)
	}
}

func TestPortsCheck(t *testing.T) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	held := l.Addr().(*net.TCPAddr).Port
	free := testenv.FreePort(t)
	in := &Input{Ports: map[int]string{held: "web", free: "api"}}
	fs := runOne(t, portsCheck, in)
	wantFinding(t, fs, Error, "in use")
	if len(fs) != 1 {
		t.Errorf("findings %+v", fs)
	}
	in.OwnPorts = map[int]bool{held: true}
	if fs := runOne(t, portsCheck, in); len(fs) != 0 {
		t.Errorf("own port reported: %+v", fs)
	}
	// --ignore-preflight ports keeps the finding but it no longer stops the install
	r, err := Run(context.Background(), &Input{Ports: map[int]string{held: "web"}}, []Check{portsCheck}, []string{"ports"})
	if err != nil || r.Errors() != 0 || len(r.Findings) != 1 || !r.Findings[0].Ignored {
		t.Errorf("ignored: %+v %v", r, err)
	}
	if _, err := Run(context.Background(), in, All, []string{"portz"}); err == nil || !strings.Contains(err.Error(), "unknown check") {
		t.Errorf("unknown ignore name: %v", err)
	}
}

func TestThresholds(t *testing.T) {
	tests := []struct {
		have, need uint64
		sev        Severity
		short      bool
	}{
		{100, 100, "", false},
		{95, 100, Warning, true},
		{90, 100, Warning, true},
		{89, 100, Error, true},
	}
	for _, tt := range tests {
		sev, short := belowThreshold(tt.have, tt.need)
		if sev != tt.sev || short != tt.short {
			t.Errorf("belowThreshold(%d, %d) = %s %v", tt.have, tt.need, sev, short)
		}
	}
	if _, err := memTotal("/proc/meminfo"); err != nil {
		t.Error(err)
	}
	if fs := runOne(t, diskCheck, &Input{InstallDir: filepath.Join(t.TempDir(), "a", "b")}); len(fs) > 1 {
		t.Errorf("disk: %+v", fs)
	}
}

func TestInstallDirCheck(t *testing.T) {
	dir := t.TempDir()
	if fs := runOne(t, installDirCheck, &Input{InstallDir: filepath.Join(dir, "new", "install")}); len(fs) != 0 {
		t.Errorf("creatable dir: %+v", fs)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	wantFinding(t, runOne(t, installDirCheck, &Input{InstallDir: filepath.Join(file, "install")}), Error, "not a directory")
}

func TestDNSCheck(t *testing.T) {
	if fs := runOne(t, dnsCheck, &Input{PublicURL: "http://localhost:3000"}); len(fs) != 0 {
		t.Errorf("localhost: %+v", fs)
	}
	wantFinding(t, runOne(t, dnsCheck, &Input{PublicURL: "https://cal.does-not-exist.invalid", Proxy: true}), Error, "does not resolve")
	wantFinding(t, runOne(t, dnsCheck, &Input{PublicURL: "https://cal.does-not-exist.invalid"}), Warning, "does not resolve")
}

// certs returns a CA PEM and a server cert/key for 127.0.0.1 signed by it.
func certs(t *testing.T) (caPEM, crtPEM, keyPEM []byte) {
	t.Helper()
	ca := testenv.NewCA(t)
	l := ca.Valid(t)
	return ca.PEM, l.CertPEM, l.KeyPEM
}

func TestPostgresCheckRealServer(t *testing.T) {
	caPEM, crt, key := certs(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, caPEM, 0o644)
	verify := "sslmode=verify-full&sslrootcert=" + caFile

	plain := testenv.StartPostgres(t, testenv.PostgresOptions{AuthMethod: "scram-sha-256", SuperPassword: "pw-plain"})
	url := plain.URL("postgres", "pw-plain", "postgres", verify)
	fs := runOne(t, postgresCheck, &Input{DBMode: "rds", DatabaseURL: secret.Secret(url)})
	wantFinding(t, fs, Error, "refused TLS")
	if len(fs) != 1 || !strings.Contains(fs[0].Remedy, "turn on ssl on the server") {
		t.Errorf("a server without TLS: %+v; want the remedy to turn ssl on", fs)
	}
	for _, f := range fs {
		if strings.Contains(f.Message, "pw-plain") {
			t.Errorf("finding leaks the password: %s", f.Message)
		}
	}

	tls := testenv.StartPostgres(t, testenv.PostgresOptions{Conf: []string{"ssl = on"},
		Files: map[string][]byte{"server.crt": crt, "server.key": key}, AuthMethod: "scram-sha-256", SuperPassword: "pw-tls"})
	if fs := runOne(t, postgresCheck, &Input{DBMode: "rds", DatabaseURL: secret.Secret(tls.URL("postgres", "pw-tls", "postgres", verify))}); len(fs) != 0 {
		t.Errorf("TLS server with the right CA: %+v", fs)
	}
	// the wrong CA is a certificate error with the CA remedy
	otherCA, _, _ := certs(t)
	wrong := filepath.Join(t.TempDir(), "wrong.pem")
	os.WriteFile(wrong, otherCA, 0o644)
	fs = runOne(t, postgresCheck, &Input{DBMode: "rds", DatabaseURL: secret.Secret(tls.URL("postgres", "pw-tls", "postgres", "sslmode=verify-full&sslrootcert="+wrong))})
	if len(fs) != 1 || !strings.Contains(fs[0].Remedy, "CA") {
		t.Errorf("wrong CA: %+v", fs)
	}
}

// TestPostgresCheckExplainsFailures: install's preflight says a failed
// connection as every command does (database.Explain): what failed as the
// message, what to do as the remedy, no password.
func TestPostgresCheckExplainsFailures(t *testing.T) {
	db := testenv.StartDatabaseFailures(t)
	for _, fd := range db.Failing {
		t.Run(fd.Slug, func(t *testing.T) {
			_, err := database.Connect(context.Background(), fd.URL, database.Options{})
			var ex *database.Explained
			if !errors.As(err, &ex) || ex.Fix == "" {
				t.Fatalf("Connect: %v; want an explained failure with a fix", err)
			}
			fs := runOne(t, postgresCheck, &Input{DBMode: "external", DatabaseURL: secret.Secret(fd.URL)})
			if len(fs) != 1 || fs[0].Severity != Error || fs[0].Message != ex.What || fs[0].Remedy != ex.Fix {
				t.Errorf("findings %+v\nwant one error: %q, remedy %q", fs, ex.What, ex.Fix)
			}
			for _, f := range fs {
				if strings.Contains(f.Message+f.Remedy, db.Password) || strings.Contains(f.Message+f.Remedy, db.WrongPassword) {
					t.Errorf("finding leaks a password: %+v", f)
				}
			}
		})
	}
}

// TestNodeCheckRealNode runs the pm2 node/yarn check with this machine's
// real node against repository engines it does and does not satisfy.
func TestNodeCheckRealNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node", err) // only pm2 hosts need node
	}
	out, _ := exec.Command(node, "--version").Output()
	have := strings.TrimSpace(string(out))
	fs := runOne(t, nodeCheck, &Input{Target: "pm2", NodeBin: node, NodeEngine: ">=15.x <17"})
	wantFinding(t, fs, Error, "does not satisfy the repository's engines.node \">=15.x <17\"")
	for _, f := range fs {
		if strings.Contains(f.Message, "engines.node") && !strings.Contains(f.Remedy, "Node 16") {
			t.Errorf("remedy should name Node 16: %+v", f)
		}
	}
	fs = runOne(t, nodeCheck, &Input{Target: "pm2", NodeBin: node, NodeEngine: ">=18.x"})
	for _, f := range fs {
		if strings.Contains(f.Message, "node "+have) {
			t.Errorf("node %s satisfies >=18.x but got %+v", have, f)
		}
	}
	wantFinding(t, runOne(t, nodeCheck, &Input{Target: "pm2", NodeBin: filepath.Join(t.TempDir(), "no-node")}), Error, "--version")
}

// TestPM2ClusterChecksTheDaemonsNode: in cluster mode pm2 ignores
// pm2.node; preflight checks the Node pm2's own #! line runs. The pm2 here
// is a script whose #! names the machine's real node.
func TestPM2ClusterChecksTheDaemonsNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node", err) // only pm2 hosts need node; scripts/test.sh installs it
	}
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "pm2"), []byte("#!"+node+"\nconsole.log('pm2')\n"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	fs := pm2DaemonNode(context.Background(), ">=15.x <17")
	wantFinding(t, fs, Error, "pm2 runs on node")
	if fs := pm2DaemonNode(context.Background(), ">=16"); len(fs) != 0 {
		t.Errorf("the daemon's node satisfies >=16: %+v", fs)
	}
	os.WriteFile(filepath.Join(bin, "pm2"), []byte("#!/usr/bin/env node\n"), 0o755)
	if fs := pm2DaemonNode(context.Background(), ">=16"); len(fs) != 0 {
		t.Errorf("#!/usr/bin/env node: %+v", fs)
	}
}
