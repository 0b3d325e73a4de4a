package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/installer/home"
)

// InstallDirEnv names the install every command aims at when its
// directory flag is not given.
const InstallDirEnv = "CALCTL_INSTALL_DIR"

// installDirUsage is the help of every --dir that names the install.
const installDirUsage = "the Cal.com install directory (default: $" + InstallDirEnv + ", else the install in the current directory, else the one recorded for this host)"

// installAt is the install a command aims at, and why that one.
type installAt struct {
	// Dir is the install directory, absolute.
	Dir string
	// Why is how it was found: the flag ("--dir"), "$CALCTL_INSTALL_DIR",
	// "the current directory" or "recorded in FILE".
	Why string
	// Given is true when the user named it (the flag or the environment);
	// then the command need not say which install it took.
	Given bool
}

// announce says on w which install a command took when the user did not
// name it: "calctl: no --dir given: using the install in DIR (why)".
func (in installAt) announce(w io.Writer, flag string) {
	if !in.Given && w != nil {
		fmt.Fprintf(w, "calctl: no %s given: using the install in %s (%s)\n", flagName(flag), in.Dir, in.Why)
	}
}

// flagName is "--dir" of "--dir DIR".
func flagName(flag string) string {
	name, _, _ := strings.Cut(flag, " ")
	return name
}

// locateInstall is calctl's one way to find the install a command aims
// at: the command's flag (flag is how it is typed, "--dir DIR",
// "--install-dir DIR" or report's "--config FILE"; value is what was
// given), else $CALCTL_INSTALL_DIR, else the current directory when it
// holds an install (cwdHoldsInstall), else the newest install recorded for
// this host (installer/home) that keep accepts (home.IsInstall when keep is
// nil; install --resume also takes a directory whose run kept its answers
// before creating it). A named directory is taken as given; the command
// says what it lacks.
//
// When there is none the error (exit ExitFailure) says what was looked at
// and what to do: the flag, cd into the install, or CALCTL_INSTALL_DIR.
func locateInstall(getenv func(string) string, flag, value string, keep func(dir string) bool) (installAt, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	in := installAt{Dir: value, Why: flagName(flag), Given: true}
	if value == "" {
		in.Dir, in.Why = getenv(InstallDirEnv), "$"+InstallDirEnv
	}
	if in.Dir != "" {
		abs, err := filepath.Abs(in.Dir)
		if err != nil {
			return installAt{}, err
		}
		in.Dir = abs
		return in, nil
	}
	cwd, _ := os.Getwd()
	if cwd != "" && cwdHoldsInstall(cwd) {
		return installAt{Dir: cwd, Why: "the current directory"}, nil
	}
	fd, n, ok, err := home.Recorded(getenv, keep)
	if ok {
		return installAt{Dir: fd.Dir, Why: fd.Why}, nil
	}
	return installAt{}, &ExitError{Code: ExitFailure, Err: noInstallError(getenv, flag, cwd, n, err)}
}

// noInstallError is the one message for "no install found": each place
// looked at, then what to do.
func noInstallError(getenv func(string) string, flag, cwd string, recorded int, listErr error) error {
	if cwd == "" {
		cwd = "(unknown)"
	}
	list := home.InstallsFile(getenv)
	var rec string
	switch {
	case listErr != nil:
		rec = fmt.Sprintf("the list of installs on this host does not read (%v)", listErr)
	case recorded == 0:
		rec = "no install is recorded for this host in " + list
	default:
		rec = fmt.Sprintf("none of the %d installs recorded in %s still holds one", recorded, list)
	}
	return fmt.Errorf("no Cal.com install found: no %s given, $%s is not set, the current directory %s holds none (no %s, .env, docker-compose.yml or ecosystem.config.js), and %s; pass %s, cd into the install, or set %s=DIR",
		flagName(flag), InstallDirEnv, cwd, home.AnswersFile, rec, flag, InstallDirEnv)
}

// cwdHoldsInstall reports whether dir holds an install, or what check can
// audit of one: saved answers (home.IsInstall) or any config file calctl
// reads (collect.InstallFiles: .env, a compose or pm2 file).
func cwdHoldsInstall(dir string) bool {
	return home.IsInstall(dir) || dirHasInstall(dir)
}

func dirHasInstall(dir string) bool {
	for _, n := range collect.InstallFiles {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// around puts a command's own words before and after locateInstall's
// error (an *ExitError), keeping its exit code.
func around(err error, before, after string) error {
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err != nil {
		return &ExitError{Code: ee.Code, Err: fmt.Errorf("%s%w%s", before, ee.Err, after)}
	}
	return fmt.Errorf("%s%w%s", before, err, after)
}
