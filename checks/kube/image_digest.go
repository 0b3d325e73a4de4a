package kube

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// ImageDigest is K8S-005: images are pinned by digest, so every node runs
// the bytes that were reviewed and a re-pushed tag cannot swap them. A
// versioned tag is a WARN (mutable but deliberate); no tag or :latest FAILs.
var ImageDigest = checks.New(checks.Meta{
	ID: "K8S-005", Title: "Images pinned by digest", Severity: checks.Medium,
	Needs:       []checks.Source{checks.SourceKube},
	Remediation: "Reference images as repo@sha256:<digest> (calctl pins the web image it builds; for postgres and calctl images set answers images.* to a digest, e.g. from `docker buildx imagetools inspect`).",
}, func(f *checks.Facts) []checks.Finding {
	ws, why := workloads(f)
	if why != nil {
		return []checks.Finding{*why}
	}
	var out []checks.Finding
	for _, w := range ws {
		var tagged, floating []string
		for _, c := range w.Pod.Containers {
			switch imageRef(c.Image) {
			case "tag":
				tagged = append(tagged, c.Name+"="+c.Image)
			case "floating":
				floating = append(floating, c.Name+"="+c.Image)
			}
		}
		switch {
		case len(floating) > 0:
			out = append(out, checks.Finding{Status: checks.Fail, Resource: w.Ref(), Message: "image without a tag or :latest: " + strings.Join(append(floating, tagged...), ", ")})
		case len(tagged) > 0:
			out = append(out, checks.Finding{Status: checks.Warn, Resource: w.Ref(), Message: "image by tag, not digest (a tag can be re-pushed): " + strings.Join(tagged, ", ")})
		default:
			out = append(out, checks.Finding{Status: checks.Pass, Resource: w.Ref(), Message: "every image pinned by digest"})
		}
	}
	return out
})

// imageRef classifies an image reference: "digest", "tag" or "floating"
// (no tag, or latest).
func imageRef(img string) string {
	if i := strings.Index(img, "@sha256:"); i > 0 && len(img)-i-len("@sha256:") == 64 {
		return "digest"
	}
	if strings.Contains(img, "@") {
		return "floating" // a malformed digest pins nothing
	}
	last := img
	if i := strings.LastIndexByte(img, '/'); i >= 0 {
		last = img[i+1:]
	}
	i := strings.LastIndexByte(last, ':')
	if i < 0 || last[i+1:] == "latest" || last[i+1:] == "" {
		return "floating"
	}
	return "tag"
}
