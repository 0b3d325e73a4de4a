package strictyaml

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/calctl/calctl/internal/redact"
	"gopkg.in/yaml.v3"
)

// Fields maps the yaml key of each field of struct type t to the field.
func Fields(t reflect.Type) map[string]reflect.StructField {
	m := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = f
	}
	return m
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// Describe says what a value of type t looks like in YAML, for messages.
func Describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct:
		return "a mapping with keys " + strings.Join(SortedKeys(Fields(t)), ", ")
	case reflect.Int:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(Describe(t.Elem()), "a ")
	default:
		return "a string"
	}
}

// SortedKeys lists the keys of a Fields map in order.
func SortedKeys(m map[string]reflect.StructField) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func nodeDesc(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", redact.URL(n.Value)) // a value is quoted: never a URL's password
}

// checkNode reports unknown keys, repeated keys and type mismatches below
// n, and records the line of every value in lines.
func checkNode(n *yaml.Node, t reflect.Type, path string, lines Lines) []Problem {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if path != "" {
		lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	p := path
	if p == "" {
		p = "(top level)"
	}
	wrong := func() []Problem {
		return []Problem{{Path: p, Line: n.Line, Message: "got " + nodeDesc(n), Expected: Describe(t)}}
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return wrong()
		}
		fields := Fields(t)
		var ps []Problem
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if first, dup := seen[k.Value]; dup {
				ps = append(ps, Problem{Path: join(path, k.Value), Line: k.Line, Message: fmt.Sprintf("given twice (first at line %d)", first),
					Expected: "each key once"})
				continue
			}
			seen[k.Value] = k.Line
			f, ok := fields[k.Value]
			if !ok {
				ps = append(ps, Problem{Path: join(path, k.Value), Line: k.Line, Message: "unknown key",
					Expected: "one of " + strings.Join(SortedKeys(fields), ", ")})
				continue
			}
			ps = append(ps, checkNode(v, f.Type, join(path, k.Value), lines)...)
		}
		return ps
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return wrong()
		}
		var ps []Problem
		for i, c := range n.Content {
			ps = append(ps, checkNode(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), lines)...)
		}
		return ps
	default:
		if n.Kind != yaml.ScalarNode {
			return wrong()
		}
		v := reflect.New(t)
		if err := n.Decode(v.Interface()); err != nil {
			return wrong()
		}
		if t.Kind() == reflect.String && n.Tag != "!!str" && n.Style == 0 && (n.Tag == "!!bool") {
			// yes/no/on/off decode as strings in yaml.v3, but true/false are
			// almost always a mistake for a string answer.
			return wrong()
		}
		return nil
	}
}
