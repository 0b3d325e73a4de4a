package history

import (
	"os"
	"testing"
)

func TestAppendRead(t *testing.T) {
	dir := t.TempDir()
	if ev, err := Read(dir); err != nil || len(ev) != 0 {
		t.Fatal(ev, err)
	}
	for _, e := range []Event{{Kind: KindBackup, Result: ResultOK, File: "/b/1.age"}, {Kind: KindVerify, Result: ResultFailed, Error: "x"}, {Kind: KindBackup, Result: ResultOK, File: "/b/2.age"}} {
		if err := Append(dir, e); err != nil {
			t.Fatal(err)
		}
	}
	// a torn last line (crash mid-append) is skipped
	f, _ := os.OpenFile(Path(dir), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"kind":"ver`)
	f.Close()
	ev, err := Read(dir)
	if err != nil || len(ev) != 3 {
		t.Fatalf("%d events, %v", len(ev), err)
	}
	if e, ok := Last(ev, KindBackup, ResultOK); !ok || e.File != "/b/2.age" {
		t.Errorf("last backup %+v", e)
	}
	if _, ok := Last(ev, KindVerify, ResultOK); ok {
		t.Errorf("found an ok verify")
	}
	if st, _ := os.Stat(Path(dir)); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
}
