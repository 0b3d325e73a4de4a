#!/usr/bin/env bash
# Benchmarks `calctl backup` and `calctl backup verify` against the plain
# baseline `pg_dump -Fc | age -r KEY` (and `age -d | pg_restore` for verify),
# in the same run, on a throwaway local PostgreSQL cluster holding generated
# data (see README.md here). Prints wall time and peak RSS (GNU time %M) of
# each, and the ratios.
# Usage: bench/backup/run.sh            Env: CALCTL_BENCH_MB="64 256" (database sizes, MB)
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES=${CALCTL_BENCH_MB:-64}
work=$(mktemp -d /tmp/calctl-bench-backup.XXXXXX)
chmod 0755 "$work"
PGBIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/calctl" ./cmd/calctl
go build -o "$work/agepipe" ./bench/backup/agepipe
mkdir -p "$work/data" "$work/sock" && chown postgres "$work/data" "$work/sock" 2>/dev/null || true
as_pg "$PGBIN/initdb" -D "$work/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$PGBIN/pg_ctl" -D "$work/data" -l "$work/data/log" -w -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$work/sock -c fsync=off" start >/dev/null
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGOPTIONS="-c client_min_messages=warning"
mkdir -p "$work/install"
printf 'DATABASE_URL=postgresql://postgres@127.0.0.1:%s/bench?sslmode=disable\nNEXTAUTH_SECRET=bench-nextauth\nCALENDSO_ENCRYPTION_KEY=0123456789abcdef0123456789abcdef\n' "$PORT" > "$work/install/.env"
REC=$("$work/calctl" backup keygen --out "$work/key.txt" 2>/dev/null)

measure() { # label, command...; prints "seconds maxrss_kb"
  local out="$work/time.$1"; shift
  /usr/bin/time -f "%e %M" -o "$out" "$@" >/dev/null 2>"$out.err" || { cat "$out.err" >&2; return 1; }
  cat "$out"
}

printf '%-8s %-28s %9s %11s\n' "db MB" "what" "seconds" "peak RSS MB"
read -r _ idle < <(measure idle "$work/calctl" version)
printf '%-8s %-28s %9s %11s\n' "-" "calctl version (idle)" "-" "$((idle/1024))"
for MB in $SIZES; do
  "$PGBIN/psql" -v ON_ERROR_STOP=1 -q -d postgres -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench"
  # ~1 KB rows of hex text (compresses about 2:1 in -Fc, like a text-heavy table)
  "$PGBIN/psql" -v ON_ERROR_STOP=1 -q -d bench -c "CREATE TABLE \"Booking\" (id serial PRIMARY KEY, uid text, responses text)" \
    -c "INSERT INTO \"Booking\"(uid, responses) SELECT md5(g::text), (SELECT string_agg(md5(random()::text || g || i), '') FROM generate_series(1, 32) i) FROM generate_series(1, $MB * 900) g" \
    -c "VACUUM ANALYZE"
  SIZE=$("$PGBIN/psql" -At -d bench -c "SELECT pg_database_size('bench')/1048576")
  rm -f "$work"/out/* 2>/dev/null; mkdir -p "$work/out"
  read -r bt bm < <(measure base bash -c "'$PGBIN/pg_dump' -Fc -d bench | /usr/bin/time -f '%M' -o '$work/age.rss' '$work/agepipe' -r $REC > '$work/base.age'")
  agerss=$(cat "$work/age.rss")
  read -r ct cm < <(measure calctl "$work/calctl" backup --dir "$work/install" --out "$work/out" --recipient "$REC")
  FILE=$(ls "$work"/out/*.age)
  "$PGBIN/psql" -v ON_ERROR_STOP=1 -q -d postgres -c "DROP DATABASE IF EXISTS restored" -c "CREATE DATABASE restored"
  read -r vbt vbm < <(measure vbase bash -c "'$work/agepipe' -d '$work/key.txt' < '$work/base.age' | '$PGBIN/pg_restore' -d restored")
  read -r vt vm < <(measure verify "$work/calctl" backup verify "$FILE" --identity "$work/key.txt" --scratch local)
  printf '%-8s %-28s %9s %11s\n' "$SIZE" "pg_dump -Fc | age" "$bt" "$((bm/1024)) (age $((agerss/1024)))"
  printf '%-8s %-28s %9s %11s\n' "$SIZE" "calctl backup" "$ct" "$((cm/1024))"
  printf '%-8s %-28s %9s %11s\n' "$SIZE" "age -d | pg_restore" "$vbt" "$((vbm/1024))"
  printf '%-8s %-28s %9s %11s\n' "$SIZE" "calctl backup verify" "$vt" "$((vm/1024))"
  awk -v a="$ct" -v b="$bt" -v c="$vt" -v d="$vbt" 'BEGIN { printf "         ratios: backup %.2fx, verify %.2fx (verify also initdb + hash pass + counts)\n", a/b, c/d }'
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
