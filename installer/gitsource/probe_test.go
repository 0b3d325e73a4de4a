package gitsource

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/secret"
)

func TestProbe(t *testing.T) {
	fx := newMonorepo(t)
	api := fx.srv.RepoURL("calcom/api.git")
	tests := []struct {
		name, token, url string
		want             string // "" = reachable
	}{
		{"public parent", "", fx.parentURL, ""},
		{"private api with token", apiToken, api, ""},
		{"private api without token", "", api, "request API access"},
		{"private website with our token", apiToken, fx.srv.RepoURL("calcom/website.git"), "not needed for self-hosting"},
		{"missing", "", fx.srv.RepoURL("calcom/nope.git"), "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Probe(context.Background(), Options{URL: fx.parentURL, Token: secret.Secret(tt.token)}, tt.url)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrRemote mentioning %q", err, tt.want)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Fatal("token in error")
			}
		})
	}
}
