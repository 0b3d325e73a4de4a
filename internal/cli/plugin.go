package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/calctl/calctl/internal/shutdown"
)

// KubernetesBinary is the name of the sibling binary that holds the
// kubernetes target (cmd/calctl-kubernetes). It ships next to calctl in the
// same archive and packages, like a docker CLI plugin: calctl stays small
// and never links Helm, client-go or go-containerregistry.
const KubernetesBinary = "calctl-kubernetes"

// delegatedEnv is set in the sibling's environment when calctl hands it a
// command. A sibling that turns out to be a lean calctl itself (a copy or
// a wrong link) would hand the command back forever; the marker stops that
// with an error instead.
const delegatedEnv = "CALCTL_KUBERNETES_DELEGATED"

type argsKey struct{}

// withArgs records the command line Run was given, for a re-execution.
func withArgs(ctx context.Context, args []string) context.Context {
	return context.WithValue(ctx, argsKey{}, args)
}

// argsOf is the command line Run was given (os.Args[1:] when a command's
// run function is called directly).
func argsOf(ctx context.Context) []string {
	if a, ok := ctx.Value(argsKey{}).([]string); ok {
		return a
	}
	return os.Args[1:]
}

// findKubernetesBinary looks for calctl-kubernetes next to the running
// executable, then on $PATH. It returns the path found, or "" and the
// places it looked.
func findKubernetesBinary() (string, []string) {
	var looked []string
	if self, err := os.Executable(); err == nil {
		for _, dir := range siblingDirs(self) {
			p := filepath.Join(dir, KubernetesBinary)
			looked = append(looked, p)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
				return p, looked
			}
		}
	}
	looked = append(looked, "$PATH")
	if p, err := exec.LookPath(KubernetesBinary); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		return p, looked
	}
	return "", looked
}

// siblingDirs is the directory of the executable and, when it is reached
// through a symbolic link, the directory of the file the link points to.
func siblingDirs(self string) []string {
	dirs := []string{filepath.Dir(self)}
	if real, err := filepath.EvalSymlinks(self); err == nil && filepath.Dir(real) != dirs[0] {
		dirs = append(dirs, filepath.Dir(real))
	}
	return dirs
}

// runKubernetesSibling runs calctl-kubernetes with the same arguments,
// standard streams and environment, forwards SIGINT and SIGTERM to it and
// returns its exit code as an *ExitError (nil when it exits 0). The lean
// calctl calls it where the kubernetes target's code would run.
func runKubernetesSibling(ctx context.Context, io IO) error {
	return execKubernetes(ctx, io, argsOf(ctx), nil)
}

// execKubernetes runs calctl-kubernetes with args and the environment plus
// extraEnv (NAME=value), as runKubernetesSibling does.
func execKubernetes(ctx context.Context, io IO, args, extraEnv []string) error {
	if os.Getenv(delegatedEnv) != "" {
		self, _ := os.Executable()
		return fmt.Errorf("%s (%s) does not include the kubernetes target; reinstall calctl-kubernetes from the same calctl release", KubernetesBinary, self)
	}
	path, looked := findKubernetesBinary()
	if path == "" {
		return fmt.Errorf("the kubernetes target needs %s, which was not found (looked in %s); install it next to calctl from the same release (it ships in the calctl archive, .deb and .rpm)",
			KubernetesBinary, joinLooked(looked))
	}
	return runAttached(ctx, io, path, args, append(extraEnv, delegatedEnv+"=1"))
}

// runAttached runs path with args on calctl's own stdio (the terminal, for
// a handoff), the environment plus extraEnv, forwards SIGINT and SIGTERM to
// it (the child decides what an interrupt means: it cleans up and exits
// 130), asks it to stop when ctx ends without a signal, holds calctl's
// signal backstop (interrupt.go) until it has ended, and returns its exit
// as calctl's (siblingExit). The kubernetes sibling and the wizard's
// upgrade handoff both run through it.
func runAttached(ctx context.Context, io IO, path string, args, extraEnv []string) error {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = io.In, io.Out, io.Err
	cmd.Env = append(os.Environ(), extraEnv...)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("run %s: %w; make it executable (chmod 0755 %s)", path, err, path)
		}
		return fmt.Errorf("run %s: %w", path, err)
	}
	defer shutdown.Hold()()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctxDone := ctx.Done()
	for {
		select {
		case sig := <-sigs:
			_ = cmd.Process.Signal(sig)
		case <-ctxDone:
			ctxDone = nil
			_ = cmd.Process.Signal(os.Interrupt)
		case err := <-done:
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				return fmt.Errorf("%s: %w", filepath.Base(path), err)
			}
			return siblingExit(err)
		}
	}
}

// siblingExit turns the child's end into calctl's exit: the same code, or
// 128+signal when a signal ended it (as a shell reports it).
func siblingExit(err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("%s: %w", KubernetesBinary, err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return &ExitError{Code: 128 + int(ws.Signal())}
	}
	return &ExitError{Code: ee.ExitCode()}
}

func joinLooked(looked []string) string {
	s := ""
	for i, l := range looked {
		switch {
		case i == 0:
		case i == len(looked)-1:
			s += " and "
		default:
			s += ", "
		}
		s += l
	}
	return s
}

// newKubernetesStubCmd is, in the lean calctl, a command that exists only
// in calctl-kubernetes (such as one added through KubeHooks): it parses
// nothing itself and hands its whole command line, --help included, to the
// sibling. Register it only when Kube does not provide the real command.
func newKubernetesStubCmd(f *Factory, use, short string) *cobra.Command {
	return &cobra.Command{
		Use:                use,
		Short:              short + " (runs " + KubernetesBinary + ")",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runKubernetesSibling(cmd.Context(), f.IO)
		},
	}
}
