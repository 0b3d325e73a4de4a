package installer

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/secret"
	"github.com/docker/docker/client"
)

// File is one file the render step produced, relative to install_dir.
type File struct {
	Path string
	Data []byte
	Mode os.FileMode
	// Secret marks files that hold secrets: mode 0600, values masked in diffs.
	Secret bool
}

// Secrets are the secrets calctl generates once and keeps byte for byte.
type Secrets struct {
	NextAuthSecret   secret.Secret
	EncryptionKey    secret.Secret
	DatabasePassword secret.Secret
	GeneratedThisRun []string // names of secrets created by this run (never their values)
}

// Repo is what calctl learned about the cloned source tree.
type Repo struct {
	Dir        string
	Commit     string
	NodeEngine string // package.json engines.node ("" when absent)
	YarnEngine string // package.json engines.yarn
	PackageMgr string // package.json packageManager
	HasAPI     bool   // apps/api exists (resolved or flattened)
	APIDir     string // apps/api or apps/api/v1, relative to Dir
	NodeMajor  int    // the Node major the Dockerfile and pm2 use
}

// State is what steps share during one run.
type State struct {
	Answers *Answers
	Env     EnvSecrets
	// Getenv reads the environment (tests supply their own).
	Getenv func(string) string
	// DryRun makes every step report what it would do and change nothing.
	DryRun bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Stdout and Stderr receive output of commands the steps run (compose).
	Stdout, Stderr io.Writer
	// IgnorePreflight names preflight checks to downgrade to warnings.
	IgnorePreflight []string
	// FailOn is the lowest severity of an unwaived check FAIL that makes the
	// install exit non-zero ("" or "none": never); Check is what the check
	// step found.
	FailOn string
	Check  *contract.CheckSummary

	Repo    Repo
	Secrets Secrets
	Files   []File
	// Written lists the files the write step changed (paths relative to install_dir).
	Written []string
	// Backups lists the backup copies the write step made.
	Backups []string

	// Compose is the compose command preflight found (compose target).
	Compose *preflight.Compose

	docker      *client.Client
	dockerHost  string
	emit        func(Event)
	doneMessage string
}

func (s *State) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Emit sends an event attributed to the running step.
func (s *State) Emit(e Event) {
	if s.emit != nil {
		s.emit(e)
	}
}

// Progress reports progress of the running step.
func (s *State) Progress(percent int, msg string) {
	s.Emit(Event{Type: EventProgress, Percent: percent, Message: msg})
}

// Logf reports a line from the running step at level info, warn or error.
func (s *State) Logf(level, format string, a ...any) {
	s.Emit(Event{Type: EventLog, Level: level, Message: fmt.Sprintf(format, a...)})
}

// Finish sets the message the final done event carries.
func (s *State) Finish(msg string) { s.doneMessage = msg }

// Path returns p joined to install_dir.
func (s *State) Path(p string) string { return filepath.Join(s.Answers.InstallDir, p) }

func fsMode(m uint32) os.FileMode { return os.FileMode(m) }
