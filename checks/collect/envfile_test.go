package collect

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/calctl/calctl/checks"
)

func TestParseEnv(t *testing.T) {
	in := `# comment
export A=1
B = two words # trailing comment
C='single # not a comment'
D="double \"quoted\"\nnext"
E="multi
line"
F=
G=x#y
H=postgresql://u:p@h:5432/db?sslmode=require
`
	got, err := ParseEnv(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []EnvEntry{
		{"A", "1", 2}, {"B", "two words", 3}, {"C", "single # not a comment", 4}, {"D", "double \"quoted\"\nnext", 5},
		{"E", "multi\nline", 6}, {"F", "", 8}, {"G", "x#y", 9}, {"H", "postgresql://u:p@h:5432/db?sslmode=require", 10},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseEnvErrors(t *testing.T) {
	// the errors of calctl's one dotenv reader (internal/dotenv)
	for in, want := range map[string]string{
		"NOEQUALS":        "line 1: ",
		"A=1\nB@D=x\n":    "line 2: unexpected character",
		"A='open\n":       "line 1: unterminated quoted value",
		"A=1\nB=\"open\n": "line 2: unterminated quoted value",
		"=x\n":            "line 1: no variable name",
	} {
		_, err := ParseEnv(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseEnv(%q) = %v, want %q", in, err, want)
		}
	}
}

func FuzzParseEnv(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B='x'\n", "C=\"a\\nb\"\n", "# c\n\nD=e # f\n", "E=\"unterminated\n", "=x", "A=\"\\\"\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ParseEnv(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, e := range es {
			// Keys are what Compose accepts (internal/dotenv matches
			// compose-go, so "0=", "0\tϱ=" and "A\rB=" are keys: compose-go
			// v2.16.2's dotenv ends a line only at \n and keeps a \r inside
			// a key, seed testdata/fuzz/FuzzParseEnv/acfcce373c0758bf): never
			// empty, never holding what would end an assignment or start
			// another.
			if e.Key == "" || strings.ContainsAny(e.Key, "=\n") || e.Line < 1 {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		key, val               string
		secret, def            bool
		plain                  string
		wantLen                int
		minEntropy, maxEntropy float64
	}{
		{"NEXTAUTH_SECRET", "secret", true, true, "", 6, 0, 40},
		{"NEXTAUTH_SECRET", "Zk9v1cY3q8Yp0mQ2wJx4Rb7Lh5Tn6Ue8Gs2Df4Ah", true, false, "", 40, 200, 260},
		{"CALENDSO_ENCRYPTION_KEY", "0123456789abcdef0123456789abcdef", true, false, "", 32, 127, 129},
		{"NODE_ENV", "production", false, false, "production", 10, 0, 0},
		{"REDIS_URL", "redis://:hunter22@redis:6379", true, false, "redis://:REDACTED@redis:6379", 28, 0, 1000},
	}
	for _, tt := range tests {
		v := Describe(".env", 1, tt.key, tt.val)
		if v.Secret != tt.secret || v.Default != tt.def || v.Value != tt.plain || v.Len != tt.wantLen {
			t.Errorf("Describe(%s) = %+v", tt.key, v)
		}
		if tt.maxEntropy > 0 && (v.Entropy < tt.minEntropy || v.Entropy > tt.maxEntropy) && tt.key != "REDIS_URL" {
			t.Errorf("Describe(%s) entropy %.1f not in [%v,%v]", tt.key, v.Entropy, tt.minEntropy, tt.maxEntropy)
		}
		if tt.secret && strings.Contains(v.Value, tt.val) {
			t.Errorf("secret value kept for %s", tt.key)
		}
	}
	u := Describe(".env", 3, "DATABASE_URL", "postgresql://unicorn_user:magical_password@database:5432/calendso?sslmode=disable")
	if u.URL == nil || !u.URL.PasswordWeak || u.URL.User != "unicorn_user" || !u.URL.Local || u.URL.Params["sslmode"] != "disable" ||
		strings.Contains(u.Value, "magical_password") {
		t.Errorf("DATABASE_URL described as %+v / %+v", u, u.URL)
	}
}

func TestParseCompose(t *testing.T) {
	yml := `services:
  database:
    image: postgres:16.4
    ports:
      - "127.0.0.1:5432:5432"
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-fallback}
    volumes:
      - database-data:/var/lib/postgresql/data
  calcom:
    image: calcom/cal.com
    privileged: true
    restart: unless-stopped
    ports:
      - 3000:3000
      - target: 5555
        published: 5555
    environment:
      - NEXTAUTH_SECRET=${NEXTAUTH_SECRET}
      - NODE_ENV=production
`
	cf, err := ParseCompose("docker-compose.yml", []byte(yml), map[string]string{"NEXTAUTH_SECRET": "s3cr3t-value-xyz", "POSTGRES_PASSWORD": "pw-from-env"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.Services) != 2 {
		t.Fatalf("services = %d", len(cf.Services))
	}
	db, app := cf.Services[0], cf.Services[1]
	if db.Role != "db" || db.Ports[0].HostIP != "127.0.0.1" || db.Volumes[0] != "/var/lib/postgresql/data" || db.Line != 2 {
		t.Errorf("db = %+v", db)
	}
	if db.Env["POSTGRES_PASSWORD"].Len != len("pw-from-env") || db.Env["POSTGRES_PASSWORD"].Value != "" {
		t.Errorf("expansion/secret handling: %+v", db.Env["POSTGRES_PASSWORD"])
	}
	if app.Role != "app" || !app.Privileged || app.Restart != "unless-stopped" || app.Ports[0].HostIP != "" || app.Ports[0].Line != 15 ||
		app.Ports[1].ContainerPort != "5555" || app.Env["NODE_ENV"].Value != "production" {
		t.Errorf("app = %+v", app)
	}
	if _, err := ParseCompose("x.yml", []byte("services: ["), nil); err == nil {
		t.Error("bad yaml accepted")
	}
}

// TestComposeLikeCompose: what Compose itself resolves — YAML merge keys
// and anchors, extends, profiles and ${VAR} interpolation from the .env —
// reaches the facts. The yaml.Node reader before compose-go missed every
// setting reached through `<<: *base` (issue 11 item 2).
func TestComposeLikeCompose(t *testing.T) {
	yml := `x-base: &base
  privileged: true
  network_mode: host
  ports:
    - "0.0.0.0:5432:5432"
x-caps: &caps
  cap_drop: [ALL]
services:
  database:
    <<: *base
    image: postgres:${PG_MAJOR:-15}
  web:
    extends:
      service: common
    image: calcom/cal.com:${TAG}
    <<: *caps
  common:
    image: busybox
    user: "0"
    pid: host
  studio:
    image: calcom/cal.com:v5
    profiles: [debug]
    command: ["npx", "prisma", "studio", "--password", "hunter2-secret"]
`
	cf, err := ParseCompose("/srv/cal/docker-compose.yml", []byte(yml), map[string]string{"TAG": "v5.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	svc := map[string]checks.ComposeService{}
	for _, s := range cf.Services {
		svc[s.Name] = s
	}
	db := svc["database"]
	if !db.Privileged || db.NetworkMode != "host" || len(db.Ports) != 1 || db.Ports[0].HostIP != "0.0.0.0" || db.Image != "postgres:15" {
		t.Errorf("merge keys not resolved: %+v", db)
	}
	if db.Ports[0].Line != 5 || db.Line != 9 {
		t.Errorf("lines: service %d, port %d (want 9 and the anchor's 5)", db.Line, db.Ports[0].Line)
	}
	web := svc["web"]
	if web.User != "0" || web.PID != "host" || web.Image != "calcom/cal.com:v5.2.1" || len(web.CapDrop) != 1 {
		t.Errorf("extends/interpolation/merge not resolved: %+v", web)
	}
	st, ok := svc["studio"]
	if !ok || st.Role != "studio" || len(st.Profiles) != 1 {
		t.Fatalf("a service in a profile is judged too: %+v", st)
	}
	if strings.Contains(st.Command, "hunter2-secret") || !strings.Contains(st.Command, "prisma studio --password [REDACTED]") {
		t.Errorf("command kept a secret argument: %q", st.Command)
	}
	if cf.Project != "cal" || cf.Dir != "/srv/cal" {
		t.Errorf("project %q dir %q", cf.Project, cf.Dir)
	}
}

func TestParseProcNetTCP(t *testing.T) {
	in := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0CEA 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
`
	ls, err := ParseProcNetTCP(in, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].Addr != "0.0.0.0" || ls[0].Port != 5432 || ls[1].Addr != "127.0.0.1" || ls[1].Port != 3306 {
		t.Errorf("got %+v", ls)
	}
}

// Values a service takes from env_file are not "in the compose file": CF-006
// once failed a 0644 compose file that held no secret because compose-go
// had merged db.env's password into the service.
func TestComposeEnvFileValuesNotInline(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "db.env"), []byte("POSTGRES_PASSWORD=from-env-file-pw-1234\n"), 0o600)
	yml := "services:\n  database:\n    image: postgres:16\n    env_file: [db.env]\n    environment:\n      POSTGRES_DB: calendso\n"
	cf, err := ParseCompose(filepath.Join(dir, "docker-compose.yml"), []byte(yml), nil)
	if err != nil {
		t.Fatal(err)
	}
	env := cf.Services[0].Env
	if pw := env["POSTGRES_PASSWORD"]; !pw.Secret || pw.Line != 0 || pw.Len != len("from-env-file-pw-1234") {
		t.Errorf("env_file value = %+v, want secret with no compose line", pw)
	}
	if db := env["POSTGRES_DB"]; db.Line != 6 {
		t.Errorf("inline value line = %d, want 6", db.Line)
	}
}
