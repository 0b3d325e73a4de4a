// Command sleeper is a tiny static server for DK tests: it accepts TCP
// connections on :5432 and sleeps until SIGTERM. With -health it exits 0
// (used as the container healthcheck). If the image holds /log.txt it is
// printed to stdout first.
package main

import (
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	for _, a := range os.Args[1:] {
		if a == "-health" {
			os.Exit(0)
		}
	}
	// With /log.txt in the image, print it (bundle tests plant secrets there).
	if b, err := os.ReadFile("/log.txt"); err == nil {
		os.Stdout.Write(b)
		os.Stdout.Sync()
	}
	if ln, err := net.Listen("tcp", ":5432"); err == nil {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
}
