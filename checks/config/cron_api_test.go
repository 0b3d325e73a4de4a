package config_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/checks/config"
	cnet "github.com/calctl/calctl/checks/net"
)

// CF-011 and NET-009 over real install files (.env and a compose file).
func TestCronKeyAndAPIExposure(t *testing.T) {
	compose := `services:
  web:
    image: calcom/cal.com:v5.2.1
    ports: ["127.0.0.1:3000:3000"]
  api:
    image: calcom/cal.com:v5.2.1
    ports: ["3003:3003"]
`
	tests := []struct {
		name, env, compose string
		want               map[string]checks.Status // "ID resource" -> status
	}{
		{"no key, exposed API", "NEXT_PUBLIC_API_V2_URL=http://cal.example.com:5555/api/v2\n", compose, map[string]checks.Status{
			"CF-011 CRON_API_KEY": checks.Fail, "NET-009 compose:api": checks.Fail, "NET-009 NEXT_PUBLIC_API_V2_URL": checks.Fail}},
		{"example key", "CRON_API_KEY=0cc0e6c35519bba620c9360cfe3e68d0\n", "", map[string]checks.Status{
			"CF-011 CRON_API_KEY": checks.Fail, "NET-009 api": checks.Pass}},
		{"strong key, https API", "CRON_API_KEY=9f1c2e7a4b8d0f3e6a5c1b9d7e2f4a8c0d6b3e1f5a7c9d2e\nNEXT_PUBLIC_API_V2_URL=https://api.example.com/v2\n",
			"services:\n  api:\n    image: calcom/cal.com:v5.2.1\n    ports: [\"127.0.0.1:3003:3003\"]\n", map[string]checks.Status{
				"CF-011 CRON_API_KEY": checks.Pass, "NET-009 compose:api": checks.Pass, "NET-009 NEXT_PUBLIC_API_V2_URL": checks.Pass}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, ".env"), []byte(tt.env), 0o600)
			if tt.compose != "" {
				os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(tt.compose), 0o644)
			}
			f, err := collect.Collect(context.Background(), collect.Options{Dir: dir, Only: []checks.Source{checks.SourceFiles}})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]checks.Result{}
			for _, r := range checks.Run(f, []checks.Check{config.CronKey, cnet.APIExposure}, checks.Selection{}, nil).Results {
				got[r.ID+" "+r.Resource] = r
			}
			for k, w := range tt.want {
				if got[k].Status != w {
					t.Errorf("%s = %s %q, want %s (all: %v)", k, got[k].Status, got[k].Message, w, got)
				}
			}
		})
	}
}
