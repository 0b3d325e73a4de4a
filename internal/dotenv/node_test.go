package dotenv

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

// TestNodeAssignmentRoundTrip writes values with NodeAssignment and reads
// them back with Node's own dotenv parser (util.parseEnv, Node ≥ 20.12,
// which follows motdotla/dotenv's grammar): each comes back byte for byte,
// and each value that cannot be written is refused.
func TestNodeAssignmentRoundTrip(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node", err)
	}
	values := map[string]string{
		"PLAIN": "abc123", "SPACE": "  lead and trail  ", "HASH": "a #b", "SQ": "it's", "SQBT": "it's `x`",
		"DQ": `say "hi"`, "ALL2": "'`\"", "BACKSLASH": `C:\path\n`, "DOLLAR": "p$ss${X}", "URL": "postgresql://u:p'a$s`w@h:5432/db?sslmode=require",
		"EMPTY": "", "EQ": "a=b=c",
	}
	var b strings.Builder
	want := map[string]string{}
	for k, v := range values {
		line, err := NodeAssignment(k, v)
		if k == "ALL2" {
			if err == nil {
				t.Errorf("%s: %q accepted", k, v)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		b.WriteString(line + "\n")
		want[k] = v
	}
	for _, bad := range []string{"a\nb", "'`\"", "'`\\"} {
		if _, err := NodeAssignment("X", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	cmd := exec.Command(node, "-e", `let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(require("util").parseEnv(s))))`)
	cmd.Stdin = strings.NewReader(b.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	got := map[string]string{}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: wrote %q, Node read %q (line %q)", k, v, got[k], lineOf(b.String(), k))
		}
	}
}

func lineOf(s, k string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, k+"=") {
			return l
		}
	}
	return ""
}
