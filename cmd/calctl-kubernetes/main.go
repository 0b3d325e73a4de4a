// Command calctl-kubernetes is calctl with the kubernetes target built in
// (Helm, client-go, go-containerregistry). Every command and flag is the
// same as calctl's; the lean calctl re-executes it when a command needs
// kubernetes, so it ships next to calctl (internal/cli/plugin.go).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/calctl/calctl/internal/cli"
	_ "github.com/calctl/calctl/internal/kubecli" // fills cli.Kube
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
