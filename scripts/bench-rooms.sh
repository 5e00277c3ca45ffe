#!/usr/bin/env bash
# Rooms load figures of BENCHMARKS.md: idle Socket.IO WebSocket connections
# joined to /rooms (server RSS per connection), broadcast latency to a
# 100-member room, and GET /rooms/{code} throughput with wrk while the
# connections stay open. Everything runs on loopback.
#
#   scripts/bench-rooms.sh            # memory stores
#   scripts/bench-rooms.sh redis      # Redis at REDIS_URL (default redis://127.0.0.1:6379/0)
#
# Needs wrk (apt-get install wrk) and an open-files limit of at least
# 10,100 per process.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-memory}
rooms=${ROOMS:-100}
members=${MEMBERS:-100}
port=${PORT:-3999}
ulimit -n "$(ulimit -Hn)"

bin=$(mktemp -d)
go build -o "$bin/server" ./examples/server
go build -o "$bin/rvload" ./cmd/rvload

prefix="rvbench:$$:"
env_vars=(PORT="$port" THROTTLE_LIMIT=0 ROOM_MAX_USERS="$members" SOCKET_EVENT_RATE=-1 SOCKET_CONNECT_RATE=0 LOG_LEVEL=error
	JWT_SECRET=bench-secret-bench-secret-bench-secret)
if [ "$mode" = redis ]; then
	env_vars+=(REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}" REDIS_PREFIX="$prefix")
fi
env "${env_vars[@]}" "$bin/server" &
pid=$!
cleanup() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ "$mode" = redis ] && command -v redis-cli >/dev/null; then
		redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379/0}" --scan --pattern "$prefix*" | xargs -r redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379/0}" del >/dev/null
	fi
	rm -rf "$bin"
}
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "localhost:$port/healthz" >/dev/null && break; sleep 0.1; done

out="$bin/rvload.out"
"$bin/rvload" -url "http://127.0.0.1:$port" -pid "$pid" -rooms "$rooms" -members "$members" -broadcasts 200 -hold 25s >"$out" 2>&1 &
lpid=$!
for _ in $(seq 600); do grep -q holding "$out" && break; sleep 0.5; done
code=$(awk '/room code for wrk/ {print $NF}' "$out")
wrk -t2 -c64 -d15s "http://127.0.0.1:$port/rooms/$code" >"$bin/wrk.out" 2>&1 || true
wait "$lpid"
cat "$out" "$bin/wrk.out"
