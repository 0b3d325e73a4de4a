package catalog_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/internal/testenv"
)

func TestChecksDoc(t *testing.T) {
	var b bytes.Buffer
	b.Write(mustRead(t, "testdata/doc_head.md"))
	group := ""
	for _, c := range catalog.All() {
		m, _ := checks.MetaOf(c)
		if g := checks.Group(c.ID()); g != group {
			group = g
			fmt.Fprintf(&b, "\n### %s — %s\n\n| ID | Check | Severity | HIPAA (45 CFR) | Needs | Remediation |\n|---|---|---|---|---|---|\n", g, checks.GroupNames[g])
		}
		var needs []string
		for _, n := range m.Needs {
			needs = append(needs, string(n))
		}
		if len(needs) == 0 {
			needs = []string{"see notes"}
		}
		fmt.Fprintf(&b, "| <a id=\"%s\"></a>%s | %s | %s | %s | %s | %s |\n", strings.ToLower(c.ID()), c.ID(), c.Title(), m.Severity,
			strings.Join(checks.HIPAAFor(c.ID()), ", "), strings.Join(needs, ", "), strings.ReplaceAll(m.Remediation, "|", "\\|"))
	}
	b.Write(mustRead(t, "testdata/doc_tail.md"))
	// docs/checks.md is this test's golden file: go test ./checks/catalog -run TestChecksDoc -update
	testenv.Golden(t, "../../docs/checks.md", b.Bytes())
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
