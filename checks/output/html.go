package output

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/redact"
)

//go:embed report.html.tmpl
var htmlTemplate string

// statusOrder is the order of statuses in the chart and the tables.
var statusOrder = []checks.Status{checks.Fail, checks.Warn, checks.Error, checks.Manual, checks.Skip, checks.Pass}

// statusColor is one colour per status (chart, badges); print-safe.
var statusColor = map[checks.Status]string{
	checks.Fail: "#c62828", checks.Warn: "#ef8f00", checks.Error: "#6a1b9a",
	checks.Manual: "#1565c0", checks.Skip: "#9e9e9e", checks.Pass: "#2e7d32",
}

type htmlCount struct {
	Status checks.Status
	N      int
	Color  string
}

type htmlBar struct {
	Group, Name string
	Total       int
	Segs        []htmlSeg
	Y           int
}

type htmlSeg struct {
	Status checks.Status
	N      int
	X, W   float64
	Color  string
}

type htmlSafeguard struct {
	Cite, Name, Anchor string
	Counts             []htmlCount
	Findings           []htmlResult // WARN, FAIL, ERROR, MANUAL, SKIP
	Passed             []htmlResult
}

type htmlResult struct {
	checks.Result
	Color    string
	Evidence []htmlKV
	Location string
}

type htmlKV struct{ K, V string }

type htmlData struct {
	Rep        *checks.Report
	Counts     []htmlCount
	Total      int
	Bars       []htmlBar
	ChartH     int
	Safeguards []htmlSafeguard
	Uncited    []htmlResult
	Waived     []htmlResult
	Target     []htmlKV
}

// HTML writes one self-contained evidence report (no external assets, no
// script): the summary, a chart of status by area, and every result grouped
// under the HIPAA safeguard it gives evidence for, each finding with its
// evidence, remedy and waiver. It prints on A4/Letter (print CSS).
func HTML(w io.Writer, rep *checks.Report) error {
	t, err := template.New("report").Funcs(template.FuncMap{
		"lower": strings.ToLower,
		"color": func(s checks.Status) string { return statusColor[s] },
		"date":  func(r *checks.Report) string { return r.FinishedAt.UTC().Format("2006-01-02 15:04 MST") },
		"clean": redact.Controls,
	}).Parse(htmlTemplate)
	if err != nil {
		return err
	}
	return t.Execute(w, buildHTML(rep))
}

func buildHTML(rep *checks.Report) htmlData {
	d := htmlData{Rep: rep, Total: len(rep.Results)}
	byStatus := map[checks.Status]int{}
	for _, r := range rep.Results {
		byStatus[r.Status]++
	}
	for _, s := range statusOrder {
		d.Counts = append(d.Counts, htmlCount{s, byStatus[s], statusColor[s]})
	}
	// Chart: one bar per area (check group), segments per status.
	groups := map[string]map[checks.Status]int{}
	var order []string
	for _, r := range rep.Results {
		if groups[r.Group] == nil {
			groups[r.Group] = map[checks.Status]int{}
			order = append(order, r.Group)
		}
		groups[r.Group][r.Status]++
	}
	const barW = 460.0
	for i, g := range order {
		b := htmlBar{Group: g, Name: checks.GroupNames[g], Y: 8 + i*30}
		for _, n := range groups[g] {
			b.Total += n
		}
		x := 0.0
		for _, s := range statusOrder {
			n := groups[g][s]
			if n == 0 {
				continue
			}
			wd := barW * float64(n) / float64(b.Total)
			b.Segs = append(b.Segs, htmlSeg{Status: s, N: n, X: x, W: wd, Color: statusColor[s]})
			x += wd
		}
		d.Bars = append(d.Bars, b)
	}
	d.ChartH = 16 + 30*len(order)
	// Safeguards.
	byCite := map[string][]checks.Result{}
	for _, r := range rep.Results {
		if r.Waiver != nil {
			d.Waived = append(d.Waived, wrap(r, rep))
		}
		if len(r.HIPAA) == 0 {
			d.Uncited = append(d.Uncited, wrap(r, rep))
		}
		for _, c := range r.HIPAA {
			byCite[c] = append(byCite[c], r)
		}
	}
	cites := make([]string, 0, len(byCite))
	for c := range byCite {
		cites = append(cites, c)
	}
	checks.SortCites(cites)
	rank := map[checks.Status]int{}
	for i, s := range statusOrder {
		rank[s] = i
	}
	for _, c := range cites {
		sg := htmlSafeguard{Cite: c, Name: checks.HIPAASafeguards[c], Anchor: "s-" + checks.HIPAAID(c)}
		rs := byCite[c]
		sort.SliceStable(rs, func(i, j int) bool {
			if rank[rs[i].Status] != rank[rs[j].Status] {
				return rank[rs[i].Status] < rank[rs[j].Status]
			}
			return rs[i].Severity.Rank() > rs[j].Severity.Rank()
		})
		cnt := map[checks.Status]int{}
		for _, r := range rs {
			cnt[r.Status]++
			if r.Status == checks.Pass {
				sg.Passed = append(sg.Passed, wrap(r, rep))
			} else {
				sg.Findings = append(sg.Findings, wrap(r, rep))
			}
		}
		for _, s := range statusOrder {
			sg.Counts = append(sg.Counts, htmlCount{s, cnt[s], statusColor[s]})
		}
		d.Safeguards = append(d.Safeguards, sg)
	}
	t := rep.Target
	for _, kv := range [][2]string{{"profile", t.Profile}, {"install dir", t.Dir}, {"host", t.Host}, {"database", t.Database},
		{"public URL", t.PublicURL}, {"kubernetes", t.Kubernetes}, {"env file", t.EnvFile}, {"compose file", t.ComposeFile}, {"pm2 file", t.PM2File}} {
		if kv[1] != "" {
			d.Target = append(d.Target, htmlKV{kv[0], kv[1]})
		}
	}
	return d
}

func wrap(r checks.Result, rep *checks.Report) htmlResult {
	h := htmlResult{Result: r, Color: statusColor[r.Status]}
	for _, k := range checks.SortedKeys(r.Evidence) {
		h.Evidence = append(h.Evidence, htmlKV{k, r.Evidence[k]})
	}
	if r.Location != nil && r.Location.Path != "" {
		h.Location = r.Location.Path
		if r.Location.Line > 0 {
			h.Location += fmt.Sprintf(":%d", r.Location.Line)
		}
	}
	return h
}
