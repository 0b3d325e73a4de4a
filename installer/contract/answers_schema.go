package contract

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// This file walks a YAML node tree against the Answers struct so that an
// unknown key or a wrong type is reported with its full key path and line,
// which yaml.v3's own errors do not carry.

func typeOf(v any) reflect.Type { return reflect.TypeOf(v).Elem() }

// yamlFields maps the yaml key of each field of struct type t to the field.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
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

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct:
		return "a mapping with keys " + strings.Join(sortedKeys(yamlFields(t)), ", ")
	case reflect.Int:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(kindName(t.Elem()), "a ")
	default:
		return "a string"
	}
}

func sortedKeys(m map[string]reflect.StructField) []string {
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
	return fmt.Sprintf("%q", n.Value)
}

// checkNode reports unknown keys and type mismatches below n.
func checkNode(n *yaml.Node, t reflect.Type, path string) []Problem {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	p := path
	if p == "" {
		p = "(top level)"
	}
	wrong := func() []Problem {
		return []Problem{{Path: p, Line: n.Line, Message: "got " + nodeDesc(n), Expected: kindName(t)}}
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return wrong()
		}
		fields := yamlFields(t)
		var ps []Problem
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				ps = append(ps, Problem{Path: join(path, k.Value), Line: k.Line, Message: "unknown key",
					Expected: "one of " + strings.Join(sortedKeys(fields), ", ")})
				continue
			}
			ps = append(ps, checkNode(v, f.Type, join(path, k.Value))...)
		}
		return ps
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return wrong()
		}
		var ps []Problem
		for i, c := range n.Content {
			ps = append(ps, checkNode(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
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

// setPath assigns value to the field at the dotted key path of a.
func setPath(a *Answers, path, value string) error {
	v := reflect.ValueOf(a).Elem()
	parts := strings.Split(path, ".")
	for i, part := range parts {
		fields := yamlFields(v.Type())
		f, ok := fields[part]
		if !ok {
			return &AnswersError{Source: "flags", Problems: []Problem{{Path: strings.Join(parts[:i+1], "."), Message: "unknown key",
				Expected: "one of " + strings.Join(sortedKeys(fields), ", ")}}}
		}
		v = v.FieldByIndex(f.Index)
		if i < len(parts)-1 && v.Kind() != reflect.Struct {
			return &AnswersError{Source: "flags", Problems: []Problem{{Path: strings.Join(parts[:i+1], "."), Message: "has no sub-keys"}}}
		}
	}
	bad := func() error {
		return &AnswersError{Source: "flags", Problems: []Problem{{Path: path, Message: fmt.Sprintf("got %q", value), Expected: kindName(v.Type())}}}
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(value)
	case reflect.Int:
		n, err := strconv.Atoi(value)
		if err != nil {
			return bad()
		}
		v.SetInt(int64(n))
	case reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return bad()
		}
		v.SetBool(b)
	case reflect.Slice:
		var items []string
		if value != "" {
			items = strings.Split(value, ",")
		}
		v.Set(reflect.ValueOf(items))
	default:
		return bad()
	}
	return nil
}
