#!/usr/bin/env bash
# The load figures of issue 12 against examples/server, each printed next
# to its target (BENCHMARKS.md, "How to measure"). Everything runs on
# loopback; each phase gets a fresh server process.
#
#   scripts/bench.sh            # memory stores, then Redis (= all)
#   scripts/bench.sh memory     # memory stores only
#   scripts/bench.sh redis      # Redis at REDIS_URL (default redis://127.0.0.1:6379/0)
#
# Phases, per store:
#   idle     rooms of 100 over REST, then Socket.IO WebSockets joined to
#            /rooms up to 2,000, 5,000, 10,000, 18,000 sockets; at 0 and at
#            each point, once the connect events are delivered and every
#            socket has answered a heartbeat: server RSS, Go heap and
#            goroutines (pprof on DEBUG_ADDR). Figures: RSS and goroutines
#            per idle socket at 10,000 and 18,000, the memory curve.
#   connect  10,000 sockets into 100 rooms of 100, 64 in flight, timed to
#            the last CONNECT acknowledged; then broadcast latency to a
#            100-member room and to a 1,000-member room (ROOM_MAX_USERS
#            set to 1,000 for it), the 10,000 sockets still open.
#   http     wrk on GET /rooms/{code} and POST /rooms, each right after
#            wrk on the hello-world server cmd/rvhello (its own process),
#            with the access log on (LOG_LEVEL=info, to a file) and off
#            (LOG_LEVEL=warn), the rate limiter on (THROTTLE_LIMIT=10^9).
#
# The servers listen on BENCH_HOST (default 127.0.0.3) and rvload connects
# from 127.0.0.2: on a shared machine, other programs' outgoing
# connections take ephemeral ports of 127.0.0.1, which may be the ports
# wanted here (32768-60999 on Linux); other loopback addresses keep
# clear of them, and the client's own TIME-WAIT ports clear of the next
# server's.
#
# Settings (environment): BENCH_PORT (first port, default 45000; each
# server takes the next two, a taken pair is skipped),
# BENCH_POINTS (default 2000,5000,10000,18000), BENCH_PING_INTERVAL_MS
# (server heartbeat, default 10000), BENCH_WRK_DURATION (default 10s),
# BENCH_REDIS_COMMAND_TIMEOUT (REDIS_COMMAND_TIMEOUT, default 5000 ms),
# BENCH_WRK_CONNECTIONS (default 64), BENCH_CONNECT_ROOMS (rooms of 100
# in the connect phase, default 100), BENCH_BIG_ROOM (default 1000, 0 to
# skip), BENCH_REDIS_PREFIX (default rvbench:, the process id is
# appended), BENCH_PHASES (default "idle connect http").
#
# Needs wrk for the REST figures (apt-get install -y wrk; they are skipped
# without it), redis-cli to remove the Redis keys afterwards, and an
# open-files limit above the largest point (raised to the hard limit here).
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}
case $what in
memory) stores=(memory) ;;
redis) stores=(redis) ;;
all) stores=(memory redis) ;;
*)
	echo "usage: scripts/bench.sh [memory|redis|all]" >&2
	exit 2
	;;
esac
port0=${BENCH_PORT:-45000}
host=${BENCH_HOST:-127.0.0.3}
points=${BENCH_POINTS:-2000,5000,10000,18000}
ping_ms=${BENCH_PING_INTERVAL_MS:-10000}
wrk_duration=${BENCH_WRK_DURATION:-10s}
wrk_conns=${BENCH_WRK_CONNECTIONS:-64}
big=${BENCH_BIG_ROOM:-1000}
connect_rooms=${BENCH_CONNECT_ROOMS:-100}
phases=${BENCH_PHASES:-idle connect http}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/0}
prefix="${BENCH_REDIS_PREFIX:-rvbench:}$$:"

ulimit -n "$(ulimit -Hn)"
maxpoint=${points##*,}
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((maxpoint + 200)) ]; then
	echo "bench: open-files limit $(ulimit -n) is below $((maxpoint + 200)) (the largest point plus a margin); lower BENCH_POINTS" >&2
	exit 1
fi
have_wrk=1
if ! command -v wrk >/dev/null; then
	have_wrk=0
	echo "bench: wrk not found (apt-get install -y wrk): the REST figures are skipped"
fi
for s in "${stores[@]}"; do
	if [ "$s" = redis ] && ! command -v redis-cli >/dev/null; then
		echo "bench: redis-cli not found: the Redis keys under $prefix will not be removed" >&2
	fi
done

bin=$(mktemp -d)
summary=$bin/summary
: >"$summary"
pids=()
echo "building examples/server, cmd/rvload, cmd/rvhello into $bin"
go build -o "$bin/server" ./examples/server
go build -o "$bin/rvload" ./cmd/rvload
go build -o "$bin/rvhello" ./cmd/rvhello

delkeys() {
	if command -v redis-cli >/dev/null; then
		redis-cli -u "$redis_url" --scan --pattern "$prefix*" | xargs -r -n 500 redis-cli -u "$redis_url" del >/dev/null || true
	fi
}
# reap PID: stops a process this script started, waits for it and forgets
# it (so that cleanup never signals a reused pid).
reap() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=() p
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	for s in "${stores[@]}"; do
		[ "$s" = redis ] && delkeys
	done
	rm -rf "$bin"
}
trap cleanup EXIT

# start_server STORE LOGFILE VAR=VALUE...: starts examples/server on the
# next free pair of ports (public, then pprof) and sets spid and port once
# /healthz answers. Ports in the ephemeral range may be held for a moment
# by other programs' outgoing connections: a port refused is skipped.
next_port=$port0
start_server() {
	local store=$1 log=$2
	shift 2
	for _ in $(seq 20); do
		port=$next_port
		next_port=$((next_port + 2))
		local vars=(HOST="$host" PORT="$port" DEBUG_ADDR="$host:$((port + 1))"
			JWT_SECRET=bench-secret-bench-secret-bench-secret
			SOCKET_CONNECT_RATE=0 SOCKET_EVENT_RATE=-1 SOCKETIO_PING_INTERVAL_MS="$ping_ms" "$@")
		if [ "$store" = redis ]; then
			# A loaded shared Redis may answer a command in more than the
			# default 1 s, which opens the breaker (STORE_UNAVAILABLE).
			vars+=(REDIS_URL="$redis_url" REDIS_PREFIX="$prefix" REDIS_COMMAND_TIMEOUT="${BENCH_REDIS_COMMAND_TIMEOUT:-5000}")
		fi
		env "${vars[@]}" "$bin/server" 2>"$log" &
		spid=$!
		pids+=("$spid")
		for _ in $(seq 300); do
			if curl -sf "http://$host:$port/healthz" >/dev/null; then
				return 0
			fi
			if ! kill -0 "$spid" 2>/dev/null; then
				break
			fi
			sleep 0.1
		done
		reap "$spid"
		if grep -q 'address already in use' "$log"; then
			echo "bench: port $port or $((port + 1)) is taken, trying the next pair"
			continue
		fi
		echo "bench: the server did not start on port $port:" >&2
		tail -5 "$log" >&2
		exit 1
	done
	echo "bench: no free port pair from $port0" >&2
	exit 1
}
stop_server() {
	reap "$spid"
	if [ "$store" = redis ]; then delkeys; fi
}

# rvload PHASE FLAGS...: runs a phase, shows its output and keeps its
# figures for the summary.
rvload() {
	local out=$bin/rvload.out
	if ! "$bin/rvload" "$@" 2>&1 | tee "$out"; then
		echo "bench: rvload $1 failed" >&2
	fi
	sed -n "s/^FIGURE /[$store] /p" "$out" >>"$summary"
}

# ticks PID: user plus system CPU time of PID, in clock ticks.
ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# wrk_rps LABEL URL PID [LUA]: runs wrk on URL and sets rps (requests per
# second) and cpu_us (CPU time PID spent per request, in µs); warns when
# some answers were not 2xx.
wrk_rps() {
	local label=$1 url=$2 pid=$3 lua=${4:-} out=$bin/wrk.out
	local args=(-t2 -c"$wrk_conns" -d"$wrk_duration")
	[ -n "$lua" ] && args+=(-s "$lua")
	local t0 t1 hz
	hz=$(getconf CLK_TCK)
	t0=$(ticks "$pid")
	wrk "${args[@]}" "$url" >"$out" 2>&1 || true
	t1=$(ticks "$pid")
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	rps=${rps:-0}
	local n
	n=$(awk '/requests in/ {print $1}' "$out")
	cpu_us=$(awk -v a="$t0" -v b="$t1" -v n="${n:-0}" -v hz="$hz" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) * 1e6 / hz / n : 0) }')
	local bad
	bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
	printf '%-40s %8.0f req/s, server CPU %6s µs/request' "$label" "$rps" "$cpu_us"
	if [ -n "$bad" ]; then
		printf '  (%s non-2xx answers: the figure is not valid)' "$bad"
		echo "[$store] WARNING $label: $bad non-2xx answers" >>"$summary"
	fi
	if grep -q 'Socket errors' "$out"; then
		printf '  (%s)' "$(grep 'Socket errors' "$out" | sed 's/^ *//')"
	fi
	echo
}

# ratio NAME RPS HELLO TARGET_PERCENT CPU_US HELLO_CPU_US
ratio() {
	awk -v name="$1" -v r="$2" -v h="$3" -v t="$4" -v c="$5" -v hc="$6" -v s="$store" 'BEGIN {
		p = h > 0 ? 100 * r / h : 0
		printf "[%s] %s: %.0f req/s = %.1f%% of hello-world %.0f req/s (target ≥ %d%%)  %s\n", s, name, r, p, h, t, (p >= t ? "OK" : "MISSED")
		printf "[%s] %s: server CPU %s µs/request, hello-world %s µs (%.1f%% of its cost: the throughput ratio when CPU-bound, less sensitive to load)\n", s, name, c, hc, (c > 0 ? 100 * hc / c : 0)
	}' >>"$summary"
}

cat >"$bin/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"displayName":"wrk"}'
wrk.headers["Content-Type"] = "application/json"
EOF

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$summary"

for store in "${stores[@]}"; do
	echo
	echo "=== $store stores ==="
	for phase in $phases; do
		case $phase in
		idle)
			echo "--- idle sockets (points $points, heartbeat every ${ping_ms} ms) ---"
			start_server "$store" "$bin/idle.log" THROTTLE_LIMIT=0 ROOM_MAX_USERS=100 LOG_LEVEL=warn
			rvload idle -source 127.0.0.2 -url "http://$host:$port" -pid "$spid" -debug "http://$host:$((port + 1))" \
				-members 100 -points "$points" -ping-interval "${ping_ms}ms"
			stop_server
			;;
		connect)
			echo "--- connect and broadcast ---"
			maxu=100
			[ "$big" -gt 100 ] && maxu=$big
			start_server "$store" "$bin/connect.log" THROTTLE_LIMIT=0 ROOM_MAX_USERS="$maxu" LOG_LEVEL=warn
			rvload connect -source 127.0.0.2 -url "http://$host:$port" -pid "$spid" -rooms "$connect_rooms" -members 100 -parallel 64 -big "$big"
			stop_server
			;;
		http)
			if [ "$have_wrk" = 0 ]; then
				echo "[$store] REST figures: not measured, wrk is not installed (apt-get install -y wrk)" >>"$summary"
				continue
			fi
			echo "--- REST with wrk -t2 -c$wrk_conns -d$wrk_duration (rate limiter on) ---"
			for _ in $(seq 10); do
				hport=$next_port
				next_port=$((next_port + 2))
				"$bin/rvhello" -addr "$host:$hport" 2>"$bin/hello.log" &
				hpid=$!
				pids+=("$hpid")
				# rvhello says "listening" once it holds the port, or exits.
				for _ in $(seq 100); do
					grep -q listening "$bin/hello.log" && break
					kill -0 "$hpid" 2>/dev/null || break
					sleep 0.1
				done
				kill -0 "$hpid" 2>/dev/null && grep -q listening "$bin/hello.log" && break
				reap "$hpid"
			done
			for logmode in on off; do
				level=info
				[ "$logmode" = off ] && level=warn
				# The access log (one INFO line per request, examples/server
				# always enables it) goes to a file; LOG_LEVEL=warn drops the
				# line, there is no other switch for it.
				start_server "$store" "$bin/http-$logmode.log" THROTTLE_LIMIT=1000000000 THROTTLE_TTL_MS=60000 \
					ROOM_CODE_LENGTH=6 LOG_LEVEL="$level"
				code=$("$bin/rvload" room -url "http://$host:$port")
				wrk_rps "hello-world" "http://$host:$hport/" "$hpid"
				hello=$rps hello_cpu=$cpu_us
				wrk_rps "GET /rooms/{code}, access log $logmode" "http://$host:$port/rooms/$code" "$spid"
				ratio "GET /rooms/{code}, access log $logmode, rate limiter on" "$rps" "$hello" 50 "$cpu_us" "$hello_cpu"
				wrk_rps "hello-world" "http://$host:$hport/" "$hpid"
				hello=$rps hello_cpu=$cpu_us
				wrk_rps "POST /rooms, access log $logmode" "http://$host:$port/rooms" "$spid" "$bin/post.lua"
				ratio "POST /rooms, access log $logmode, rate limiter on" "$rps" "$hello" 30 "$cpu_us" "$hello_cpu"
				if [ "$logmode" = on ]; then
					echo "access log: $(grep -c '"http request"' "$bin/http-on.log" || true) lines written"
				fi
				stop_server
			done
			reap "$hpid"
			;;
		*)
			echo "bench: unknown phase $phase" >&2
			exit 2
			;;
		esac
	done
done

echo
echo "=== summary ($(date -u +%FT%TZ); CPU figures depend on the machine's load) ==="
echo "machine after: load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$summary"
cat "$summary"
