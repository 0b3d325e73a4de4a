// Command toolchain stands in for Node.js and its tools in calctl's
// TestInstallRealShapes: no npm registry and no image registry can be
// reached, so the images the generated Dockerfile names (node:16, node:18)
// are built locally FROM scratch with Debian's busybox-static as the shell
// and this one static binary as node, yarn, npx and corepack, and, through
// the node_modules/.bin wrappers its `yarn install` writes, as next, turbo,
// prisma and ts-node.
//
// It stands in for the toolchain, never for calctl's files: the generated
// Dockerfile, compose file and .env are used exactly as written. And it
// enforces the contracts of calcom-facts.md §9 that the real tree imposes:
//
//   - yarn: Yarn 1 refuses a tree whose package.json pins "packageManager":
//     "yarn@>=2" without a .yarnrc.yml yarnPath until `corepack enable` ran;
//     a yarnPath must exist; Yarn 1 checks engines.node at install; Yarn 4
//     needs Node >= 18.12.
//   - turbo runs the build script of the filtered package and of the
//     workspaces it depends on, deps first (a 2022 tree's packages/prisma
//     build migrates and seeds, so it needs the database).
//   - next build fails without NEXTAUTH_SECRET or CALENDSO_ENCRYPTION_KEY
//     when the app's next.config.js demands them, and records the
//     NEXT_PUBLIC_* values it inlines; next start fails without the app's
//     own build in .next, and both refuse to run as another app's next
//     version (each app starts with its own app's next).
//   - the web app answers 500 when CALENDSO_ENCRYPTION_KEY is not 32
//     characters or the NEXT_PUBLIC_WEBAPP_URL it was built with differs
//     from the one it runs with, and only answers when its database does;
//     the cron routes answer 401 without the key; API v1 answers 401 to
//     every request without CALCOM_LICENSE_KEY.
//   - prisma migrate deploy reads DATABASE_DIRECT_URL (schema directUrl) or
//     DATABASE_URL with Prisma's engine rules, reports whether TLS would be
//     verified, and applies the tree's migrations into a real
//     _prisma_migrations table.
//   - ts-node seed-app-store.ts upserts the tree's apps and counts the
//     seeding runs, so "once per upgrade" is observable.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/dburl"
	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"
)

const self = "/usr/local/bin/standin"
const corepackMarker = "/usr/local/share/standin/corepack-enabled"

func main() {
	tool := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if tool == "standin" && len(args) > 0 {
		tool, args = args[0], args[1:]
	}
	var err error
	switch tool {
	case "node":
		err = node(args)
	case "yarn":
		err = yarn(args)
	case "npx":
		err = npx(args)
	case "corepack":
		err = corepack(args)
	case "next", "turbo", "prisma", "ts-node":
		pkg := ""
		if len(args) >= 2 && args[0] == "--pkg" {
			pkg, args = args[1], args[2:]
		}
		switch tool {
		case "next":
			err = next(pkg, args)
		case "turbo":
			err = turbo(args)
		case "prisma":
			err = prisma(args)
		case "ts-node":
			err = tsNode(args)
		}
	default:
		err = fmt.Errorf("stand-in toolchain: unknown tool %q", tool)
	}
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", tool, err)
		os.Exit(1)
	}
}

type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func nodeVersion() string {
	if v := os.Getenv("STANDIN_NODE_VERSION"); v != "" {
		return v
	}
	return "18.20.4"
}

// ---------------------------------------------------------------- packages

type pkgJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Workspaces      []string          `json:"workspaces"`
	Scripts         map[string]string `json:"scripts"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Engines         map[string]string `json:"engines"`
	PackageManager  string            `json:"packageManager"`
}

func readPkg(dir string) (*pkgJSON, error) {
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	var p pkgJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s/package.json: %w", dir, err)
	}
	return &p, nil
}

func (p *pkgJSON) deps() map[string]string {
	m := map[string]string{}
	for k, v := range p.DevDependencies {
		m[k] = v
	}
	for k, v := range p.Dependencies {
		m[k] = v
	}
	return m
}

// monorepoRoot walks up from dir to the package.json with workspaces.
func monorepoRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if p, err := readPkg(d); err == nil && len(p.Workspaces) > 0 {
			return d
		}
		if d == "/" {
			return dir
		}
	}
}

// nearestPkgDir walks up from dir to the first package.json.
func nearestPkgDir(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "package.json")); err == nil {
			return d
		}
		if d == "/" {
			return dir
		}
	}
}

func workspaces(root string) (map[string]string, error) { // name -> dir
	rp, err := readPkg(root)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, pat := range rp.Workspaces {
		dirs, _ := filepath.Glob(filepath.Join(root, pat))
		for _, d := range dirs {
			if p, err := readPkg(d); err == nil && p.Name != "" {
				out[p.Name] = d
			}
		}
	}
	return out, nil
}

var tools = map[string]string{"next": "next", "prisma": "prisma", "turbo": "turbo", "ts-node": "ts-node"}

func cleanVersion(v string) string { return strings.TrimLeft(v, "^~=v") }

// --------------------------------------------------------------------- yarn

func yarnVersion(root string, rp *pkgJSON) (string, error) {
	if b, err := os.ReadFile(filepath.Join(root, ".yarnrc.yml")); err == nil {
		var rc struct {
			YarnPath string `yaml:"yarnPath"`
		}
		_ = yaml.Unmarshal(b, &rc)
		if rc.YarnPath != "" {
			if _, err := os.Stat(filepath.Join(root, rc.YarnPath)); err != nil {
				return "", fmt.Errorf("The \"yarn-path\" option has been set (in %s/.yarnrc.yml), but the specified location doesn't exist (%s)", root, rc.YarnPath)
			}
			m := regexp.MustCompile(`yarn-([0-9.]+)\.c?js$`).FindStringSubmatch(rc.YarnPath)
			if m != nil {
				return m[1], nil
			}
			return "3.0.0", nil
		}
	}
	if v, ok := strings.CutPrefix(rp.PackageManager, "yarn@"); ok {
		major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
		if major >= 2 {
			if _, err := os.Stat(corepackMarker); err != nil {
				// what Yarn 1.22.20+ prints for such a tree
				return "", fmt.Errorf("error This project's package.json defines \"packageManager\": \"yarn@%s\". However the current global version of Yarn is 1.22.22.\n\nPresence of the \"packageManager\" field indicates that the project is meant to be used with Corepack, a tool included by default with all official Node.js distributions starting from 16.9 and 14.19.\nCorepack must currently be enabled by running corepack enable in your terminal", v)
			}
			return v, nil
		}
	}
	return "1.22.22", nil
}

func yarn(args []string) error {
	cwd, _ := os.Getwd()
	root := monorepoRoot(cwd)
	rp, err := readPkg(root)
	if err != nil {
		return fmt.Errorf("no package.json in %s or above", cwd)
	}
	ver, err := yarnVersion(root, rp)
	if err != nil {
		return err
	}
	major, _ := strconv.Atoi(strings.SplitN(ver, ".", 2)[0])
	if major >= 4 {
		if ok, _ := preflight.SatisfiesNpmRange(">=18.12.0", nodeVersion()); !ok {
			return fmt.Errorf("Usage Error: This tool requires a Node version compatible with >=18.12.0 (got %s)", nodeVersion())
		}
	}
	if len(args) > 0 && args[0] == "--version" {
		fmt.Println(ver)
		return nil
	}
	if len(args) == 0 || args[0] == "install" {
		if e := rp.Engines["node"]; e != "" && major == 1 {
			if ok, err := preflight.SatisfiesNpmRange(e, nodeVersion()); err == nil && !ok {
				return fmt.Errorf("error %s: The engine \"node\" is incompatible with this module. Expected version %q. Got %q", rp.Name, e, nodeVersion())
			}
		}
		return install(root)
	}
	switch args[0] {
	case "config":
		return nil
	case "workspace":
		if len(args) < 3 {
			return errors.New("usage: yarn workspace <name> <command>")
		}
		ws, err := workspaces(root)
		if err != nil {
			return err
		}
		dir, ok := ws[args[1]]
		if !ok {
			return fmt.Errorf("Unknown workspace %q", args[1])
		}
		return runIn(dir, root, args[2:])
	case "run":
		return runIn(nearestPkgDir(cwd), root, args[1:])
	}
	return runIn(nearestPkgDir(cwd), root, args)
}

// runIn runs a package script of dir, or a bin of its node_modules.
func runIn(dir, root string, args []string) error {
	p, err := readPkg(dir)
	if err != nil {
		return err
	}
	if s, ok := p.Scripts[args[0]]; ok {
		line := s
		for _, a := range args[1:] {
			line += " '" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		fmt.Fprintf(os.Stderr, "$ %s\n", s)
		return sh(dir, root, line)
	}
	if bin := findBin(dir, args[0]); bin != "" {
		return run(dir, root, "/bin/sh", append([]string{bin}, args[1:]...)...)
	}
	return fmt.Errorf("error Command %q not found.", args[0])
}

func binPath(dir, root string) string {
	var dirs []string
	for d := dir; ; d = filepath.Dir(d) {
		dirs = append(dirs, filepath.Join(d, "node_modules/.bin"))
		if d == root || d == "/" {
			break
		}
	}
	return strings.Join(dirs, ":") + ":" + os.Getenv("PATH")
}

func findBin(dir, name string) string {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "node_modules/.bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if d == "/" {
			return ""
		}
	}
}

func sh(dir, root, line string) error { return run(dir, root, "/bin/sh", "-c", line) }

func run(dir, root, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "PATH="+binPath(dir, root))
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return &exitError{ee.ExitCode()}
		}
		return err
	}
	return nil
}

// install lays out node_modules as Yarn's node-modules linker does for
// the tools the stand-in knows: one version hoisted to the root, another
// version a workspace pins nested in that workspace.
func install(root string) error {
	ws, err := workspaces(root)
	if err != nil {
		return err
	}
	rp, _ := readPkg(root)
	type want struct{ dir, version string }
	wants := map[string][]want{}
	add := func(dir string, p *pkgJSON) {
		for dep, v := range p.deps() {
			if _, ok := tools[dep]; ok {
				wants[dep] = append(wants[dep], want{dir, cleanVersion(v)})
			}
		}
	}
	add(root, rp)
	names := make([]string, 0, len(ws))
	for n := range ws {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p, _ := readPkg(ws[n])
		add(ws[n], p)
	}
	for tool, ws := range wants {
		// the root's own version, else the one most workspaces want, else
		// the highest (as Yarn's hoister favours the most referenced)
		count := map[string]int{}
		hoisted := ""
		for _, w := range ws {
			count[w.version]++
		}
		for v, n := range count {
			if hoisted == "" || n > count[hoisted] || n == count[hoisted] && newer(v, hoisted) {
				hoisted = v
			}
		}
		for _, w := range ws {
			if w.dir == root {
				hoisted = w.version
			}
		}
		if err := place(root, tool, hoisted); err != nil {
			return err
		}
		for _, w := range ws {
			if w.version != hoisted {
				if err := place(w.dir, tool, w.version); err != nil {
					return err
				}
			}
		}
	}
	fmt.Printf("stand-in yarn: installed %d tool(s) for %d workspace(s)\n", len(wants), len(ws))
	return os.WriteFile(filepath.Join(root, "node_modules/.yarn-integrity"), []byte("stand-in\n"), 0o644)
}

// newer compares dotted versions numerically.
func newer(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x > y
		}
	}
	return len(as) > len(bs)
}

func place(dir, tool, version string) error {
	pkgDir := filepath.Join(dir, "node_modules", tool)
	if err := os.MkdirAll(filepath.Join(pkgDir, "dist/bin"), 0o755); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]string{"name": tool, "version": version})
	if err := os.WriteFile(filepath.Join(pkgDir, "package.json"), b, 0o644); err != nil {
		return err
	}
	if tool == "next" {
		if err := os.WriteFile(filepath.Join(pkgDir, "dist/bin/next"), []byte("// stand-in next\n"), 0o644); err != nil {
			return err
		}
	}
	bin := filepath.Join(dir, "node_modules/.bin", tool)
	os.MkdirAll(filepath.Dir(bin), 0o755)
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %s %s --pkg %s \"$@\"\n", self, tool, pkgDir)
	return os.WriteFile(bin, []byte(wrapper), 0o755)
}

func npx(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: npx <command>")
	}
	cwd, _ := os.Getwd()
	bin := findBin(cwd, args[0])
	if bin == "" {
		return fmt.Errorf("npx: %s is not installed in this project (the stand-in reaches no registry)", args[0])
	}
	return run(cwd, monorepoRoot(cwd), "/bin/sh", append([]string{bin}, args[1:]...)...)
}

func corepack(args []string) error {
	if len(args) == 0 || args[0] != "enable" {
		return fmt.Errorf("stand-in corepack knows only `corepack enable`")
	}
	if err := os.MkdirAll(filepath.Dir(corepackMarker), 0o755); err != nil {
		return err
	}
	return os.WriteFile(corepackMarker, []byte("1\n"), 0o644)
}

func node(args []string) error {
	if len(args) == 0 {
		return errors.New("the stand-in node has no REPL")
	}
	switch args[0] {
	case "--version", "-v":
		fmt.Println("v" + nodeVersion())
		return nil
	case "-e", "--eval", "-p":
		return errors.New("the stand-in node cannot evaluate JavaScript")
	}
	script := args[0]
	if strings.HasSuffix(script, "/dist/bin/next") {
		return next(filepath.Dir(filepath.Dir(filepath.Dir(script))), args[1:])
	}
	if strings.Contains(script, ".yarn/releases/") {
		return yarn(args[1:])
	}
	return fmt.Errorf("the stand-in node runs only next and a committed Yarn release, not %s", script)
}

// --------------------------------------------------------------------- turbo

func turbo(args []string) error {
	if len(args) < 2 || args[0] != "run" {
		return fmt.Errorf("stand-in turbo knows only `turbo run <task> --filter=<pkg>...` or `--scope=<pkg>`")
	}
	task := args[1]
	target, withDeps := "", false
	for _, a := range args[2:] {
		switch {
		case strings.HasPrefix(a, "--filter="):
			target = strings.Trim(strings.TrimPrefix(a, "--filter="), `"'`)
			if strings.HasSuffix(target, "...") {
				target, withDeps = strings.TrimSuffix(target, "..."), true
			}
		case strings.HasPrefix(a, "--scope="):
			target = strings.Trim(strings.TrimPrefix(a, "--scope="), `"'`)
		case a == "--include-dependencies":
			withDeps = true
		}
	}
	cwd, _ := os.Getwd()
	root := monorepoRoot(cwd)
	ws, err := workspaces(root)
	if err != nil {
		return err
	}
	if _, ok := ws[target]; !ok {
		return fmt.Errorf("turbo: no package %q in the workspace", target)
	}
	var order []string
	seen := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		p, _ := readPkg(ws[n])
		if withDeps {
			var deps []string
			for d := range p.deps() {
				if _, ok := ws[d]; ok {
					deps = append(deps, d)
				}
			}
			sort.Strings(deps)
			for _, d := range deps {
				visit(d)
			}
		}
		order = append(order, n)
	}
	visit(target)
	for _, n := range order {
		p, _ := readPkg(ws[n])
		if _, ok := p.Scripts[task]; !ok {
			continue
		}
		fmt.Fprintf(os.Stderr, "• %s:%s\n", n, task)
		if err := runIn(ws[n], root, []string{task}); err != nil {
			return fmt.Errorf("%s#%s failed: %w", n, task, err)
		}
	}
	return nil
}

// ---------------------------------------------------------------------- next

func next(pkgDir string, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: next build|start")
	}
	cwd, _ := os.Getwd()
	app, err := readPkg(cwd)
	if err != nil {
		return fmt.Errorf("next must run in an app directory: %w", err)
	}
	mine := "unknown"
	if p, err := readPkg(pkgDir); err == nil {
		mine = p.Version
	}
	if w := cleanVersion(app.deps()["next"]); w != "" && w != mine {
		return fmt.Errorf("next %s (%s) is not %s's next (%s): each app must start with its own next", mine, pkgDir, app.Name, w)
	}
	switch args[0] {
	case "build":
		return nextBuild(cwd, app, mine)
	case "start":
		return nextStart(cwd, app, args[1:])
	}
	return fmt.Errorf("stand-in next knows build and start, not %s", args[0])
}

type buildInfo struct {
	Next   string            `json:"next"`
	Node   string            `json:"node"`
	Public map[string]string `json:"public"`
}

func nextBuild(dir string, app *pkgJSON, version string) error {
	if b, err := os.ReadFile(filepath.Join(dir, "next.config.js")); err == nil {
		for _, k := range []string{"NEXTAUTH_SECRET", "CALENDSO_ENCRYPTION_KEY"} {
			if strings.Contains(string(b), "Please set "+k) && os.Getenv(k) == "" {
				return fmt.Errorf("Error: Please set %s", k)
			}
		}
	}
	bi := buildInfo{Next: version, Node: nodeVersion(), Public: map[string]string{}}
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "NEXT_PUBLIC_") {
			bi.Public[k] = v
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, ".next/cache"), 0o755); err != nil {
		return err
	}
	b, _ := json.Marshal(bi)
	if err := os.WriteFile(filepath.Join(dir, ".next/standin-build.json"), b, 0o644); err != nil {
		return err
	}
	fmt.Printf("stand-in next %s: built %s\n", version, app.Name)
	return os.WriteFile(filepath.Join(dir, ".next/BUILD_ID"), []byte(strconv.FormatInt(time.Now().UnixNano(), 36)), 0o644)
}

func nextStart(dir string, app *pkgJSON, args []string) error {
	if _, err := os.Stat(filepath.Join(dir, ".next/BUILD_ID")); err != nil {
		return errors.New("Error: Could not find a production build in the '.next' directory. Try building your app with 'next build' before starting the production server.")
	}
	port, host := os.Getenv("PORT"), "0.0.0.0"
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-p", "--port":
			port = args[i+1]
		case "-H", "--hostname":
			host = args[i+1]
		}
	}
	if port == "" {
		port = "3000"
	}
	var bi buildInfo
	if b, err := os.ReadFile(filepath.Join(dir, ".next/standin-build.json")); err == nil {
		_ = json.Unmarshal(b, &bi)
	}
	root := monorepoRoot(dir)
	var h http.Handler
	switch app.Name {
	case "@calcom/api":
		h = apiHandler()
	default:
		h = webHandler(dir, root, bi)
	}
	srv := &http.Server{Addr: net.JoinHostPort(host, port), Handler: h}
	fmt.Printf("stand-in next: %s ready on %s\n", app.Name, srv.Addr)
	return srv.ListenAndServe()
}

func apiHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("CALCOM_LICENSE_KEY") == "" {
			// cal.com@987514e:apps/api/v1/lib/helpers/verifyApiKey.ts in production
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			fmt.Fprintln(w, `{"error":"Invalid or missing CALCOM_LICENSE_KEY environment variable"}`)
			return
		}
		fmt.Fprintln(w, "calcom-standin api ok")
	})
}

// adapterPG reports whether the tree's packages/prisma uses @prisma/adapter-pg.
func adapterPG(root string) bool {
	p, err := readPkg(filepath.Join(root, "packages/prisma"))
	if err != nil {
		return false
	}
	_, ok := p.Dependencies["@prisma/adapter-pg"]
	return ok
}

var cronMu sync.Mutex
var cronCalls = map[string]int{}

func webHandler(dir, root string, bi buildInfo) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/standin/cron-calls", func(w http.ResponseWriter, r *http.Request) {
		cronMu.Lock()
		defer cronMu.Unlock()
		json.NewEncoder(w).Encode(cronCalls)
	})
	mux.HandleFunc("/api/cron/", func(w http.ResponseWriter, r *http.Request) {
		route := strings.TrimPrefix(r.URL.Path, "/api/cron/")
		page := filepath.Join(dir, "pages/api/cron", route+".ts")
		appr := filepath.Join(dir, "app/api/cron", route, "route.ts")
		src, err := os.ReadFile(page)
		if err != nil {
			if src, err = os.ReadFile(appr); err != nil {
				http.NotFound(w, r)
				return
			}
		}
		auth := r.Header.Get("Authorization")
		if auth == "" {
			auth = r.URL.Query().Get("apiKey")
		}
		ok := os.Getenv("CRON_API_KEY") != "" && auth == os.Getenv("CRON_API_KEY")
		if strings.Contains(string(src), "CRON_SECRET") && os.Getenv("CRON_SECRET") != "" && auth == "Bearer "+os.Getenv("CRON_SECRET") {
			ok = true
		}
		if !ok {
			w.WriteHeader(401)
			fmt.Fprintln(w, `{"message":"Not authenticated"}`)
			return
		}
		cronMu.Lock()
		cronCalls[route]++
		cronMu.Unlock()
		fmt.Fprintln(w, `{"ok":true}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fail := func(format string, a ...any) {
			w.WriteHeader(500)
			fmt.Fprintf(w, format+"\n", a...)
			fmt.Fprintf(os.Stderr, "GET / 500: "+format+"\n", a...)
		}
		if k := os.Getenv("CALENDSO_ENCRYPTION_KEY"); len(k) != 32 {
			// packages/lib/crypto.ts@005a27c2: aes256 with a latin1 key of 32 bytes
			fail("RangeError: Invalid key length (CALENDSO_ENCRYPTION_KEY has %d characters, not 32)", len(k))
			return
		}
		if os.Getenv("NEXTAUTH_SECRET") == "" {
			fail("NEXTAUTH_SECRET is not set")
			return
		}
		if baked, now := bi.Public["NEXT_PUBLIC_WEBAPP_URL"], os.Getenv("NEXT_PUBLIC_WEBAPP_URL"); baked != now {
			fail("the build inlined NEXT_PUBLIC_WEBAPP_URL=%q but the app runs with %q: links and redirects would go to the wrong host", baked, now)
			return
		}
		drv := dburl.Engine
		if adapterPG(root) {
			drv = dburl.NodePG
		}
		raw := os.Getenv("DATABASE_URL")
		tls, err := dburl.Analyze(raw, drv, os.Getenv("PGSSLMODE"))
		if err != nil {
			fail("DATABASE_URL: %v", err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		conn, err := connect(ctx, raw)
		if err != nil {
			fail("database: %v", err)
			return
		}
		defer conn.Close(context.Background())
		var migrations, apps, seeds int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`).Scan(&migrations); err != nil {
			fail("database: %v", err)
			return
		}
		conn.QueryRow(ctx, `SELECT count(*) FROM "App"`).Scan(&apps)
		conn.QueryRow(ctx, `SELECT count(*) FROM calctl_standin_seed`).Scan(&seeds)
		fmt.Fprintf(w, "calcom-standin web ok: %d migrations, %d apps, seeded %d times, node %s, next %s, %s tls: %s\n",
			migrations, apps, seeds, nodeVersion(), bi.Next, drv, tls.Why)
	})
	return mux
}

// connect opens a pgx connection from a Cal.com URL, dropping the
// parameters only Prisma understands. Prisma's engine form with
// sslaccept=strict verifies the server against the CA in sslcert (chain
// and host name; calcom-facts.md §9), which pgx does as verify-full with
// that file: a CA file missing where the URL says fails here as it fails
// Prisma.
func connect(ctx context.Context, raw string) (*pgx.Conn, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a URL")
	}
	q := u.Query()
	if a := q.Get("sslaccept"); a != "" && a != "accept_invalid_certs" && q.Get("sslcert") != "" && q.Get("sslkey") == "" {
		if _, err := os.Stat(q.Get("sslcert")); err != nil {
			return nil, fmt.Errorf("Error opening a TLS connection: the CA file of sslcert: %v", err)
		}
		q.Set("sslmode", "verify-full")
		q.Set("sslrootcert", q.Get("sslcert"))
	}
	for _, k := range []string{"sslaccept", "sslcert", "schema", "connection_limit", "pool_timeout", "pgbouncer", "socket_timeout"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	return pgx.Connect(ctx, u.String())
}

// -------------------------------------------------------------------- prisma

func prisma(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: prisma <command>")
	}
	switch args[0] {
	case "generate", "format":
		fmt.Println("stand-in prisma:", args[0], "done")
		return nil
	case "migrate":
		if len(args) < 2 || args[1] != "deploy" {
			return fmt.Errorf("stand-in prisma knows `migrate deploy`, not %v", args)
		}
	default:
		return fmt.Errorf("stand-in prisma knows generate, format and migrate deploy, not %s", args[0])
	}
	cwd, _ := os.Getwd()
	schema := ""
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--schema" {
			schema = args[i+1]
		}
	}
	if schema == "" {
		for _, c := range []string{"schema.prisma", "prisma/schema.prisma"} {
			if _, err := os.Stat(filepath.Join(cwd, c)); err == nil {
				schema = c
			}
		}
	}
	if !filepath.IsAbs(schema) {
		schema = filepath.Join(cwd, schema)
	}
	sb, err := os.ReadFile(schema)
	if err != nil {
		return fmt.Errorf("Error: Could not find a schema.prisma file (%v)", err)
	}
	name := "DATABASE_URL"
	if strings.Contains(string(sb), `directUrl = env("DATABASE_DIRECT_URL")`) || strings.Contains(string(sb), `directUrl`) {
		name = "DATABASE_DIRECT_URL"
	}
	raw := os.Getenv(name)
	if raw == "" {
		return fmt.Errorf("Error: Environment variable not found: %s.", name)
	}
	tls, err := dburl.Analyze(raw, dburl.Engine, "")
	if err != nil {
		return fmt.Errorf("Error: %s: %v", name, err)
	}
	fmt.Printf("stand-in prisma migrate deploy: %s read with Prisma's engine rules: TLS verified: %v (%s)\n", name, tls.Verified, tls.Why)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, raw)
	if err != nil {
		if strings.HasPrefix(err.Error(), "Error opening a TLS connection") {
			return fmt.Errorf("Error: P1011: %v", err) // Prisma's code for a TLS setup error
		}
		u, _ := url.Parse(raw)
		host := ""
		if u != nil {
			host = u.Host
		}
		return fmt.Errorf("Error: P1001: Can't reach database server at `%s`", host)
	}
	defer conn.Close(context.Background())
	// Prisma's own _prisma_migrations table
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`); err != nil {
		return err
	}
	var failed string
	conn.QueryRow(ctx, `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NULL AND rolled_back_at IS NULL LIMIT 1`).Scan(&failed)
	if failed != "" {
		return fmt.Errorf("Error: P3009: migrate found failed migrations in the target database: %s", failed)
	}
	dirs, _ := filepath.Glob(filepath.Join(filepath.Dir(schema), "migrations", "*", "migration.sql"))
	sort.Strings(dirs)
	applied := 0
	for _, f := range dirs {
		mname := filepath.Base(filepath.Dir(f))
		var n int
		conn.QueryRow(ctx, `SELECT count(*) FROM "_prisma_migrations" WHERE migration_name = $1 AND finished_at IS NOT NULL`, mname).Scan(&n)
		if n > 0 {
			continue
		}
		sql, _ := os.ReadFile(f)
		id := fmt.Sprintf("%x", time.Now().UnixNano())
		if _, err := conn.Exec(ctx, `INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, 'standin', $2)`, id, mname); err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, string(sql)); err != nil {
			conn.Exec(ctx, `UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, id, err.Error())
			return fmt.Errorf("Error: P3018: migration %s failed: %v", mname, err)
		}
		if _, err := conn.Exec(ctx, `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`, id); err != nil {
			return err
		}
		applied++
	}
	fmt.Printf("%d migrations found in prisma/migrations; %d applied\n", len(dirs), applied)
	return nil
}

// ------------------------------------------------------------------- ts-node

func tsNode(args []string) error {
	script := ""
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			script = a
		}
	}
	if filepath.Base(script) != "seed-app-store.ts" {
		return fmt.Errorf("stand-in ts-node runs only seed-app-store.ts, not %q", script)
	}
	src, err := os.ReadFile(script)
	if err != nil {
		return err
	}
	var apps []string
	if m := regexp.MustCompile(`\[([^\]]*)\]`).FindStringSubmatch(string(src)); m != nil {
		for _, a := range strings.Split(m[1], ",") {
			if a = strings.Trim(strings.TrimSpace(a), `"'`); a != "" {
				apps = append(apps, a)
			}
		}
	}
	raw := os.Getenv("DATABASE_URL")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, raw)
	if err != nil {
		return fmt.Errorf("seed-app-store: %v", err)
	}
	defer conn.Close(context.Background())
	for _, a := range apps {
		if _, err := conn.Exec(ctx, `INSERT INTO "App" (slug, "dirName", enabled) VALUES ($1, $1, true) ON CONFLICT (slug) DO NOTHING`, a); err != nil {
			return fmt.Errorf("seed-app-store: %v", err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS calctl_standin_seed (at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `INSERT INTO calctl_standin_seed DEFAULT VALUES`); err != nil {
		return err
	}
	fmt.Printf("seeded %d apps\n", len(apps))
	return nil
}
