package catalog_test

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
)

func TestCatalog(t *testing.T) {
	idRE := regexp.MustCompile(`^(PG|DK|CF|NET|BK|K8S)-\d{3}$`)
	seen := map[string]bool{}
	perGroup := map[string]int{}
	for _, c := range catalog.All() {
		id := c.ID()
		if !idRE.MatchString(id) || seen[id] {
			t.Errorf("bad or duplicate ID %q", id)
		}
		seen[id] = true
		perGroup[checks.Group(id)]++
		m, ok := checks.MetaOf(c)
		if !ok || m.Severity.Rank() < 0 || m.Remediation == "" || c.Title() == "" {
			t.Errorf("%s: incomplete metadata %+v", id, m)
		}
		if len(checks.HIPAAFor(id)) == 0 {
			t.Errorf("%s has no HIPAA citation", id)
		}
	}
	for id := range checks.HIPAATable {
		if !seen[id] {
			t.Errorf("HIPAA table cites %s, which is not in the catalog", id)
		}
	}
	if len(seen) < 65 {
		t.Errorf("%d checks, want at least 65", len(seen))
	}
	for _, g := range []string{"PG", "DK", "CF", "NET", "BK", "K8S"} {
		if perGroup[g] == 0 {
			t.Errorf("no %s checks", g)
		}
	}
	t.Logf("checks per group: %v (total %d)", perGroup, len(seen))
}

// TestEmptyFactsNeverPanics runs every check over facts where nothing was
// collected: each must SKIP, ERROR or MANUAL (or judge what little there is),
// never panic.
func TestEmptyFactsNeverPanics(t *testing.T) {
	f := &checks.Facts{}
	rep := checks.Run(f, catalog.All(), checks.Selection{}, nil)
	for _, r := range rep.Results {
		if r.Status == checks.Error && regexp.MustCompile(`panicked`).MatchString(r.Message) {
			t.Errorf("%s panicked on empty facts: %s", r.ID, r.Message)
		}
	}
}

// BenchmarkFullLiveCheck measures one full live run: collectors in parallel
// against a local Postgres cluster, the Docker engine and a loopback HTTPS
// server, then all checks.
func BenchmarkFullLiveCheck(b *testing.B) {
	p := testenv.StartPostgres(b, testenv.PostgresOptions{})
	dbURL := p.URL("postgres", "", "postgres", "sslmode=disable")
	cli := testenv.RequireDocker(b)
	ca := testenv.NewCA(b)
	leaf := ca.Valid(b)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
	}))
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the TLS 1.0/1.1 probes are refused on purpose
	ts.StartTLS()
	defer ts.Close()
	o := collect.Options{DatabaseURL: secret.Secret(dbURL), Docker: true, DockerClient: cli, URL: ts.URL, HTTPURL: ts.URL, RootCAs: ca.Pool,
		Host: true, Timeout: 10 * time.Second}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := collect.Collect(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range []checks.Source{checks.SourcePG, checks.SourceDocker, checks.SourceNet, checks.SourceHost} {
			if st := f.Source(s); !st.Collected {
				b.Fatalf("%s not collected: %+v", s, st)
			}
		}
		rep := checks.Run(f, catalog.All(), checks.Selection{}, nil)
		if len(rep.Results) < 50 {
			b.Fatalf("%d results", len(rep.Results))
		}
		if i == 0 {
			for s, st := range f.Sources {
				b.Logf("%-8s %4d ms", s, st.DurationMS)
			}
		}
	}
}
