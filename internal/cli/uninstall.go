package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/calctl/calctl/installer/contract"
	"github.com/spf13/cobra"
)

type uninstallOptions struct {
	IO     IO
	Getenv func(string) string
	Dir    string
	Purge  bool
	Yes    bool
	DryRun bool
}

func newUninstallCmd(f *Factory) *cobra.Command {
	opts := &uninstallOptions{IO: f.IO, Getenv: f.getenv}
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Stop and remove what calctl created; keep the database volume and backups unless --purge",
		Long: `uninstall stops the install's services and removes its containers and
networks (docker compose down), or deletes its pm2 processes. It keeps the
database volume, the install directory (configuration, secrets in .env, the
answers) and any backups in it, so the install can be brought back with
calctl install --resume. --purge (with --yes) also removes the database
volume and the install directory, backups included: that deletes the data.`,
		Example: `  calctl uninstall --dry-run
  calctl uninstall --dir /opt/calcom
  calctl uninstall --purge --yes     # deletes the database and backups`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUninstall(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", installDirUsage)
	cmd.Flags().BoolVar(&opts.Purge, "purge", false, "also remove the database volume and the install directory with its backups (needs --yes)")
	cmd.Flags().BoolVar(&opts.Yes, "yes", false, "confirm --purge")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would be stopped and removed, and change nothing")
	return cmd
}

func runUninstall(ctx context.Context, opts *uninstallOptions) error {
	if opts.Purge && !opts.Yes && !opts.DryRun {
		return usageErrorf("--purge deletes the database volume and the backups in the install directory: add --yes to confirm (or --dry-run to see what it removes)")
	}
	in, err := findInstall(ctx, opts.Getenv, opts.Dir)
	if err != nil {
		return err
	}
	a := in.Answers
	var argv [][]string
	if a.Target == contract.TargetPM2 {
		// every app of the rendered ecosystem file (calcom-web, calcom-api)
		argv = append(argv, []string{"pm2", "delete", filepath.Join(in.Dir, "ecosystem.config.js")})
	} else {
		sub := []string{"down", "--remove-orphans"}
		if opts.Purge {
			sub = append(sub, "--volumes")
		}
		argv = append(argv, in.composeArgv(opts.Getenv, sub...))
	}
	w := opts.IO.Err
	verb := "removing"
	if opts.DryRun {
		verb = "would remove"
	}
	fmt.Fprintf(w, "calctl: uninstalling the %s\n", in.say())
	for _, c := range argv {
		fmt.Fprintf(w, "  %s the services: %s\n", verb, strings.Join(c, " "))
	}
	if opts.Purge {
		fmt.Fprintf(w, "  %s the database volume and the install directory %s, backups included\n", verb, in.Dir)
	} else {
		fmt.Fprintf(w, "  keeping the database volume, %s (configuration, secrets, answers) and its backups\n", in.Dir)
	}
	if opts.DryRun {
		return nil
	}
	var errs []error
	for _, c := range argv {
		if err := in.run(ctx, opts.Getenv, opts.IO.Err, opts.IO.Err, c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("uninstall: %w; nothing else was removed", err)}
	}
	if opts.Purge {
		if filepath.Clean(in.Dir) == "/" || in.Dir == "" {
			return fmt.Errorf("refusing to remove %q", in.Dir)
		}
		if err := os.RemoveAll(in.Dir); err != nil {
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("removing %s: %w", in.Dir, err)}
		}
		fmt.Fprintf(w, "calctl: removed the services, the database volume and %s\n", in.Dir)
		return nil
	}
	fmt.Fprintf(w, "calctl: services removed; kept the database volume and %s. Bring it back: calctl install --resume --install-dir %s\n", in.Dir, in.Dir)
	return nil
}
