// Package templates holds calctl's embedded configuration templates
// (docker-compose, Dockerfile, .env, pm2, Caddy, systemd, agent) and the one
// function that renders them.
//
// Templates live under files/ and are addressed by their path below it,
// e.g. "compose/docker-compose.yml.tmpl". They use text/template with
// missingkey=error, so a template that names a value the caller did not
// supply fails loudly instead of rendering "<no value>".
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"text/template"
)

//go:embed all:files
var files embed.FS

// FS returns the embedded template tree (rooted at files/).
func FS() fs.FS {
	sub, err := fs.Sub(files, "files")
	if err != nil {
		panic(err) // the embed directive guarantees files/ exists
	}
	return sub
}

// funcs are the helpers available to every template.
var funcs = template.FuncMap{
	"quote": func(s string) string { return fmt.Sprintf("%q", s) },
	"join":  strings.Join,
	// jsstr renders s as a JavaScript (JSON) string literal, quotes included.
	"jsstr": func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	},
	// sh renders s as one single-quoted POSIX shell word.
	"sh": func(s string) string {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	},
	// systemd renders s as one double-quoted word of a unit file's
	// ExecStart= (systemd.service "Command lines": \ and " escaped; % is
	// a specifier and $ a variable, both doubled).
	"systemd": func(s string) string {
		if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-:@+=,") == "" {
			return s
		}
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%", "$", "$$")
		return `"` + r.Replace(s) + `"`
	},
	"indent": func(n int, s string) string {
		pad := strings.Repeat(" ", n)
		return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
	},
}

// Render executes the template name (a path below files/) with data.
func Render(name string, data any) ([]byte, error) {
	src, err := fs.ReadFile(FS(), name)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return buf.Bytes(), nil
}
