#!/bin/sh
# wizard-captures.sh regenerates the screen captures in docs/wizard.md from
# the real calctl binary: the wizard's tmux end-to-end tests write each
# screen they snap to $CALCTL_WIZARD_CAPTURES/NAME.txt (tmux capture-pane),
# and every block of docs/wizard.md marked <!-- capture: NAME --> gets the
# text of NAME.txt. A marked block without its capture fails the script
# (the doc would show a screen no test drew).
#
#   scripts/wizard-captures.sh            # run the tests, rewrite the doc
#   scripts/wizard-captures.sh DIR        # rewrite the doc from DIR's captures
set -eu
cd "$(dirname "$0")/.."
doc=docs/wizard.md
if [ $# -ge 1 ]; then
	dir=$1
else
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
	CALCTL_WIZARD_CAPTURES=$dir nice -n 10 go test ./internal/cli -count=1 \
		-run '^(TestInstallWizardInTmux|TestInstallWizardAccessibleInTmux|TestInstallWizardSizesInTmux|TestWizardKubernetesInTmux|TestWizardKubernetesAccessibleInTmux|TestInstallWizardUpgradeInTmux|TestInstallWizardUpgradeAccessibleInTmux)$'
fi
awk -v dir="$dir" '
	function fail(msg) { print "wizard-captures: " msg > "/dev/stderr"; bad = 1; exit 1 }
	skipping && /^```$/ { skipping = 0; print; next }
	skipping { next }
	{ print }
	match($0, /^<!-- capture: [^ ]+ -->$/) {
		name = substr($0, 15, length($0) - 18)
		file = dir "/" name ".txt"
		if ((getline fence) <= 0 || fence != "```text") fail(name ": the marker is not followed by a ```text block")
		print fence
		n = 0
		while ((getline line < file) > 0) text[++n] = line
		if (n == 0) fail(name ": no capture " file)
		close(file)
		while (n > 0 && text[n] ~ /^[ \t]*$/) n--   # the blank rows under a short screen
		for (i = 1; i <= n; i++) print text[i]
		skipping = 1
	}
	END { if (skipping && !bad) fail("a capture block is not closed") }
' "$doc" > "$doc.new"
mv "$doc.new" "$doc"
echo "wizard-captures: $doc rewritten from $dir"
