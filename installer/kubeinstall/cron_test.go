package kubeinstall

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/kubechart"
	"github.com/calctl/calctl/installer/kuberelease"
	"github.com/calctl/calctl/internal/cronjob"
	"github.com/calctl/calctl/internal/kubetest"
	"github.com/calctl/calctl/internal/testenv"
)

// TestRoutesForUsesTheTreeSchedule: with the tree's cron schedule
// (installer.Repo.CronJobs), each route gets its own schedule, method and
// auth, and a route on two schedules two CronJob names; without one, every
// route in the clone every 15 minutes.
func TestRoutesForUsesTheTreeSchedule(t *testing.T) {
	repo := installer.Repo{CronJobs: []cronjob.Job{
		{Path: "/api/cron/bookingReminder", Method: "POST", Schedule: "*/15 * * * *", Auth: cronjob.AuthAPIKey},
		{Path: "/api/cron/calendar-cache/cleanup", Method: "GET", Schedule: "0 5 * * *", Auth: cronjob.AuthBearer},
		{Path: "/api/cron/bookingReminder", Method: "POST", Schedule: "0 * * * *", Auth: cronjob.AuthAPIKey},
		{Path: "/api/cron/bookingReminder", Method: "POST", Schedule: "30 * * * *", Auth: cronjob.AuthAPIKey},
	}}
	got := RoutesFor(repo, t.TempDir(), "calcom")
	want := []kubechart.CronRoute{
		{Name: "bookingreminder", Path: "/api/cron/bookingReminder", Schedule: "*/15 * * * *", Method: "POST", Auth: "api_key"},
		{Name: "calendar-cache-cleanup", Path: "/api/cron/calendar-cache/cleanup", Schedule: "0 5 * * *", Method: "GET", Auth: "bearer"},
		{Name: "bookingreminder-2", Path: "/api/cron/bookingReminder", Schedule: "0 * * * *", Method: "POST", Auth: "api_key"},
		{Name: "bookingreminder-3", Path: "/api/cron/bookingReminder", Schedule: "30 * * * *", Method: "POST", Auth: "api_key"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RoutesFor = %+v\nwant %+v", got, want)
	}
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "apps/web/pages/api/cron"), 0o755)
	os.WriteFile(filepath.Join(src, "apps/web/pages/api/cron/bookingReminder.ts"), nil, 0o644)
	if got := RoutesFor(installer.Repo{}, src, "calcom"); len(got) != 1 || got[0].Schedule != "*/15 * * * *" || got[0].Method != "" {
		t.Fatalf("fallback = %+v", got)
	}
}

// TestCronJobScriptCallsTheRoute renders the chart with an api_key GET
// route and a bearer POST route (Helm's template engine through the SDK),
// then runs each CronJob's node script — as rendered, only the key file's
// path pointed at a temporary file — against a loopback server: each
// request has the route's method and the header its route compares.
func TestCronJobScriptCallsTheRoute(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node", err)
	}
	k := testenv.SharedKubeAPI(t)
	c := kubetest.Config("cal", kubetest.Namespace("cron"))
	c.Cron.Routes = []kubechart.CronRoute{
		{Name: "reminder", Path: "/api/cron/bookingReminder", Schedule: "*/15 * * * *"},
		{Name: "cleanup", Path: "/api/cron/calendar-cache/cleanup", Schedule: "0 5 * * *", Method: "POST", Auth: "bearer"},
	}
	files, err := kubechart.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, f.Data, 0o600)
	}
	cl, err := kuberelease.New(kuberelease.Target{Kubeconfig: k.Kubeconfig, Namespace: c.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := kuberelease.LoadChart(filepath.Join(dir, kubechart.AppChartDir))
	if err != nil {
		t.Fatal(err)
	}
	r, err := cl.Template(ch, c.Release)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		seen[req.URL.Path] = req.Method + " " + req.Header.Get("Authorization")
		mu.Unlock()
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte("k3y-value\n"), 0o600)
	ran := 0
	for _, doc := range strings.Split(r.Manifest, "\n---") {
		if !strings.Contains(doc, "kind: CronJob") || !strings.Contains(doc, "-cron-") {
			continue
		}
		var cj batchv1.CronJob
		if err := yaml.NewYAMLOrJSONDecoder(strings.NewReader(doc), 4096).Decode(&cj); err != nil {
			t.Fatal(err)
		}
		ctr := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
		script := strings.ReplaceAll(ctr.Command[2], "/etc/calcom/cron/key", keyFile)
		cmd := exec.CommandContext(context.Background(), node, "-e", script)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		for _, e := range ctr.Env {
			v := e.Value
			if e.Name == "CRON_URL" {
				v = srv.URL + v[strings.Index(v, "/api/"):]
			}
			cmd.Env = append(cmd.Env, e.Name+"="+v)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cj.Name, err, out)
		}
		ran++
	}
	want := map[string]string{"/api/cron/bookingReminder": "GET k3y-value", "/api/cron/calendar-cache/cleanup": "POST Bearer k3y-value"}
	if ran != 2 || !reflect.DeepEqual(seen, want) {
		t.Fatalf("ran %d scripts; requests %v, want %v", ran, seen, want)
	}
}
