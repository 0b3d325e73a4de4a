package installer

import (
	"errors"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
)

const testRecipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

// TestRenderBackupSchedule: answers backup.schedule render a systemd
// service and timer running `calctl backup` with the answers' values, for
// compose and pm2; without it nothing is rendered.
func TestRenderBackupSchedule(t *testing.T) {
	for _, c := range renderCases {
		t.Run(c.name, func(t *testing.T) {
			a, env := loadCase(t, c)
			r, err := RenderFiles(a, env, c.repo(t), c.secrets(env), Existing{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Files {
				if strings.HasPrefix(f.Path, "backup/") {
					t.Errorf("%s rendered without backup.schedule", f.Path)
				}
			}
			if err := a.Set("backup.schedule", "*-*-* 03:00"); err != nil {
				t.Fatal(err)
			}
			a.Set("backup.recipient", testRecipient)
			if err := a.Finish(); err != nil {
				t.Fatal(err)
			}
			r, err = RenderFiles(a, env, c.repo(t), c.secrets(env), Existing{})
			if err != nil {
				t.Fatal(err)
			}
			svc := string(fileOf(t, r, "backup/calctl-backup.service"))
			timer := string(fileOf(t, r, "backup/calctl-backup.timer"))
			want := "ExecStart=/usr/local/bin/calctl backup --dir " + a.InstallDir + " --out " + a.InstallDir + "/backups --recipient " + testRecipient + " --retain 14\n"
			if !strings.Contains(svc, want) || !strings.Contains(svc, "UMask=0077") {
				t.Errorf("service lacks %q:\n%s", want, svc)
			}
			if !strings.Contains(timer, "OnCalendar=*-*-* 03:00\n") || !strings.Contains(timer, "Persistent=yes") {
				t.Errorf("timer:\n%s", timer)
			}
		})
	}
}

func TestBackupAnswersRefused(t *testing.T) {
	tests := []struct{ name, yaml, path string }{
		{"no recipient", "backup: {schedule: daily}", "backup.recipient"},
		{"bad recipient", "backup: {schedule: daily, recipient: age1xyz}", "backup.recipient"},
		{"no schedule", "backup: {recipient: " + testRecipient + "}", "backup.schedule"},
		{"schedule injection", "backup: {schedule: \"daily\\nExecStartPre=/bin/sh\", recipient: " + testRecipient + "}", "backup.schedule"},
		{"relative dir", "backup: {schedule: daily, recipient: " + testRecipient + ", dir: backups}", "backup.dir"},
		{"dir with a space", "backup: {schedule: daily, recipient: " + testRecipient + ", dir: /mnt/my backups}", "backup.dir"},
		{"negative retain", "backup: {schedule: daily, recipient: " + testRecipient + ", retain: -1}", "backup.retain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := contract.DecodeAnswers([]byte("public_url: https://cal.example.com\n" + tt.yaml + "\n"))
			if err == nil {
				err = a.Finish()
			}
			var ae *contract.AnswersError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("accepted or wrong path: %v", err)
			}
		})
	}
}
