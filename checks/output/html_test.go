package output_test

import (
	"bytes"
	"context"

	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/output"
	"github.com/calctl/calctl/internal/testenv"
)

// chromium runs Debian's headless Chromium with args and returns stdout.
func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, "chromium (Debian package chromium)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	home := t.TempDir() // its profile and crash dumps stay in the test's dir
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--user-data-dir=" + filepath.Join(home, "profile"), "--font-render-hinting=none", "--force-device-scale-factor=1"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.Bytes())
	}
	return out.Bytes()
}

var countRE = regexp.MustCompile(`data-status="([A-Z]+)" data-count="(\d+)"`)

// TestHTMLInChromium loads the evidence report in a real headless Chromium:
// the DOM the browser built shows the report's counts (summary tiles, and
// the chart's segments add up per status), it pulls nothing from outside,
// and its screenshot matches the golden image.
func TestHTMLInChromium(t *testing.T) {
	rep := fixture()
	var buf bytes.Buffer
	if err := output.HTML(&buf, rep); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	// Self-contained: no external stylesheet, script, image or font.
	for _, bad := range []string{"<script", "<link", "src=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("report is not self-contained: contains %q", bad)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(chromium(t, "--dump-dom", "file://"+file))
	if !strings.Contains(dom, "HIPAA hardening evidence report") {
		t.Fatalf("chromium did not render the report:\n%.500s", dom)
	}
	tiles := map[string]int{}
	chart := map[string]int{}
	summary := dom[strings.Index(dom, `id="summary"`):strings.Index(dom, `id="chart"`)]
	for _, m := range countRE.FindAllStringSubmatch(summary, -1) {
		tiles[m[1]], _ = strconv.Atoi(m[2])
	}
	svg := dom[strings.Index(dom, `id="chart"`):strings.Index(dom, "</svg>")]
	for _, m := range countRE.FindAllStringSubmatch(svg, -1) {
		n, _ := strconv.Atoi(m[2])
		chart[m[1]] += n
	}
	s := rep.Summary
	want := map[string]int{"PASS": s.Pass, "WARN": s.Warn, "FAIL": s.Fail, "SKIP": s.Skip, "MANUAL": s.Manual, "ERROR": s.Error, "WAIVED": s.Waived}
	for st, n := range want {
		if tiles[st] != n {
			t.Errorf("page shows %d %s, the report has %d", tiles[st], st, n)
		}
		if st != "WAIVED" && chart[st] != n {
			t.Errorf("chart adds up to %d %s, the report has %d", chart[st], st, n)
		}
	}
	if !strings.Contains(dom, `id="total" data-count="7"`) {
		t.Error("total count missing")
	}
	// Every finding is shown with its remedy; the waiver with who approved it.
	for _, r := range rep.Results {
		if r.Status == checks.Fail || r.Status == checks.Warn {
			if !strings.Contains(dom, `data-id="`+r.ID+`"`) || !strings.Contains(dom, template(r.Remediation)) {
				t.Errorf("%s is not on the page with its remedy", r.ID)
			}
		}
	}
	if !strings.Contains(dom, "approved by Security Officer") {
		t.Error("the waiver's approver is not on the page")
	}
	// Printable: Chromium prints it to PDF.
	pdf := filepath.Join(dir, "report.pdf")
	chromium(t, "--print-to-pdf="+pdf, "--no-pdf-header-footer", "file://"+file)
	if b, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("print to PDF: %v", err)
	}
	// Screenshot, compared with the golden image.
	shot := filepath.Join(dir, "report.png")
	chromium(t, "--window-size=1000,1600", "--screenshot="+shot, "file://"+file)
	comparePNG(t, shot, filepath.Join("testdata", "report.html.png"))
}

// template escapes text the way Chromium serialises a text node.
func template(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// comparePNG compares a screenshot with a golden image: same size and at
// most 0.5% of pixels differing by more than a small per-channel margin
// (font anti-aliasing). -update rewrites the golden image; on a mismatch
// the new screenshot is kept beside it as *.got.png.
func comparePNG(t *testing.T, got, golden string) {
	t.Helper()
	gb, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if testenv.Updating() {
		if err := os.WriteFile(golden, gb, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	wb, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	gi, err1 := png.Decode(bytes.NewReader(gb))
	wi, err2 := png.Decode(bytes.NewReader(wb))
	if err1 != nil || err2 != nil {
		t.Fatalf("decode: %v %v", err1, err2)
	}
	diff, total := pixelDiff(gi, wi)
	if diff < 0 || float64(diff) > 0.005*float64(total) {
		_ = os.WriteFile(strings.TrimSuffix(golden, ".png")+".got.png", gb, 0o644)
		t.Errorf("screenshot differs from %s: %d of %d pixels (size %v vs %v); see *.got.png, run -update to accept",
			golden, diff, total, gi.Bounds().Size(), wi.Bounds().Size())
	}
}

func pixelDiff(a, b image.Image) (int, int) {
	if a.Bounds() != b.Bounds() {
		return -1, a.Bounds().Dx() * a.Bounds().Dy()
	}
	n := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, _ := a.At(x, y).RGBA()
			br, bg, bb, _ := b.At(x, y).RGBA()
			if absd(ar, br) > 0x1800 || absd(ag, bg) > 0x1800 || absd(ab, bb) > 0x1800 {
				n++
			}
		}
	}
	return n, r.Dx() * r.Dy()
}

func absd(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
