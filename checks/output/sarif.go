package output

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/calctl/calctl/checks"
)

// SARIFSchema is the schema URI written into SARIF logs.
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool      `json:"tool"`
	Results []sarifResult  `json:"results"`
	Props   map[string]any `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration map[string]any `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	// PartialFingerprints identify the alert across runs: GitHub code
	// scanning otherwise derives one from the location's line, and every
	// runtime finding at the fallback line 1 would merge into one alert.
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// SecuritySeverity maps a severity to GitHub's security-severity score (trivy's values).
func SecuritySeverity(s checks.Severity) string {
	switch s {
	case checks.Critical:
		return "9.5"
	case checks.High:
		return "8.0"
	case checks.Medium:
		return "5.5"
	case checks.Low:
		return "2.0"
	}
	return "0.0"
}

func level(s checks.Severity) string {
	switch s {
	case checks.Critical, checks.High:
		return "error"
	case checks.Medium:
		return "warning"
	}
	return "note"
}

// SARIF writes a SARIF 2.1.0 log: one rule per check, results for WARN and
// FAIL, suppressions for waived results, file locations where known.
func SARIF(w io.Writer, rep *checks.Report, list []checks.Check) error {
	d := sarifDriver{Name: "calctl", Version: rep.Tool.Version, InformationURI: "https://github.com/calctl/calctl"}
	index := map[string]int{}
	for _, c := range list {
		m, _ := checks.MetaOf(c)
		index[c.ID()] = len(d.Rules)
		cites := checks.HIPAAFor(c.ID())
		tags := []string{c.Title(), "security", strings.ToUpper(string(m.Severity))}
		for _, ct := range cites {
			tags = append(tags, "HIPAA-"+ct)
		}
		d.Rules = append(d.Rules, sarifRule{
			ID: c.ID(), Name: ruleName(c.ID()), ShortDescription: sarifText{c.Title()},
			FullDescription:      sarifText{fmt.Sprintf("%s (HIPAA %s)", c.Title(), strings.Join(cites, ", "))},
			Help:                 sarifText{m.Remediation},
			HelpURI:              "https://github.com/calctl/calctl/blob/main/docs/checks.md#" + strings.ToLower(c.ID()),
			DefaultConfiguration: map[string]any{"level": level(m.Severity)},
			Properties: map[string]any{"tags": tags, "precision": "very-high", "security-severity": SecuritySeverity(m.Severity),
				"hipaa": cites, "hipaa_ids": checks.HIPAAIDs(cites)},
		})
	}
	run := sarifRun{Tool: sarifTool{Driver: d}, Results: []sarifResult{}}
	fallback := rep.Target.ComposeFile
	if fallback == "" {
		fallback = rep.Target.EnvFile
	}
	for _, r := range rep.Results {
		if r.Status != checks.Warn && r.Status != checks.Fail {
			continue
		}
		idx, ok := index[r.ID]
		if !ok {
			continue
		}
		lvl := level(r.Severity)
		if r.Status == checks.Warn && lvl == "error" {
			lvl = "warning"
		}
		sr := sarifResult{RuleID: r.ID, RuleIndex: idx, Level: lvl, Message: sarifText{r.Message},
			Properties:          map[string]any{"status": string(r.Status), "resource": r.Resource},
			PartialFingerprints: map[string]string{"calctlFinding/v1": Fingerprint(r)}}
		loc := sarifLocation{}
		switch {
		case r.Location != nil && r.Location.Path != "":
			loc.PhysicalLocation = physical(r.Location.Path, r.Location.Line, rep.Target.Dir)
		case fallback != "":
			loc.PhysicalLocation = physical(fallback, 1, rep.Target.Dir)
		}
		if r.Resource != "" && (r.Location == nil || r.Location.Path != r.Resource) {
			loc.LogicalLocations = []sarifLogical{{Name: r.Resource, Kind: "resource"}}
		}
		if loc.PhysicalLocation != nil || loc.LogicalLocations != nil {
			sr.Locations = []sarifLocation{loc}
		} else {
			sr.Locations = []sarifLocation{}
		}
		if r.Waiver != nil {
			sr.Suppressions = []sarifSuppression{{Kind: "external", Justification: waiverText(r.Waiver)}}
		}
		run.Results = append(run.Results, sr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// Fingerprint is the stable identity of a finding: its check and resource
// (never the message, which carries changing numbers), sha256 in hex.
func Fingerprint(r checks.Result) string {
	h := sha256.Sum256([]byte(r.ID + "\x00" + r.Resource))
	return hex.EncodeToString(h[:16])
}

func waiverText(w *checks.Waiver) string {
	s := w.Reason
	if w.ApprovedBy != "" {
		s += " (approved by " + w.ApprovedBy + ")"
	}
	if w.Expires != "" {
		s += " until " + w.Expires
	}
	return s
}

func physical(path string, line int, base string) *sarifPhysical {
	if line < 1 {
		line = 1
	}
	uri := filepath.ToSlash(path)
	baseID := ""
	if base != "" {
		if rel, err := filepath.Rel(base, path); err == nil && !strings.HasPrefix(rel, "..") {
			uri, baseID = filepath.ToSlash(rel), "ROOTPATH"
		}
	}
	return &sarifPhysical{ArtifactLocation: sarifArtifact{URI: uri, URIBaseID: baseID}, Region: &sarifRegion{StartLine: line}}
}

func ruleName(id string) string {
	return strings.ReplaceAll(checks.GroupNames[checks.Group(id)], " ", "") + "Check"
}
