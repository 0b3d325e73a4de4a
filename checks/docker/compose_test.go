package docker_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/collect"
)

// Without a Docker engine the DK checks judge the compose file's services
// and point at the offending line.
func TestDockerChecksOverComposeFile(t *testing.T) {
	dir := t.TempDir()
	compose := `services:
  database:
    image: postgres
    ports:
      - "5432:5432"
    environment:
      POSTGRES_HOST_AUTH_METHOD: trust
  calcom:
    image: calcom/cal.com:v5.2.1
    privileged: true
    restart: unless-stopped
    ports:
      - "127.0.0.1:3000:3000"
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
  studio:
    image: calcom/cal.com:v5.2.1
    command: npx prisma studio
`
	path := filepath.Join(dir, "docker-compose.yml")
	if err := os.WriteFile(path, []byte(compose), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := collect.Collect(context.Background(), collect.Options{ComposeFile: path, Only: []checks.Source{checks.SourceFiles}})
	if err != nil {
		t.Fatal(err)
	}
	rep := checks.Run(f, dkChecks, checks.Selection{}, nil)
	type key struct{ id, res string }
	got := map[key]checks.Result{}
	for _, r := range rep.Results {
		got[key{r.ID, r.Resource}] = r
	}
	for _, tt := range []struct {
		id, res string
		want    checks.Status
		line    int
	}{
		{"DK-003", "compose:database", checks.Fail, 5},
		{"DK-003", "compose:calcom", checks.Pass, 8},
		{"DK-001", "compose:calcom", checks.Fail, 8},
		{"DK-008", "compose:database", checks.Fail, 2},
		{"DK-009", "compose:database", checks.Warn, 2},
		{"DK-009", "compose:calcom", checks.Pass, 8},
		{"DK-011", "compose:calcom", checks.Pass, 8},
		{"DK-004", "compose:studio", checks.Fail, 16},
		{"DK-005", "compose:database", checks.Warn, 2},
		{"BK-001", "compose:database", checks.Fail, 2},
	} {
		r, ok := got[key{tt.id, tt.res}]
		if !ok {
			t.Errorf("no %s result for %s", tt.id, tt.res)
			continue
		}
		if r.Status != tt.want || r.Location == nil || r.Location.Path != path || r.Location.Line != tt.line {
			t.Errorf("%s %s = %s at %+v (%s), want %s at line %d", tt.id, tt.res, r.Status, r.Location, r.Message, tt.want, tt.line)
		}
	}
	// DK-006 and DK-013 need the engine itself.
	for _, r := range rep.Results {
		if (r.ID == "DK-006" || r.ID == "DK-013") && r.Status != checks.Skip {
			t.Errorf("%s = %s, want SKIP without an engine", r.ID, r.Status)
		}
	}
}
