package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

// TestInstallWizardSizesInTmux walks the real binary through the wizard at
// 60×15, 80×24 and 120×40 (issue 14): every option of each select is on
// screen; a failed check offers its fixes on the same screen and "e" lands
// on the failing field; the Public URL error is on screen; the Run screen
// keeps its outcome and keys; the Summary scrolls to Next commands that
// name the install directory; nothing is written by the dry run.
func TestInstallWizardSizesInTmux(t *testing.T) {
	const token = "wizard-token-77c1"
	git := testenv.StartGitServer(t)
	repo := testenv.NewWorkRepo(t)
	repo.Write(map[string]string{
		"package.json": `{"name":"calcom-monorepo","engines":{"node":">=18.x"},"packageManager":"yarn@3.4.1"}`,
		"README.md":    "fixture\n",
	})
	repo.Commit("fixture")
	url := repo.Publish(git, "calcom/cal.com.git")
	git.Protect("calcom/cal.com.git", testenv.Credential{Password: token})
	bin := buildWizardBinary(t)

	for _, sz := range [][2]int{{60, 15}, {80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			size := fmt.Sprintf("%dx%d", sz[0], sz[1])
			installDir := filepath.Join(t.TempDir(), "calcom")
			env := []string{"HOME=" + t.TempDir(), "CALCTL_INSTALLS_FILE=" + filepath.Join(t.TempDir(), "installs.json"), "TERM=xterm-256color", "NO_COLOR=1", "PATH=" + os.Getenv("PATH")}
			if h := os.Getenv("DOCKER_HOST"); h != "" {
				env = append(env, "DOCKER_HOST="+h)
			}
			tm := startTmux(t, sz[0], sz[1], env, bin, "install", "--dry-run", "--install-dir", installDir, "--source-url", url, "--ignore-preflight", "all")
			tm.waitFor("1/8 Welcome", "dry run")
			tm.keys("Enter")

			// every option of the token select, with the last one chosen
			tm.waitFor("2/8 Source", "Repository URL")
			tm.keys("Enter", "Enter", "Enter")
			tm.waitFor("┃ Git token", "use CALCTL_GIT_TOKEN", "type a token now", "> no token")
			tm.snap("size-" + size + "-source-select")
			tm.keys("Enter")

			// the failed check offers its fixes on the same screen
			s := tm.waitFor("re:✗ ", "Fix it here", "e   edit the git token", "enter edit")
			tm.snap("size-" + size + "-source-fix")
			if strings.Contains(s, "--submodules skip") {
				t.Errorf("a parent-repository failure with submodules skipped advises --submodules skip:\n%s", s)
			}
			tm.keys("e")
			tm.waitFor("┃ Git token")
			tm.keys("Up", "Enter")
			tm.waitFor("read access")
			tm.typeText(token)
			tm.keys("Enter")
			tm.waitFor("✓ ", "is readable")
			tm.keys("Enter")

			tm.waitFor("3/8 Target", "compose", "pm2")
			tm.keys("Enter")
			tm.waitFor("Preflight", `re:(no problems found|warning\(s\)|error\(s\)|could not run)`)
			tm.keys("Enter")

			// every Postgres mode
			tm.waitFor("4/8 Database", "> bundled", "external", "rds")
			tm.snap("size-" + size + "-database-select")
			tm.keys("Enter")

			// the Public URL error is on screen at every size
			tm.waitFor("5/8 Public URL", "Public URL")
			tm.typeText("cal.example.com")
			tm.keys("Enter")
			tm.waitFor("is not an http(s) URL", `re:query or\s+fragment\)`)
			tm.snap("size-" + size + "-public-url-invalid")
			tm.keys("C-u")
			tm.typeText("https://cal.example.com")
			tm.keys("Enter")
			tm.waitFor("┃ Proxy and TLS", "caddy", "> none")
			tm.keys("Enter")
			tm.waitFor("SMTP host")
			tm.keys("Enter", "Enter", "Enter", "Enter")
			tm.waitFor("deployment id")
			tm.keys("Enter")

			tm.waitFor("6/8 Review", "plan ready")
			tm.snap("size-" + size + "-review")
			tm.keys("Enter")

			// the outcome and the keys stay on screen however many steps
			s = tm.waitFor("7/8 Run", "re:dry run finished|r retry")
			if !strings.Contains(s, "enter summary") {
				t.Errorf("the Run screen lost its key line:\n%s", s)
			}
			tm.snap("size-" + size + "-run")
			tm.keys("Enter")

			// the Next commands can be reached, and name the install
			tm.waitFor("8/8 Summary")
			for i := 0; i < 4; i++ {
				tm.keys("PageDown")
			}
			s = tm.waitFor("calctl doctor --dir")
			tm.snap("size-" + size + "-summary-next")
			tm.keys("Enter")
			tm.waitFor("EXIT=0")
			if _, err := os.Stat(installDir); err == nil {
				t.Errorf("the dry run created %s", installDir)
			}
		})
	}
}
