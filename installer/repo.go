package installer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/cronjob"
	"github.com/calctl/calctl/internal/safefile"
	"gopkg.in/yaml.v3"
)

// maxManifest caps every file InspectRepo reads from the tree (package.json,
// .yarnrc.yml, workflows): the tree is untrusted input.
const maxManifest = 4 << 20

// InspectRepo reads what calctl needs from a Cal.com checkout: the Node and
// yarn engines of package.json, how yarn is pinned, which API apps exist,
// whether the build needs the database, whether the app store is seeded and
// which Prisma driver reads DATABASE_URL at run time, and the cron routes
// with their schedules. A missing directory is not an error: Repo.Dir is
// left empty and defaults apply. Every fact is cited where it is used.
func InspectRepo(dir string) (Repo, error) {
	r := Repo{NodeMajor: preflight.DefaultNodeMajor}
	var pkg packageJSON
	switch err := readJSON(filepath.Join(dir, "package.json"), &pkg); {
	case errors.Is(err, fs.ErrNotExist):
		return r, nil
	case err != nil:
		return r, err
	}
	r.Dir = dir
	r.NodeEngine = pkg.Engines["node"]
	r.YarnEngine = pkg.Engines["yarn"]
	r.PackageMgr = pkg.PackageManager
	major, err := preflight.NodeMajorFor(r.NodeEngine)
	if err != nil {
		return r, WithRemedy(err, "set images.node (compose) or pm2.node (pm2) to a Node that satisfies engines.node")
	}
	r.NodeMajor = major

	// Yarn. 2023+ trees pin Yarn 3 with .yarnrc.yml's yarnPath (Yarn 1 in the
	// image delegates to it); a tree that says "packageManager": "yarn@4.x"
	// without a yarnPath makes Yarn 1.22.20+ refuse to run until
	// `corepack enable` (calcom-facts.md §9 "Yarn").
	var rc struct {
		YarnPath string `yaml:"yarnPath"`
	}
	if b, err := readCapped(filepath.Join(dir, ".yarnrc.yml")); err == nil {
		r.YarnBerry = true
		_ = yaml.Unmarshal(b, &rc)
		r.YarnPath = rc.YarnPath
	}
	if v, ok := strings.CutPrefix(r.PackageMgr, "yarn@"); ok {
		if m, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0]); err == nil && m >= 2 {
			r.YarnBerry = true
			r.NeedsCorepack = r.YarnPath == ""
		}
	}

	// API v1 lived in apps/api until it moved to apps/api/v1, with the
	// NestJS API v2 beside it in apps/api/v2 (calcom-facts.md §9). Its
	// package is @calcom/api with its own `next build`
	// (cal.com@01eeea0:apps/api/v1/package.json).
	for _, d := range []string{"apps/api/v1", "apps/api"} {
		var ap packageJSON
		if err := readJSON(filepath.Join(dir, d, "package.json"), &ap); err == nil {
			r.HasAPI, r.APIDir, r.APIPackage = true, d, ap.Name
			r.APIHasBuild = ap.Scripts["build"] != ""
			break
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "apps/api/v2/package.json")); err == nil && st.Mode().IsRegular() {
		r.HasAPIV2 = true
	}

	// packages/prisma: 2022 trees migrate and seed in their `build` script
	// (cal.com@00ce736:packages/prisma/package.json: "build": "yarn prisma
	// migrate deploy && yarn seed-app-store"), so `yarn build` needs the
	// database; seed-app-store seeds the app store; @prisma/adapter-pg
	// means node-postgres reads DATABASE_URL at run time (§9 "Prisma and TLS").
	var pp packageJSON
	if err := readJSON(filepath.Join(dir, "packages/prisma/package.json"), &pp); err == nil {
		r.BuildMigrates = strings.Contains(pp.Scripts["build"], "migrate deploy")
		r.SeedAppStore = pp.Scripts["seed-app-store"] != ""
		_, r.AdapterPG = pp.Dependencies["@prisma/adapter-pg"]
		r.PrismaPackage = pp.Name
	}
	r.CronJobs, r.CronUnscheduled, err = discoverCron(dir)
	if err != nil {
		return r, err
	}
	return r, nil
}

type packageJSON struct {
	Name           string            `json:"name"`
	Engines        map[string]string `json:"engines"`
	PackageManager string            `json:"packageManager"`
	Scripts        map[string]string `json:"scripts"`
	Dependencies   map[string]string `json:"dependencies"`
}

func readCapped(path string) ([]byte, error) {
	return safefile.Read(path, maxManifest, safefile.Options{NoFollow: true})
}

func readJSON(path string, v any) error {
	b, err := readCapped(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// cronRouteFile finds the route files: pages/api/cron/**.{ts,js} (the
// file path is the route) and app/api/cron/**/route.{ts,js} (the directory
// is the route), tests excluded.
var cronRouteFile = regexp.MustCompile(`^apps/web/(?:pages/api/cron/(.+)\.(?:ts|js)|app/api/cron/(.+)/route\.(?:ts|js))$`)

// discoverCron lists the cron routes of the tree with the schedules the
// tree itself gives them: .github/workflows/*.yml (`on.schedule[].cron`
// with a step that curls /api/cron/<route>, as
// cal.com@1ddd8dc:.github/workflows/cron-scheduleEmailReminders.yml) and
// apps/web/vercel.json's crons (cal.com@0364f8f:apps/web/vercel.json).
// A route the tree schedules nowhere is reported, not guessed: calling
// monthlyDigestEmail every few minutes would mail every user each time.
func discoverCron(dir string) (jobs []cronjob.Job, unscheduled []string, err error) {
	routes := map[string]routeInfo{} // "/api/cron/x" -> info
	for _, base := range []string{"apps/web/pages/api/cron", "apps/web/app/api/cron"} {
		root := filepath.Join(dir, base)
		if _, err := os.Lstat(root); err != nil {
			continue
		}
		werr := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			if strings.Contains(rel, "__tests__") || strings.Contains(rel, ".test.") || strings.Contains(rel, ".spec.") {
				return nil
			}
			m := cronRouteFile.FindStringSubmatch(rel)
			if m == nil {
				return nil
			}
			route := m[1] + m[2]
			if strings.HasPrefix(filepath.Base(route), "_") {
				return nil // helpers beside the routes
			}
			route = strings.TrimSuffix(route, "/index")
			b, err := readCapped(p)
			if err != nil {
				return nil
			}
			routes["/api/cron/"+route] = routeOf(string(b), m[2] != "")
			return nil
		})
		if werr != nil {
			return nil, nil, werr
		}
	}
	scheduled := map[string]bool{}
	add := func(path, method, sched, source string) {
		info, ok := routes[path]
		if !ok || scheduled[path+" "+sched] {
			return
		}
		if _, err := cronjob.ParseSchedule(sched); err != nil {
			return
		}
		if method == "" || !info.methods[method] && len(info.methods) > 0 {
			method = info.preferred()
		}
		scheduled[path+" "+sched] = true
		scheduled[path] = true
		jobs = append(jobs, cronjob.Job{Path: path, Method: method, Schedule: sched, Auth: info.auth, Source: source})
	}
	for _, wf := range workflowSchedules(dir) {
		for _, c := range wf.calls {
			for _, s := range wf.crons {
				add(c.path, c.method, s, wf.file)
			}
		}
	}
	var vj struct {
		Crons []struct {
			Path     string `json:"path"`
			Schedule string `json:"schedule"`
		} `json:"crons"`
	}
	if err := readJSON(filepath.Join(dir, "apps/web/vercel.json"), &vj); err == nil {
		for _, c := range vj.Crons {
			// Vercel calls cron paths with GET (its documented behaviour)
			add(strings.SplitN(c.Path, "?", 2)[0], "GET", c.Schedule, "apps/web/vercel.json")
		}
	}
	for p := range routes {
		if !scheduled[p] {
			unscheduled = append(unscheduled, p)
		}
	}
	sortStrings(unscheduled)
	sortJobs(jobs)
	return jobs, unscheduled, nil
}

type routeInfo struct {
	methods map[string]bool // exported handlers of an app route
	auth    string
}

func (r routeInfo) preferred() string {
	if r.methods["POST"] || len(r.methods) == 0 {
		return "POST"
	}
	return "GET"
}

var exportedMethod = regexp.MustCompile(`export\s+(?:const|async\s+function|function)\s+(GET|POST)\b`)

func routeOf(src string, appRoute bool) routeInfo {
	info := routeInfo{methods: map[string]bool{}, auth: cronjob.AuthAPIKey}
	if appRoute {
		for _, m := range exportedMethod.FindAllStringSubmatch(src, -1) {
			info.methods[m[1]] = true
		}
	}
	// routes that compare only `Bearer ${CRON_SECRET}` get that header
	if strings.Contains(src, "CRON_SECRET") && !strings.Contains(src, "CRON_API_KEY") {
		info.auth = cronjob.AuthBearer
	}
	return info
}

type workflow struct {
	file  string
	crons []string
	calls []struct{ path, method string }
}

var curlCron = regexp.MustCompile(`/api/cron/([A-Za-z0-9_/-]+)`)
var curlMethod = regexp.MustCompile(`-X\s+(GET|POST)`)

// workflowSchedules reads the scheduled GitHub workflows that call cron
// routes. A step guarded by an `if:` that reads another step's output
// (cron-monthlyDigestEmail.yml runs only on the last day of the month) is
// a condition calctl does not reproduce; that route is left unscheduled.
func workflowSchedules(dir string) []workflow {
	var out []workflow
	entries, err := os.ReadDir(filepath.Join(dir, ".github/workflows"))
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yml") && !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		b, err := readCapped(filepath.Join(dir, ".github/workflows", e.Name()))
		if err != nil {
			continue
		}
		var doc struct {
			On struct {
				Schedule []struct {
					Cron string `yaml:"cron"`
				} `yaml:"schedule"`
			} `yaml:"on"`
			Jobs map[string]struct {
				Steps []struct {
					If  string `yaml:"if"`
					Run string `yaml:"run"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if yaml.Unmarshal(b, &doc) != nil || len(doc.On.Schedule) == 0 {
			continue
		}
		wf := workflow{file: ".github/workflows/" + e.Name()}
		for _, s := range doc.On.Schedule {
			wf.crons = append(wf.crons, s.Cron)
		}
		for _, j := range doc.Jobs {
			for _, st := range j.Steps {
				if strings.Contains(st.If, "steps.") {
					continue
				}
				for _, m := range curlCron.FindAllStringSubmatch(st.Run, -1) {
					method := ""
					if mm := curlMethod.FindStringSubmatch(st.Run); mm != nil {
						method = mm[1]
					}
					wf.calls = append(wf.calls, struct{ path, method string }{"/api/cron/" + strings.TrimRight(m[1], "/"), method})
				}
			}
		}
		out = append(out, wf)
	}
	return out
}
