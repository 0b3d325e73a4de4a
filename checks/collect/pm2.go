package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/dotenv"
)

type pm2File struct {
	Apps []struct {
		Name     string            `json:"name"`
		NodeArgs any               `json:"node_args"`
		Env      map[string]any    `json:"env"`
		EnvProd  map[string]any    `json:"env_production"`
		User     string            `json:"user"`
		Extra    map[string]string `json:"-"`
	} `json:"apps"`
}

// maxPM2File caps an ecosystem file: Cal.com's is a few KiB.
const maxPM2File = 4 << 20

var (
	jsPairRE = regexp.MustCompile(`(?m)["']?([A-Za-z_][A-Za-z0-9_]*)["']?\s*:\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([0-9]+|true|false))`)
)

// ParsePM2 reads an ecosystem file: JSON fully; .js/.cjs by extracting
// `key: "literal"` pairs (names, node_args and UPPER_CASE env values). It
// does not execute JavaScript.
func ParsePM2(path string) (*checks.PM2Facts, error) {
	b, err := readRegular(path, maxPM2File)
	if err != nil {
		return nil, err
	}
	pf := &checks.PM2Facts{Path: path}
	if strings.HasSuffix(path, ".json") {
		var j pm2File
		if err := json.Unmarshal(b, &j); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, a := range j.Apps {
			app := checks.PM2App{Name: a.Name, User: a.User, NodeArgs: fmt.Sprint(orEmpty(a.NodeArgs)), Env: map[string]checks.EnvVar{}}
			for _, env := range []map[string]any{a.Env, a.EnvProd} {
				for k, v := range env {
					app.Env[k] = Describe(path, 0, k, fmt.Sprint(v))
				}
			}
			pf.Apps = append(pf.Apps, app)
		}
		return pf, nil
	}
	app := checks.PM2App{Env: map[string]checks.EnvVar{}}
	for _, m := range jsPairRE.FindAllStringSubmatchIndex(string(b), -1) {
		key := string(b[m[2]:m[3]])
		val := ""
		for g := 4; g <= 8; g += 2 {
			if m[g] >= 0 {
				val = string(b[m[g]:m[g+1]])
				break
			}
		}
		line := strings.Count(string(b[:m[0]]), "\n") + 1
		switch {
		case key == "name" && app.Name == "":
			app.Name = val
		case key == "node_args":
			app.NodeArgs = val
		case key == "user" || key == "uid":
			app.User = val
		case key == strings.ToUpper(key):
			app.Env[key] = Describe(path, line, key, val)
		}
	}
	if app.Name == "" {
		app.Name = "app"
	}
	pf.Apps = append(pf.Apps, app)
	return pf, nil
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	if l, ok := v.([]any); ok {
		var s []string
		for _, x := range l {
			s = append(s, fmt.Sprint(x))
		}
		return strings.Join(s, " ")
	}
	return v
}

// readJList asks a running pm2 for its process list (user and log paths).
func readJList(ctx context.Context, pf *checks.PM2Facts) {
	if _, err := exec.LookPath("pm2"); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "pm2", "jlist").Output()
	if err != nil {
		return
	}
	var list []struct {
		Name   string `json:"name"`
		PM2Env struct {
			Username string `json:"username"`
			Out      string `json:"pm_out_log_path"`
			Err      string `json:"pm_err_log_path"`
		} `json:"pm2_env"`
	}
	if json.Unmarshal(out, &list) != nil {
		return
	}
	pf.JList = true
	for _, p := range list {
		idx := -1
		for i := range pf.Apps {
			if pf.Apps[i].Name == p.Name {
				idx = i
			}
		}
		if idx < 0 {
			pf.Apps = append(pf.Apps, checks.PM2App{Name: p.Name})
			idx = len(pf.Apps) - 1
		}
		a := &pf.Apps[idx]
		a.User = p.PM2Env.Username
		for _, l := range []string{p.PM2Env.Out, p.PM2Env.Err} {
			if l != "" {
				a.Logs = append(a.Logs, stat(ctx, l, "pm2-log", false))
			}
		}
	}
	home, _ := os.UserHomeDir()
	b, err := readRegular(filepath.Join(home, ".pm2", "module_conf.json"), 1<<20)
	lr := err == nil && strings.Contains(string(b), "pm2-logrotate")
	if !lr {
		var logs []string
		for _, a := range pf.Apps {
			for _, l := range a.Logs {
				logs = append(logs, l.Path)
			}
		}
		lr = systemLogrotate(logrotateDir, logs)
	}
	pf.LogRotate = &lr
}

// logrotateDir is where logrotate(8) reads its per-package rules.
var logrotateDir = "/etc/logrotate.d"

// systemLogrotate reports whether a logrotate rule in dir names every
// log's directory (as calctl's logrotate/calcom-pm2 does: "<log_dir>/*.log"):
// rotation by the system's logrotate instead of the pm2-logrotate module.
func systemLogrotate(dir string, logs []string) bool {
	if len(logs) == 0 {
		return false
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	var rules strings.Builder
	for _, e := range ents {
		if e.Type().IsRegular() {
			if b, err := dotenv.ReadRegular(filepath.Join(dir, e.Name()), 1<<20); err == nil {
				rules.Write(b)
			}
		}
	}
	for _, l := range logs {
		if !strings.Contains(rules.String(), filepath.Dir(l)+"/") {
			return false
		}
	}
	return true
}
