package preflight

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
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
