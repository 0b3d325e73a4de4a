package collect

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/template"
	"gopkg.in/yaml.v3"

	"github.com/calctl/calctl/internal/safefile"
)

// maxComposeRefs bounds how many files one compose project may reference
// (extends/include/env_file/label_file, transitively) before calctl stops
// following them.
const maxComposeRefs = 64

// vetComposeRefs checks, before compose-go reads them, every file a compose
// file makes Compose read: `extends: file:`, `include:` (its files, its
// env_file and the .env of its project directory), `env_file:` and
// `label_file:`, following extended and included compose files. compose-go
// opens them with os.ReadFile/os.Open, so a FIFO among them would block
// check forever (issue 11 item 6; compose-go v2 loader/extends.go,
// loader/include.go, types/project.go loadEnvFile). Each must be a regular
// file within its cap; a missing one is left to compose-go to report.
// Paths are interpolated from env the way Compose does (${VAR}).
func vetComposeRefs(path string, data []byte, env map[string]string) error {
	v := &refVetter{env: env, seen: map[string]bool{}}
	return v.file(path, data, 0)
}

type refVetter struct {
	env  map[string]string
	seen map[string]bool
}

func (v *refVetter) file(path string, data []byte, depth int) error {
	if depth > 8 {
		return fmt.Errorf("%s: extends/include nested more than 8 deep", path)
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil // compose-go reports the syntax error
	}
	dir := filepath.Dir(path)
	root := deref(doc.Content[0])
	if inc := mapGet(root, "include"); inc != nil {
		for _, it := range deref(inc).Content {
			it = deref(it)
			paths, envFiles, projDir := []*yaml.Node{it}, []*yaml.Node(nil), dir
			if it.Kind == yaml.MappingNode {
				paths, envFiles = stringsOf(mapGet(it, "path")), stringsOf(mapGet(it, "env_file"))
				if pd := deref(mapGet(it, "project_directory")); pd != nil && pd.Kind == yaml.ScalarNode {
					projDir = v.abs(dir, pd.Value)
				}
			}
			for i, p := range paths {
				inc := v.abs(dir, p.Value)
				if i == 0 && mapGet(it, "project_directory") == nil {
					projDir = filepath.Dir(inc)
				}
				if err := v.compose(inc, depth); err != nil {
					return err
				}
			}
			if len(envFiles) == 0 {
				if err := v.plain(filepath.Join(projDir, ".env"), maxEnvFile); err != nil {
					return err
				}
			}
			for _, e := range envFiles {
				if err := v.plain(v.abs(dir, e.Value), maxEnvFile); err != nil {
					return err
				}
			}
		}
	}
	svcs := deref(mapGet(root, "services"))
	if svcs == nil || svcs.Kind != yaml.MappingNode {
		return nil
	}
	for i := 1; i < len(svcs.Content); i += 2 {
		svc := deref(svcs.Content[i])
		for _, key := range []string{"env_file", "label_file"} {
			for _, e := range stringsOf(mapGetMergedValue(svc, key)) {
				if err := v.plain(v.abs(dir, e.Value), maxEnvFile); err != nil {
					return err
				}
			}
		}
		if ext := deref(mapGetMergedValue(svc, "extends")); ext != nil && ext.Kind == yaml.MappingNode {
			if f := deref(mapGet(ext, "file")); f != nil && f.Kind == yaml.ScalarNode {
				if err := v.compose(v.abs(dir, f.Value), depth); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// compose vets a referenced compose file and what it references in turn.
func (v *refVetter) compose(path string, depth int) error {
	if v.seen[path] {
		return nil
	}
	if err := v.count(path); err != nil {
		return err
	}
	b, err := safefile.ReadFile(path, maxComposeFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("compose file reference: %w", err)
	}
	return v.file(path, b, depth+1)
}

// plain vets a referenced env or label file.
func (v *refVetter) plain(path string, max int64) error {
	if v.seen[path] {
		return nil
	}
	if err := v.count(path); err != nil {
		return err
	}
	f, st, err := safefile.Open(path, safefile.Options{})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("compose file reference: %w", err)
	}
	f.Close()
	if st.Size() > max {
		return fmt.Errorf("compose file reference: %w", safefile.TooLarge(path, st.Size(), max))
	}
	return nil
}

func (v *refVetter) count(path string) error {
	v.seen[path] = true
	if len(v.seen) > maxComposeRefs {
		return fmt.Errorf("compose file references more than %d files", maxComposeRefs)
	}
	return nil
}

// abs resolves a reference as Compose does: interpolated, then relative to
// the referencing file's directory.
func (v *refVetter) abs(dir, p string) string {
	if strings.Contains(p, "$") {
		if s, err := template.Substitute(p, func(k string) (string, bool) { x, ok := v.env[k]; return x, ok }); err == nil {
			p = s
		}
	}
	if strings.HasPrefix(p, "~/") {
		return p // compose-go expands ~ with the user's home; vetted by its own read
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p)
}

// stringsOf returns the scalar nodes of a string, a list of strings or a
// list of {path: ...} mappings.
func stringsOf(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return []*yaml.Node{n}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, it := range n.Content {
			it = deref(it)
			if it.Kind == yaml.MappingNode {
				it = deref(mapGet(it, "path"))
			}
			if it != nil && it.Kind == yaml.ScalarNode {
				out = append(out, it)
			}
		}
		return out
	}
	return nil
}

// mapGetMergedValue is mapGetMerged's value: a key given directly or
// through `<<:` merge keys.
func mapGetMergedValue(n *yaml.Node, key string) *yaml.Node {
	_, v := mapGetMerged(n, key, 0)
	return v
}
