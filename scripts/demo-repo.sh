#!/usr/bin/env bash
# Creates a small local stand-in for the Cal.com monorepo under DIR (default
# /tmp/calctl-demo), for trying `calctl clone` without network access:
#   DIR/cal.com.git       the parent, with .gitmodules like Cal.com's of 2022
#   DIR/ui.git            a reachable submodule (relative URL ../ui.git)
#   (DIR/website.git is declared but absent: it stands for a private repo)
set -euo pipefail
dir=${1:-/tmp/calctl-demo}
rm -rf "$dir"
mkdir -p "$dir"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git init -q -b main "$work/ui"
echo '{"name":"@calcom/ui"}' > "$work/ui/package.json"
git -C "$work/ui" add -A && git -C "$work/ui" commit -qm "ui"
git clone -q --bare "$work/ui" "$dir/ui.git"
ui=$(git -C "$work/ui" rev-parse HEAD)

git init -q -b main "$work/cal"
mkdir -p "$work/cal/apps/web"
echo '{"name":"calcom-monorepo","engines":{"node":">=18.x"}}' > "$work/cal/package.json"
echo '{"name":"@calcom/web"}' > "$work/cal/apps/web/package.json"
printf '# Cal.com (calctl demo)\n' > "$work/cal/README.md"
cat > "$work/cal/.gitmodules" <<GM
[submodule "packages/ui"]
	path = packages/ui
	url = ../ui.git
[submodule "apps/website"]
	path = apps/website
	url = ../website.git
GM
git -C "$work/cal" add -A
git -C "$work/cal" update-index --add --cacheinfo "160000,$ui,packages/ui"
git -C "$work/cal" update-index --add --cacheinfo "160000,$(printf '%040d' 1),apps/website"
git -C "$work/cal" commit -qm "Cal.com demo monorepo"
git clone -q --bare "$work/cal" "$dir/cal.com.git"
echo "demo repository: $dir/cal.com.git"
