package wizard

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
)

func TestWizardStartPrefillsFromTheLastRun(t *testing.T) {
	withAnswers := t.TempDir()
	prev := &contract.Answers{InstallDir: withAnswers, PublicURL: "https://cal.example.com", Target: "compose"}
	prev.ApplyDefaults()
	if err := SaveAnswers(filepath.Join(withAnswers, AnswersFile), prev); err != nil {
		t.Fatal(err)
	}
	withEnv := t.TempDir()
	if err := os.WriteFile(filepath.Join(withEnv, ".env"), []byte("NEXTAUTH_SECRET=x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name         string
		base         contract.Answers
		wantURL      string
		wantExisting bool
	}{
		{"fresh dir", contract.Answers{InstallDir: t.TempDir()}, "", false},
		{"last run's answers", contract.Answers{InstallDir: withAnswers}, "https://cal.example.com", true},
		{"flags win over the last run", contract.Answers{InstallDir: withAnswers, PublicURL: "https://other.example.com"}, "https://other.example.com", true},
		{"install without answers", contract.Answers{InstallDir: withEnv}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := tc.base
			got, existing, _, _ := Start(context.Background(), &base)
			if got.PublicURL != tc.wantURL || existing != tc.wantExisting {
				t.Errorf("public_url %q existing %v, want %q %v", got.PublicURL, existing, tc.wantURL, tc.wantExisting)
			}
		})
	}
}

func TestSaveAnswersHeaderAndMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a", "answers.yaml")
	a := &contract.Answers{InstallDir: "/opt/calcom", PublicURL: "https://cal.example.com", Source: contract.Source{TokenEnv: GitTokenEnv}}
	a.ApplyDefaults()
	if err := SaveAnswers(p, a); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), "# Export CALCTL_GIT_TOKEN before:") {
		t.Errorf("header does not name the variables to export:\n%s", b)
	}
	back, err := contract.LoadAnswersFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Finish(); err != nil {
		t.Errorf("saved answers do not validate: %v", err)
	}
}
