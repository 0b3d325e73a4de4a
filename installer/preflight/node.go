package preflight

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/calctl/calctl/internal/safefile"
)

// nodeCheck: for pm2, node and yarn exist and satisfy the repo's engines
// (and calctl's own floor in Constraints).
var nodeCheck = Check{
	Name:    "node",
	Applies: func(in *Input) bool { return in.Target == "pm2" },
	Run: func(ctx context.Context, in *Input) []Finding {
		var fs []Finding
		node := in.NodeBin
		if node == "" {
			node = "node"
		}
		out, err := exec.CommandContext(ctx, node, "--version").Output()
		if err != nil {
			return []Finding{{Severity: Error, Message: fmt.Sprintf("%s --version: %v", node, err),
				Remedy: "install Node 18 (e.g. with nvm or NodeSource) and set pm2.node to its path"}}
		}
		nv := strings.TrimSpace(string(out))
		if ok, _ := Satisfies("node", nv); !ok {
			fs = append(fs, Finding{Severity: Error, Message: fmt.Sprintf("node %s does not satisfy %s", nv, Constraints["node"].Range), Remedy: "install Node 18"})
		}
		if in.NodeEngine != "" {
			ok, err := SatisfiesNpmRange(in.NodeEngine, nv)
			if err != nil || !ok {
				want, _ := NodeMajorFor(in.NodeEngine)
				fs = append(fs, Finding{Severity: Error, Message: fmt.Sprintf("node %s does not satisfy the repository's engines.node %q", nv, in.NodeEngine),
					Remedy: fmt.Sprintf("install Node %d and set pm2.node to it", want)})
			}
		}
		if in.PM2Cluster && in.NodeEngine != "" {
			fs = append(fs, pm2DaemonNode(ctx, in.NodeEngine)...)
		}
		yout, err := exec.CommandContext(ctx, "yarn", "--version").Output()
		if err != nil {
			fs = append(fs, Finding{Severity: Error, Message: "yarn is not installed", Remedy: "corepack enable (Node >= 16.10) or npm install -g yarn"})
			return fs
		}
		yv := strings.TrimSpace(string(yout))
		if ok, _ := Satisfies("yarn", yv); !ok {
			fs = append(fs, Finding{Severity: Error, Message: fmt.Sprintf("yarn %s does not satisfy %s", yv, Constraints["yarn"].Range), Remedy: "corepack enable"})
		}
		if in.YarnEngine != "" {
			if ok, err := SatisfiesNpmRange(in.YarnEngine, yv); err != nil || !ok {
				fs = append(fs, Finding{Severity: Error, Message: fmt.Sprintf("yarn %s does not satisfy the repository's engines.yarn %q", yv, in.YarnEngine),
					Remedy: "corepack enable && corepack prepare (the repository's packageManager) --activate"})
			}
		}
		return fs
	},
}

// pm2DaemonNode checks the Node the pm2 daemon runs on: in cluster mode
// (pm2.instances > 1) pm2 ignores `interpreter` and runs the apps on its
// own Node (pm2 #1575, #3113; calcom-facts.md §9 "pm2"). That Node is the
// one pm2's script names in its #! line (`#!/usr/bin/env node`: the node on
// PATH).
func pm2DaemonNode(ctx context.Context, engine string) []Finding {
	pm2, err := exec.LookPath("pm2")
	if err != nil {
		return nil // the start step says how to install pm2
	}
	f, _, err := safefile.Open(pm2, safefile.Options{})
	if err != nil {
		return nil
	}
	line, _ := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	f.Close()
	node := "node"
	if fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "#!")); len(fields) > 0 {
		node = fields[0]
		if filepath.Base(node) == "env" && len(fields) > 1 {
			node = fields[1]
		}
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return []Finding{{Severity: Error, Message: fmt.Sprintf("cannot tell which Node pm2 runs on (%s --version: %v)", node, err),
			Remedy: "set pm2.instances: 1 (fork mode honours pm2.node), or install pm2 with the Node the repository needs"}}
	}
	v := strings.TrimSpace(string(out))
	if ok, err := SatisfiesNpmRange(engine, v); err != nil || !ok {
		return []Finding{{Severity: Error,
			Message: fmt.Sprintf("pm2 runs on node %s (%s), which does not satisfy engines.node %q; in cluster mode (pm2.instances > 1) pm2 ignores pm2.node", v, pm2, engine),
			Remedy:  "set pm2.instances: 1 (fork mode runs pm2.node), or reinstall pm2 under a Node that satisfies engines.node and restart its daemon (pm2 kill)"}}
	}
	return nil
}
