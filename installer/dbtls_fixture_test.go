package installer

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
)

// dbTLSFixture is the bundled database's TLS material the render tests
// use (fixedSecrets): fixed, so golden files do not change from run to
// run. `go test -update -run TestDBTLSFixture` makes a new one.
const dbTLSFixture = "testdata/dbtls.env"

func loadDBTLSFixture() DatabaseTLS {
	f, err := dotenv.Read(dbTLSFixture)
	if err != nil {
		return DatabaseTLS{}
	}
	m := f.Map()
	return DatabaseTLS{Key: secret.Secret(m[DBTLSKeyVar]), Cert: m[DBTLSCertVar], CA: m[DBTLSCAVar]}
}

func TestDBTLSFixture(t *testing.T) {
	if testenv.Updating() {
		n, err := NewDatabaseTLS(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b := "# TEST ONLY: the bundled database's TLS material of the render tests (fixedSecrets).\n" +
			DBTLSKeyVar + "=" + n.Key.Reveal() + "\n" + DBTLSCertVar + "=" + n.Cert + "\n" + DBTLSCAVar + "=" + n.CA + "\n"
		if err := os.WriteFile(dbTLSFixture, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := loadDBTLSFixture().Check(time.Now()); err != nil {
		t.Fatalf("%s: %v (go test -update -run TestDBTLSFixture)", dbTLSFixture, err)
	}
}

// assertDBTLSFiles checks what a render of a bundled database wrote in
// dir: the TLS key only in db.env (0600), valid with its certificate and
// CA; the CA and certificate files the PEM of the same certificates; the
// key in no other file.
func assertDBTLSFiles(t *testing.T, dir string, want DatabaseTLS) {
	t.Helper()
	if err := want.Check(time.Now()); err != nil {
		t.Fatalf("generated TLS material: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, "db.env"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("db.env: %v %v, want 0600", st, err)
	}
	f, err := dotenv.Read(filepath.Join(dir, "db.env"))
	if err != nil {
		t.Fatal(err)
	}
	m := f.Map()
	if got := (DatabaseTLS{Key: secret.Secret(m[DBTLSKeyVar]), Cert: m[DBTLSCertVar], CA: m[DBTLSCAVar]}); got != want {
		t.Errorf("db.env holds other TLS material than the secrets step kept")
	}
	for path, b64 := range map[string]string{DBCAFile: want.CA, DBCertFile: want.Cert} {
		b, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil || base64.StdEncoding.EncodeToString(blk.Bytes) != b64 {
			t.Errorf("%s is not the PEM of db.env's certificate", path)
		}
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(p) == "db.env" || strings.HasPrefix(filepath.Base(p), "db.env.bak") {
			return err
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(want.Key.Reveal())) {
			t.Errorf("%s holds the database's TLS key", p)
		}
		return nil
	})
}

// TestDatabaseTLSCheck: what makes the secrets step keep the TLS material
// of db.env (nil) or make it anew (an error saying why).
func TestDatabaseTLSCheck(t *testing.T) {
	now := time.Now()
	good := loadDBTLSFixture()
	other, err := NewDatabaseTLS(now)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		tls  DatabaseTLS
		at   time.Time
		want string // "" = kept
	}{
		{"whole and valid", good, now, ""},
		{"nothing", DatabaseTLS{}, now, "not all of"},
		{"no CA", DatabaseTLS{Key: good.Key, Cert: good.Cert}, now, "not all of"},
		{"another key", DatabaseTLS{Key: other.Key, Cert: good.Cert, CA: good.CA}, now, "is not the key of"},
		{"another CA", DatabaseTLS{Key: good.Key, Cert: good.Cert, CA: other.CA}, now, "does not verify"},
		{"not base64", DatabaseTLS{Key: "!!", Cert: good.Cert, CA: good.CA}, now, "not base64"},
		{"expiring within 30 days", good, now.Add(dbTLSValidity - 10*24*time.Hour), "does not verify"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.tls.Check(c.at)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}

// TestDBTLSSecretsReplacesBrokenMaterial: a db.env whose key is not its
// certificate's gets a new, consistent set (and says why); a whole one is
// kept as it is.
func TestDBTLSSecretsReplacesBrokenMaterial(t *testing.T) {
	good := loadDBTLSFixture()
	other, _ := NewDatabaseTLS(time.Now())
	for _, c := range []struct {
		name string
		env  string
		kept bool
	}{
		{"kept", DBTLSKeyVar + "=" + good.Key.Reveal() + "\n" + DBTLSCertVar + "=" + good.Cert + "\n" + DBTLSCAVar + "=" + good.CA + "\n", true},
		{"mismatched", DBTLSKeyVar + "=" + other.Key.Reveal() + "\n" + DBTLSCertVar + "=" + good.Cert + "\n" + DBTLSCAVar + "=" + good.CA + "\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := dotenv.Parse([]byte(c.env))
			if err != nil {
				t.Fatal(err)
			}
			var evs []Event
			s := &State{}
			s.emit = func(e Event) { evs = append(evs, e) }
			var sec Secrets
			if err := dbTLSSecrets(s, &sec, f); err != nil {
				t.Fatal(err)
			}
			if (sec.DBTLS == good) != c.kept {
				t.Errorf("kept = %v, want %v", sec.DBTLS == good, c.kept)
			}
			if err := sec.DBTLS.Check(time.Now()); err != nil {
				t.Errorf("the result does not serve: %v", err)
			}
			if !c.kept && (len(sec.GeneratedThisRun) != 1 || len(evs) != 1 || evs[0].Level != "warn" || !strings.Contains(evs[0].Message, "is not the key of")) {
				t.Errorf("generated %v, said %+v", sec.GeneratedThisRun, evs)
			}
		})
	}
}
