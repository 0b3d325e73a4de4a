package gitsource

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

// TestCloneOverSSH clones through a real SSH server with --ssh-key; the
// host key is verified against known_hosts (SSH_KNOWN_HOSTS).
func TestCloneOverSSH(t *testing.T) {
	srv := testenv.StartGitServer(t) // only its Root is used, as the SSH server's repository root
	sshd := testenv.StartGitSSHServer(t, srv.Root)
	ui := testenv.NewWorkRepo(t).Write(map[string]string{"package.json": "{}\n"})
	uiPinned := ui.Commit("ui")
	ui.Publish(srv, "calcom/ui.git")
	p := testenv.NewWorkRepo(t).Write(map[string]string{"README.md": "x\n", ".gitmodules": "[submodule \"packages/ui\"]\n\tpath = packages/ui\n\turl = ../ui.git\n"})
	p.AddGitlink("packages/ui", uiPinned)
	p.Commit("p")
	p.Publish(srv, "calcom/cal.com.git")

	t.Setenv("SSH_KNOWN_HOSTS", sshd.KnownHosts)
	t.Setenv("SSH_AUTH_SOCK", "")
	dir := filepath.Join(t.TempDir(), "cal")
	res, err := Clone(context.Background(), Options{URL: sshd.RepoURL("calcom/cal.com.git"), Dir: dir, SSHKeyPath: sshd.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	ui0 := subByPath(t, res, "packages/ui")
	if ui0.Action != ActionResolved || ui0.URL != sshd.RepoURL("calcom/ui.git") {
		t.Fatalf("packages/ui = %+v", ui0)
	}
	if got := testenv.Git(t, filepath.Join(dir, "packages/ui"), "rev-parse", "HEAD"); got != uiPinned {
		t.Fatalf("packages/ui at %s", got)
	}

	// An unknown host key is refused.
	t.Setenv("SSH_KNOWN_HOSTS", filepath.Join(t.TempDir(), "empty"))
	_, err = Clone(context.Background(), Options{URL: sshd.RepoURL("calcom/cal.com.git"), Dir: filepath.Join(t.TempDir(), "cal"), SSHKeyPath: sshd.KeyFile})
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "known") {
		t.Fatalf("err = %v, want a host key verification error", err)
	}
}
