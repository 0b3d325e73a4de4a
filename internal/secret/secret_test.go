package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const v = "tok_ABCDEF123456"
	s := Secret(v)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "token", s)
	j, err := json.Marshal(struct{ T Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	txt, _ := s.MarshalText()
	outs := []string{fmt.Sprint(s), fmt.Sprintf("%v %s %+v %#v", s, s, s, s), string(j), buf.String(), string(txt)}
	for _, o := range outs {
		if strings.Contains(o, v) {
			t.Errorf("secret leaked in %q", o)
		}
		if !strings.Contains(o, Mask) {
			t.Errorf("mask missing in %q", o)
		}
	}
	if s.Reveal() != v {
		t.Fatalf("Reveal = %q", s.Reveal())
	}
	if Secret("").String() != "" || !Secret("").IsZero() {
		t.Fatal("empty secret should print empty")
	}
}
