package collect

import (
	"os"
	"path/filepath"
	"testing"
)

// The pm2 install rotates its logs with the system's logrotate
// (installer: logrotate/calcom-pm2 in /etc/logrotate.d), not the
// pm2-logrotate module: CF-010 accepts a rule naming the logs' directory.
func TestSystemLogrotate(t *testing.T) {
	dir := t.TempDir()
	logs := []string{"/opt/calcom/logs/web.out.log", "/opt/calcom/logs/web.err.log"}
	if systemLogrotate(dir, logs) {
		t.Error("empty logrotate.d rotates the logs")
	}
	os.WriteFile(filepath.Join(dir, "other"), []byte("/var/log/other/*.log {\n\tdaily\n}\n"), 0o644)
	if systemLogrotate(dir, logs) {
		t.Error("a rule for other logs rotates these")
	}
	os.WriteFile(filepath.Join(dir, "calcom-pm2"), []byte("\"/opt/calcom/logs/*.log\" {\n\tdaily\n\trotate 14\n}\n"), 0o644)
	if !systemLogrotate(dir, logs) {
		t.Error("calctl's rule is not recognised")
	}
	if systemLogrotate(dir, append(logs, "/srv/elsewhere/api.out.log")) {
		t.Error("a log outside every rule counted as rotated")
	}
	if systemLogrotate(dir, nil) {
		t.Error("no logs: nothing to say rotated")
	}
}
