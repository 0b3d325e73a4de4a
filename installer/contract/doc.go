// Package contract holds the types the install engine (package installer)
// and its faces (the wizard in installer/tui, the text and JSON-lines views
// of internal/cli) agree on: the Answers that describe an install and their
// validation, the Events a run emits (with a typed preflight Finding), the
// errors a step returns with a remedy, and the names of the plan's steps.
//
// It is a leaf: it imports the standard library, yaml.v3 and calctl's small
// leaf packages, never docker, pgx, go-git or compose-go, so the wizard can
// depend on it without linking the engine (installer/tui's TestDeps guards
// that).
package contract
