// Command calctl installs, checks and reports on self-hosted Cal.com deployments.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/calctl/calctl/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
