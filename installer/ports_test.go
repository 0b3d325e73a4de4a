package installer

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
)

// TestPortsAndProxy (issue 9 item 5): proxy none publishes the app where
// the wizard says (127.0.0.1, or every interface when public_url is the
// app's own port on a host that is not this one); Caddy publishes port 80
// and public_url's port; the bundled Postgres is never published.
func TestPortsAndProxy(t *testing.T) {
	tests := []struct {
		proxy, url  string
		web, caddy  string
		publishedDB bool
	}{
		{"none", "https://cal.example.com", "127.0.0.1:3000:3000", "", false},
		{"none", "http://127.0.0.1:3000", "127.0.0.1:3000:3000", "", false},
		{"none", "http://cal.internal.example:3000", "0.0.0.0:3000:3000", "", false},
		{"caddy", "https://cal.example.com", "127.0.0.1:3000:3000", "80:80,443:443", false},
		{"caddy", "https://cal.example.com:8443", "127.0.0.1:3000:3000", "80:80,8443:8443", false},
		{"caddy", "http://cal.example.com", "127.0.0.1:3000:3000", "80:80", false},
	}
	for _, tt := range tests {
		a, err := contract.DecodeAnswers([]byte("install_dir: /opt/calcom\ntarget: compose\npublic_url: " + tt.url + "\nproxy: " + tt.proxy + "\ndatabase: {mode: bundled}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Finish(); err != nil {
			t.Fatal(err)
		}
		r, err := RenderFiles(a, EnvSecrets{}, Repo{}, fixedSecrets, Existing{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := LoadCompose(context.Background(), a.InstallDir, "calcom", fileOf(t, r, "docker-compose.yml"))
		if err != nil {
			t.Fatal(err)
		}
		ports := func(svc string) string {
			var out []string
			for _, pt := range p.Services[svc].Ports {
				s := pt.Published + ":" + strconv.Itoa(int(pt.Target))
				if pt.HostIP != "" {
					s = pt.HostIP + ":" + s
				}
				out = append(out, s)
			}
			return strings.Join(out, ",")
		}
		for i, want := range []string{tt.web, tt.caddy} {
			svc := []string{"web", "proxy"}[i]
			if got := ports(svc); got != want {
				t.Errorf("%s %s: %s ports %q, want %q", tt.proxy, tt.url, svc, got, want)
			}
		}
		if len(p.Services["database"].Ports) > 0 {
			t.Errorf("%s %s: the bundled database is published", tt.proxy, tt.url)
		}
		for port := range r.Publish {
			if port == 5432 {
				t.Errorf("the plan publishes 5432")
			}
		}
	}
}
