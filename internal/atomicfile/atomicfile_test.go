package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name string
		perm os.FileMode
		pre  string
	}{
		{"new secret file", 0o600, ""},
		{"replace existing", 0o644, "old contents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "f")
			if tt.pre != "" {
				if err := os.WriteFile(p, []byte(tt.pre), 0o666); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFile(p, []byte("new"), tt.perm); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p)
			if err != nil || string(b) != "new" {
				t.Fatalf("read back %q, %v", b, err)
			}
			st, _ := os.Stat(p)
			if st.Mode().Perm() != tt.perm {
				t.Fatalf("mode %v, want %v", st.Mode().Perm(), tt.perm)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Fatalf("temp files left behind: %v", ents)
			}
		})
	}
}

func TestWriteFileUnwritableDirLeavesNothing(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "missing", "f"), []byte("x"), 0o600); err == nil {
		t.Fatal("expected error for missing directory")
	}
}
