package installer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/calctl/calctl/installer/preflight"
)

// InspectRepo reads what calctl needs from a Cal.com checkout: the Node and
// yarn engines of package.json and whether the API app is present. A missing
// directory is not an error: Repo.Dir is left empty and defaults apply.
func InspectRepo(dir string) (Repo, error) {
	r := Repo{NodeMajor: preflight.DefaultNodeMajor}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r, nil
	case err != nil:
		return r, fmt.Errorf("read package.json: %w", err)
	}
	r.Dir = dir
	var pkg struct {
		Engines        map[string]string `json:"engines"`
		PackageManager string            `json:"packageManager"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return r, fmt.Errorf("%s/package.json: %w", dir, err)
	}
	r.NodeEngine = pkg.Engines["node"]
	r.YarnEngine = pkg.Engines["yarn"]
	r.PackageMgr = pkg.PackageManager
	major, err := preflight.NodeMajorFor(r.NodeEngine)
	if err != nil {
		return r, WithRemedy(err, "set images.node (compose) or pm2.node (pm2) to a Node that satisfies engines.node")
	}
	r.NodeMajor = major
	// API v1 lived in apps/api until it moved to apps/api/v1 (with v2 beside it).
	for _, d := range []string{"apps/api/v1", "apps/api"} {
		if st, err := os.Stat(filepath.Join(dir, d, "package.json")); err == nil && !st.IsDir() {
			r.HasAPI, r.APIDir = true, d
			break
		}
	}
	return r, nil
}
