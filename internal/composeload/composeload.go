// Package composeload is calctl's one door to compose-go's loader: it loads
// a Compose project the way `docker compose` does and turns a panic inside
// compose-go into an error, so a hostile or merely odd compose file can
// never crash calctl.
//
// compose-go v2.16.2 panics on some inputs it should refuse: CI's bounded
// fuzz pass found one in loader/normalize.go:97 (`n.(string)` on a namespace
// key such as network_mode that held no string), and a fuzz of the loader
// alone found a document of only `!reset` (a nil dereference in yaml v4's
// constructor under loader/reset.go:64). Both are seeds in
// checks/collect/testdata/fuzz/FuzzParseCompose.
package composeload

import (
	"context"
	"fmt"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// Load calls loader.LoadWithContext with details and options and returns
// its project, or an error when compose-go refuses the file or panics on it.
func Load(ctx context.Context, details types.ConfigDetails, options ...func(*loader.Options)) (p *types.Project, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("compose-go cannot load it (%v); check the file with `docker compose config`", r)
		}
	}()
	return loader.LoadWithContext(ctx, details, options...)
}
