package templates

import (
	"os/exec"
	"strings"
	"testing"
	"text/template"
)

// TestQuotingFuncs renders hostile strings with jsstr and sh and checks that
// node and sh read back exactly the original value.
func TestQuotingFuncs(t *testing.T) {
	values := []string{`plain`, `it's`, `a "quoted" \ value`, "two\nlines", `$(rm -rf /) ${X} ` + "`x`", `</script>`}
	for _, v := range values {
		var b strings.Builder
		tm := template.Must(template.New("t").Funcs(funcs).Parse(`{{sh .}}`))
		if err := tm.Execute(&b, v); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("sh", "-c", "printf %s "+b.String()).Output()
		if err != nil || string(out) != v {
			t.Errorf("sh %q -> %s -> %q (%v)", v, b.String(), out, err)
		}
		if node, err := exec.LookPath("node"); err == nil {
			b.Reset()
			tm := template.Must(template.New("t").Funcs(funcs).Parse(`process.stdout.write({{jsstr .}})`))
			tm.Execute(&b, v)
			out, err := exec.Command(node, "-e", b.String()).Output()
			if err != nil || string(out) != v {
				t.Errorf("jsstr %q -> %s -> %q (%v)", v, b.String(), out, err)
			}
		}
	}
}

func TestRenderMissingKeyFails(t *testing.T) {
	if _, err := Render("env/db.env.tmpl", map[string]string{"DBUser": "u"}); err == nil {
		t.Error("a missing key rendered")
	}
	if _, err := Render("no/such.tmpl", nil); err == nil {
		t.Error("a missing template rendered")
	}
}
