#!/usr/bin/env bash
# Runs calctl's whole test suite, first installing what the tests need on a
# fresh Debian machine: PostgreSQL 15 server binaries (initdb, pg_ctl) and
# git's http-backend, etcd for the kube-apiserver tests. The Docker engine must already be running.
# kube-apiserver comes from ../shared/tools/k8s, $CALCTL_KUBE_APISERVER, or is built once per machine.
#
# With CALCTL_REQUIRE_SERVICES=1 (CI sets it) a missing service fails the
# tests instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
if ! [ -x /bin/busybox ]; then
  need_apt+=(busybox-static) # the stand-in Node images of TestInstallRealShapes
fi
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need_apt+=(postgresql-15)
fi
if ! [ -x "$(git --exec-path 2>/dev/null)/git-http-backend" ]; then
  need_apt+=(git)
fi
if ! command -v etcd >/dev/null 2>&1; then
  need_apt+=(etcd-server)   # the kube-apiserver tests (internal/testenv/kubeapi.go)
fi
if ! command -v node >/dev/null 2>&1; then
  need_apt+=(nodejs)
fi
# calctl check's tests: pgaudit for PG-009 on a real cluster, headless
# Chromium for the HTML evidence report, xmllint for Jenkins' JUnit schema.
if ! ls /usr/lib/postgresql/*/lib/pgaudit.so >/dev/null 2>&1; then
  need_apt+=(postgresql-15-pgaudit)
fi
if ! command -v chromium >/dev/null 2>&1; then
  need_apt+=(chromium)
fi
if ! command -v xmllint >/dev/null 2>&1; then
  need_apt+=(libxml2-utils)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
fi

if [ "${CALCTL_REQUIRE_SERVICES:-}" = "1" ]; then
  docker info >/dev/null 2>&1 || { echo "Docker engine not reachable: start it (tests need it with CALCTL_REQUIRE_SERVICES=1)" >&2; exit 1; }
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...
go test -count=1 -timeout 60m "$@" ./...
# A bounded fuzz pass over the boundaries of issue 11 (10 targets, 3 s each,
# about a minute with their builds; scripts/fuzz.sh runs them longer). A finding fails the run.
FUZZTIME=${CALCTL_FUZZTIME:-3s} ./scripts/fuzz.sh
