package contract

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/strictyaml"
)

// setPath assigns value to the field at the dotted key path of a.
func setPath(a *Answers, path, value string) error {
	v := reflect.ValueOf(a).Elem()
	parts := strings.Split(path, ".")
	for i, part := range parts {
		fields := strictyaml.Fields(v.Type())
		f, ok := fields[part]
		if !ok {
			return &AnswersError{Source: "flags", Problems: []Problem{{Path: strings.Join(parts[:i+1], "."), Message: "unknown key",
				Expected: "one of " + strings.Join(strictyaml.SortedKeys(fields), ", ")}}}
		}
		v = v.FieldByIndex(f.Index)
		if i < len(parts)-1 && v.Kind() != reflect.Struct {
			return &AnswersError{Source: "flags", Problems: []Problem{{Path: strings.Join(parts[:i+1], "."), Message: "has no sub-keys"}}}
		}
	}
	bad := func() error {
		return &AnswersError{Source: "flags", Problems: []Problem{{Path: path, Message: fmt.Sprintf("got %q", redact.URL(value)), Expected: strictyaml.Describe(v.Type())}}}
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
