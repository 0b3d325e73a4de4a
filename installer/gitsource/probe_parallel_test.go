package gitsource

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/testenv"
)

// TestUnresponsiveHostsProbedInParallel: submodules on hosts that accept a
// connection and never answer are probed at the same time, each bounded by
// the probe timeout, not one after another (issue 11, Low). The silent
// host counts how many probes it holds at once.
func TestUnresponsiveHostsProbedInParallel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	open, most := 0, 0
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			open++
			most = max(most, open)
			mu.Unlock()
			go func() { // read and never answer, until the client gives up
				buf := make([]byte, 1024)
				for {
					if _, err := c.Read(buf); err != nil {
						break
					}
				}
				mu.Lock()
				open--
				mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	old := probeTimeout
	probeTimeout = 3 * time.Second
	t.Cleanup(func() { probeTimeout = old })

	srv := testenv.StartGitServer(t)
	silent := "http://" + ln.Addr().String()
	p := testenv.NewWorkRepo(t).Write(map[string]string{"README.md": "x\n"})
	gitmodules := ""
	const n = 4
	for i := 0; i < n; i++ {
		path := "apps/silent" + strconv.Itoa(i)
		gitmodules += "[submodule \"" + path + "\"]\n\tpath = " + path + "\n\turl = " + silent + "/r" + strconv.Itoa(i) + ".git\n"
		p.AddGitlink(path, "0123456789012345678901234567890123456789")
	}
	p.Write(map[string]string{".gitmodules": gitmodules})
	p.Commit("silent submodules")
	url := p.Publish(srv, "silent.git")
	res, err := Clone(context.Background(), Options{URL: url, Dir: filepath.Join(t.TempDir(), "cal")})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Submodules {
		if s.Action != ActionSkipped || s.Reason != "timed out" {
			t.Errorf("%s: %s (%s), want skipped: timed out", s.Path, s.Action, s.Reason)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if most != n {
		t.Errorf("the silent host held at most %d probes at once, want all %d (probed one after another?)", most, n)
	}
}
