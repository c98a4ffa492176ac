#!/usr/bin/env bash
# bench/run.sh — lmx performance benchmarks (what `make bench` runs).
#
#   bench/run.sh [all|serve|ingest|edge|record|size|profile|scale|ondemand|failover]...
#
#   serve   cached 2 MiB segment and live playlist from `lmx controld`
#           (GOMAXPROCS=1) vs nginx (1 worker, sendfile), wrk -t2 -c64; the
#           playlist also vs nginx configured for small files
#   ingest  edge push -> listed in the control node's live playlist, latency
#   edge    lmx-edge RSS and CPU while forwarding a real 4 Mbit/s ffmpeg stream
#   record  recording throughput and persist latency: 2 MiB segments pushed
#           through a real edge into a recording, persisted to a local MinIO
#           (s3://) and to the default file:// store
#   size    lmx-edge binary sizes (arm64, armv7, amd64) and lmx (amd64)
#   profile perf CPU profiles of controld and nginx under the serve loads
#           (not in "all")
#   scale   SCALE_SOURCES live 4 Mbit/s sources (ffmpeg-encoded once, replayed
#           at real time as ffmpeg's HLS muxer pushes them) through
#           SCALE_EDGES real lmx-edge processes to one control node, and
#           SCALE_PLAYERS simulated players following them: errors, missed
#           segments, the control node's memory, CPU per 100 viewers, a CPU
#           profile in the middle; SCALE_STEPS runs several shorter loads
#           instead (not in "all")
#   ondemand an on-demand source pushed by real ffmpeg (640x360, 2 Mbit/s)
#           through a real edge: bytes uploaded while nobody watches for
#           ONDEMAND_QUIET, scaled to an hour, and the time from the first
#           playlist request to a playable playlist over ONDEMAND_WAKES
#           wake-ups (ONDEMAND_IDLE between them)
#   failover a source fed by two real edges, each with its own ffmpeg (2 s
#           segments): FAILOVER_SWITCHES (12) times the active one is killed
#           (SIGKILL, edge and ffmpeg) at another phase of its segment and
#           brought back: the missed segment's due time to the new feed's
#           first segment listed, and what a player polling every 100 ms
#           waited past a segment's length (e2e TestFailoverBenchmark)
#
# Everything listens on 127.0.0.1 only, on free ports picked at start. Every
# process started here is stopped on exit, failure or Ctrl-C. Raw outputs
# and the results table go to bench/out/ (override with BENCH_OUT).
#
# Knobs (environment): WRK_DURATION (15s), WRK_WARMUP (2s), WRK_CONNS (64),
# WRK_THREADS (2), NOISE_PCT (10: a wrk run, or a store's recording runs,
# during which other processes used more CPU than that, in % of one CPU, is
# repeated), WRK_RETRIES (2, for both),
# INGEST_N (150), INGEST_PACE (200ms), INGEST_POLL (0 = tight loop),
# EDGE_SECONDS (60), EDGE_ENV (extra NAME=value for lmx-edge, e.g. GOGC=25),
# RECORD_N (300), RECORD_WINDOW (8), RECORD_PACED_N (40), RECORD_PACE (419ms:
# 10x real time for 2 MiB at 4 Mbit/s; 0 skips the paced run),
# RECORD_STORES ("s3 file"), MINIO (the minio binary; default: on PATH,
# else $(go env GOPATH)/bin/minio; scripts/test-deps.sh installs it),
# SERVER_CPU (0), CLIENT_CPU (1),
# SCALE_SOURCES (100), SCALE_EDGES (4), SCALE_PLAYERS (1000), SCALE_DURATION
# (5m, the measured period), SCALE_WARMUP (30s, after the players start),
# SCALE_RAMP (10s, over which the players start), SCALE_STEPS (e.g. "25 50 75
# 100": one run per number of sources instead, SCALE_PLAYERS_PER_SOURCE (10)
# players each, measured for SCALE_STEP_DURATION (60s)), SCALE_CONTROLD_ARGS
# (extra controld flags, e.g. "--cache-size 2GiB"; the cache size is
# controld's default otherwise), SCALE_SEGMENTS (10 pre-encoded segments),
# SCALE_MEDIA (where they are cached; default bench/out/scale-media),
# SCALE_PROFILE (30: seconds of CPU profile; 0 skips it), SCALE_CONTROLD_ENV
# and SCALE_EDGE_ENV (extra NAME=value for controld or the edges, e.g.
# GODEBUG=gctrace=1), and
# LMX_SRC: the lmx source tree whose binaries are measured (default: this
# checkout; e.g. a `git archive` of a commit when the work tree is mid-edit).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=$(cd "${LMX_SRC:-$ROOT}" && pwd)
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	SRC_DESC="$SRC @ $(git -C "$SRC" describe --always --dirty 2>/dev/null)"
elif [ -f "$SRC/.commit" ]; then
	SRC_DESC="$SRC @ $(cut -c1-12 "$SRC/.commit")"
else
	SRC_DESC=$SRC
fi
OUT=${BENCH_OUT:-$ROOT/bench/out}
WRK_DURATION=${WRK_DURATION:-15s}
WRK_WARMUP=${WRK_WARMUP:-2s}
WRK_CONNS=${WRK_CONNS:-64}
WRK_THREADS=${WRK_THREADS:-2}
INGEST_N=${INGEST_N:-150}
INGEST_PACE=${INGEST_PACE:-200ms}
INGEST_POLL=${INGEST_POLL:-0}
EDGE_SECONDS=${EDGE_SECONDS:-60}
EDGE_ENV=${EDGE_ENV:-}
RECORD_N=${RECORD_N:-300}
RECORD_WINDOW=${RECORD_WINDOW:-8}
RECORD_PACED_N=${RECORD_PACED_N:-40}
RECORD_PACE=${RECORD_PACE:-419ms}
RECORD_STORES=${RECORD_STORES:-s3 file}
NOISE_PCT=${NOISE_PCT:-10}
WRK_RETRIES=${WRK_RETRIES:-2}
SERVER_CPU=${SERVER_CPU:-0}
SERVE_RUNS=${SERVE_RUNS:-3}
CLIENT_CPU=${CLIENT_CPU:-1}
SCALE_SOURCES=${SCALE_SOURCES:-100}
SCALE_EDGES=${SCALE_EDGES:-4}
SCALE_PLAYERS=${SCALE_PLAYERS:-1000}
SCALE_DURATION=${SCALE_DURATION:-5m}
SCALE_WARMUP=${SCALE_WARMUP:-30s}
SCALE_RAMP=${SCALE_RAMP:-10s}
SCALE_STEPS=${SCALE_STEPS:-}
SCALE_PLAYERS_PER_SOURCE=${SCALE_PLAYERS_PER_SOURCE:-10}
SCALE_STEP_DURATION=${SCALE_STEP_DURATION:-60s}
SCALE_CONTROLD_ARGS=${SCALE_CONTROLD_ARGS:-}
SCALE_SEGMENTS=${SCALE_SEGMENTS:-10}
SCALE_PROFILE=${SCALE_PROFILE:-30}
SCALE_CONTROLD_ENV=${SCALE_CONTROLD_ENV:-}
SCALE_EDGE_ENV=${SCALE_EDGE_ENV:-}
ONDEMAND_QUIET=${ONDEMAND_QUIET:-3m}
ONDEMAND_WAKES=${ONDEMAND_WAKES:-20}
ONDEMAND_IDLE=${ONDEMAND_IDLE:-3s}

WORK=$(mktemp -d /tmp/lmx-bench.XXXXXX)
chmod 755 "$WORK"
BIN=$WORK/bin
RESULTS=$OUT/results.md
PIDS=()

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# stop_pid PID: TERM, wait up to 5 s, then KILL. Only processes we started.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

stop_all() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[$i]}"
	done
	PIDS=()
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_all
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'exit 143' TERM

# Pinning: server on SERVER_CPU, load generator on CLIENT_CPU, when there
# are at least two CPUs and taskset exists.
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	PIN_SERVER=(taskset -c "$SERVER_CPU")
	PIN_CLIENT=(taskset -c "$CLIENT_CPU")
	PINNING="server on cpu $SERVER_CPU, client on cpu $CLIENT_CPU (taskset)"
else
	PIN_SERVER=()
	PIN_CLIENT=()
	PINNING="no pinning"
fi

USED_PORTS=" "
# Ports are picked below the kernel's ephemeral range, which outgoing
# connections (thousands in the scale runs, more from other work on the
# machine) take their local ports from.
PORT_HI=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true)
[ "${PORT_HI:-0}" -gt 21000 ] || PORT_HI=60000
# freeport VAR: sets VAR to a loopback TCP port nothing listens on and that
# was not handed out before (not in a subshell, so USED_PORTS sticks).
freeport() {
	local p
	while :; do
		p=$((20000 + RANDOM % (PORT_HI - 20000)))
		case $USED_PORTS in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED_PORTS+="$p "
			printf -v "$1" '%s' "$p"
			return
		fi
	done
}

# wait_http URL [PID [LOG]]: until URL answers 2xx (20 s at most), or
# until PID, the process that should answer, has died.
wait_http() {
	local url=$1 pid=${2:-} logf=${3:-} i
	for i in $(seq 400); do
		curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			[ -z "$logf" ] || tail -n 20 "$logf" >&2
			die "the process that should answer $url (pid $pid) exited"
		fi
		sleep 0.05
	done
	die "$url did not answer within 20 s"
}

# started PID LOG URL...: like wait_http for each URL, except that when PID
# exits because a port it was given was taken meanwhile (other work on the
# machine can bind it between freeport and the server's own bind), it
# returns 1 so that the caller tries other ports.
started() {
	local pid=$1 logf=$2 url i
	shift 2
	for url in "$@"; do
		for i in $(seq 400); do
			curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && continue 2
			if ! kill -0 "$pid" 2>/dev/null; then
				if grep -q 'address already in use' "$logf"; then
					log "$(grep -m1 'address already in use' "$logf"): trying other ports"
					return 1
				fi
				tail -n 20 "$logf" >&2
				die "the process that should answer $url (pid $pid) exited"
			fi
			sleep 0.05
		done
		die "$url did not answer within 20 s"
	done
}

require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || die "$c is needed (apt-get install $c)"
	done
}

row() { # row PART MEASURE VALUE TARGET VERDICT
	printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" >>"$RESULTS"
}

# verdict VALUE OP LIMIT -> met/MISSED (OP is ge or le)
verdict() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == "ge") ? (v + 0 >= l + 0) : (v + 0 <= l + 0); print ok ? "met" : "**MISSED**" }'
}

build() {
	[ -x "$BIN/lmx" ] && return 0
	require go
	mkdir -p "$BIN"
	log "building lmx and lmx-edge from $SRC_DESC, and bench/lmxbench"
	(cd "$SRC" && go build -o "$BIN/lmx" ./cmd/lmx && go build -o "$BIN/lmx-edge" ./cmd/lmx-edge)
	(cd "$ROOT" && go build -o "$BIN/lmxbench" ./bench/lmxbench)
}

# start_controld NAME [PREFIX...]: a control node on free ports, in WORK/NAME,
# with --cache-size CONTROLD_CACHE (none when empty: controld's default) and
# the arguments in CONTROLD_ARGS (an array, empty by default) added.
# Access control is off (--auth none) unless BENCH_AUTH=on: the benchmarks
# measure the media path. With BENCH_AUTH=on (serve only) the edge joins
# with a token from `lmx edge add`, and wrk plays signed URLs (nginx gets
# the same URLs and serves the same, signed, playlist bytes).
# Sets API, VOD, MQTT and CONTROLD_PID.
CONTROLD_ARGS=()
BENCH_AUTH=${BENCH_AUTH:-none}
CONTROLD_CACHE=256MiB
start_controld() {
	local name=$1 try
	shift
	mkdir -p "$WORK/$name-data"
	for try in 1 2 3; do
		freeport API
		freeport VOD
		freeport MQTT
		"$@" "$BIN/lmx" controld --data-dir "$WORK/$name-data" \
			--api-listen "127.0.0.1:$API" --vod-listen "127.0.0.1:$VOD" --mqtt-listen "127.0.0.1:$MQTT" \
			${CONTROLD_CACHE:+--cache-size "$CONTROLD_CACHE"} --auth "$BENCH_AUTH" --log-level warn "${CONTROLD_ARGS[@]}" >"$OUT/$name-controld.log" 2>&1 &
		CONTROLD_PID=$!
		CONTROLD_DATA=$WORK/$name-data
		PIDS+=("$CONTROLD_PID")
		started "$CONTROLD_PID" "$OUT/$name-controld.log" "http://127.0.0.1:$VOD/healthz" "http://127.0.0.1:$API/healthz" && return 0
	done
	die "controld ($name) found no free ports in $try tries"
}

# start_edge NAME SEGDIR [PREFIX...]: an edge linked to the last control node.
# Sets EDGE and EDGE_PID.
start_edge() {
	local name=$1 segdir=$2 try
	shift 2
	mkdir -p "$segdir"
	for try in 1 2 3; do
		freeport EDGE
		local join=()
		if [ "$BENCH_AUTH" = on ]; then
			# As an operator would: lmx edge add on the control node's
			# machine (it finds the node and its token in the data dir).
			join=(--join "$(LMX_DATA_DIR=$CONTROLD_DATA "$BIN/lmx" edge add "$name" --host 127.0.0.1 --json |
				sed -n 's/.*"join_token": *"\([^"]*\)".*/\1/p')" --state-dir "$WORK/$name-state")
		fi
		"$@" "$BIN/lmx-edge" --name "$name" --listen "127.0.0.1:$EDGE" \
			--mqtt "mqtt://127.0.0.1:$MQTT" --ingest "http://127.0.0.1:$VOD" "${join[@]}" \
			--allow-dir "$segdir" --log-level warn >"$OUT/$name-edge.log" 2>&1 &
		EDGE_PID=$!
		PIDS+=("$EDGE_PID")
		started "$EDGE_PID" "$OUT/$name-edge.log" "http://127.0.0.1:$EDGE/healthz" && return 0
	done
	die "edge $name found no free port in $try tries"
}

# kv FILE KEY: value of KEY=value in FILE.
kv() { sed -n "s/^$2=//p" "$1" | tail -n1; }

# run_wrk LABEL URL PID...: warm-up, then the measured run, under
# `lmxbench load`, which accounts the CPU of the server PIDs, of wrk and of
# everything else on the machine. A run during which other processes used
# more than NOISE_PCT % of a CPU is repeated (up to WRK_RETRIES times).
# Sets RPS, MBPS, OTHER, SRVCPU.
run_wrk() {
	local label=$1 url=$2 f=$OUT/serve-wrk-$1.txt try
	shift 2
	local pids
	pids=$(IFS=,; echo "$*")
	"${PIN_CLIENT[@]}" wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_WARMUP" "$url" >/dev/null
	for try in $(seq 0 "$WRK_RETRIES"); do
		{
			echo "\$ ${PIN_CLIENT[*]} wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION --latency $url"
			"$BIN/lmxbench" load -pids "$pids" -out "$f.cpu" -- \
				"${PIN_CLIENT[@]}" wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DURATION" --latency "$url"
			echo "# CPU accounting (% of one CPU) by lmxbench load:"
			cat "$f.cpu"
		} >"$f" || true
		grep -q '^Requests/sec' "$f" || die "$label: wrk did not finish (see $f)"
		OTHER=$(kv "$f" OTHER_CPU_PCT)
		SRVCPU=$(kv "$f" SERVER_CPU_PCT)
		awk -v o="$OTHER" -v l="$NOISE_PCT" 'BEGIN { exit !(o > l) }' || break
		[ "$try" = "$WRK_RETRIES" ] || log "$label: other processes used $OTHER % of a CPU during the run; repeating it"
		cp "$f" "$f.noisy-$try"
	done
	RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
	# wrk's Transfer/sec (headers included) is in 1024-based units; as MB/s (10^6).
	MBPS=$(awk '/^Transfer\/sec:/ {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v)
		m = (u == "GB") ? 1073741824 : (u == "MB") ? 1048576 : (u == "KB") ? 1024 : 1
		printf "%.1f", v * m / 1e6 }' "$f")
	local non2xx
	non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$f")
	non2xx=${non2xx:-0}
	log "$label: $RPS req/s, $MBPS MB/s; server CPU $SRVCPU %, other processes $OTHER % of a CPU; non-2xx: $non2xx"
	[ "$non2xx" = 0 ] || die "$label: $non2xx answers were not 2xx (see $f)"
}

# start_nginx ROOT PATH [small]: nginx (1 worker, sendfile, tcp_nopush, no
# access log) serving ROOT on a free port, pinned like the control node, with
# the headers the control node sends; waits until PATH answers. With "small",
# playlists are served the way that suits small files best here: from
# open_file_cache (no open/fstat/close per request) and without sendfile (one
# writev of headers and body). Sets NGINX_PORT, NGINX_PID (the master) and
# NGINX_WORKER.
start_nginx() {
	local www=$1 path=$2 small=${3:-} ng=${4:-$WORK/nginx} nginx_bin m3u8_extra=""
	[ -z "$small" ] || m3u8_extra="open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s; sendfile off;"
	nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$nginx_bin" ] || die "nginx is needed (apt-get install nginx-light)"
	freeport NGINX_PORT
	rm -rf "$ng"
	mkdir -p "$ng/tmp" "$ng/logs"
	chmod -R a+rX "$www"
	cat >"$ng/nginx.conf" <<EOF
worker_processes 1;
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    client_body_temp_path $ng/tmp/body;
    proxy_temp_path $ng/tmp/proxy;
    fastcgi_temp_path $ng/tmp/fastcgi;
    uwsgi_temp_path $ng/tmp/uwsgi;
    scgi_temp_path $ng/tmp/scgi;
    types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $www;
        # The same headers the control node sends.
        location ~ \.ts\$ {
            add_header Cache-Control "public, max-age=31536000, immutable";
            add_header Access-Control-Allow-Origin "*";
            add_header Access-Control-Expose-Headers "Content-Length, Content-Range";
        }
        location ~ \.m3u8\$ {
            $m3u8_extra
            add_header Cache-Control "max-age=3";
            add_header Access-Control-Allow-Origin "*";
            add_header Access-Control-Expose-Headers "Content-Length, Content-Range";
        }
    }
}
EOF
	cp "$ng/nginx.conf" "$OUT/serve-nginx${small:+-$small}.conf"
	"${PIN_SERVER[@]}" "$nginx_bin" -p "$ng" -c "$ng/nginx.conf" -g 'daemon off;' >"$OUT/serve-nginx.log" 2>&1 &
	NGINX_PID=$!
	PIDS+=("$NGINX_PID")
	wait_http "http://127.0.0.1:$NGINX_PORT$path" "$NGINX_PID" "$OUT/serve-nginx.log"
	NGINX_WORKER=$(awk '{ print $1 }' "/proc/$NGINX_PID/task/$NGINX_PID/children" 2>/dev/null || true)
}


# ---------------------------------------------------------------------------

bench_serve() {
	require wrk curl
	build
	log "serve: control node (GOMAXPROCS=1) and nginx (1 worker, sendfile) side by side, $PINNING, $SERVE_RUNS rounds"
	local segdir=$WORK/serve-seg www=$WORK/www
	start_controld serve env GOMAXPROCS=1 "${PIN_SERVER[@]}"
	local cpid=$CONTROLD_PID cvod=$VOD
	start_edge bench-edge "$segdir" "${PIN_CLIENT[@]}"
	if [ "$BENCH_AUTH" = on ]; then
		LMX_TOKEN=$(cat "$CONTROLD_DATA/admin.token")
		export LMX_TOKEN
	fi
	"$BIN/lmxbench" seed -edge "http://127.0.0.1:$EDGE" -api "http://127.0.0.1:$API" -vod "http://127.0.0.1:$VOD" \
		-dir "$segdir" -source bench-serve -www "$www" >"$OUT/serve-seed.txt"
	local seg_path pl_path seg_bytes pl_bytes
	seg_path=$(kv "$OUT/serve-seed.txt" SEG_PATH)
	pl_path=$(kv "$OUT/serve-seed.txt" PL_PATH)
	seg_bytes=$(kv "$OUT/serve-seed.txt" SEG_BYTES)
	pl_bytes=$(kv "$OUT/serve-seed.txt" PL_BYTES)
	if [ "$BENCH_AUTH" = on ]; then
		# Players with a signed URL, as `lmx source url` prints it; nginx
		# serves the same bytes (the signed playlist) and ignores the query.
		local signed q
		signed=$(LMX_DATA_DIR=$CONTROLD_DATA "$BIN/lmx" source url bench-serve --ttl 24h 2>/dev/null)
		q=${signed#*\?}
		[ -n "$q" ] && [ "$q" != "$signed" ] || die "no signed URL for bench-serve"
		seg_path="$seg_path?$q"
		pl_path="$pl_path?$q"
		unset LMX_TOKEN
		curl -sS -o "$www/v1/vod/live/bench-serve/vid.m3u8" "http://127.0.0.1:$cvod$pl_path" || die "the signed playlist"
		pl_bytes=$(stat -c %s "$www/v1/vod/live/bench-serve/vid.m3u8")
	fi
	log "serve: live $seg_path ($seg_bytes bytes), playlist $pl_bytes bytes"
	# The edge is not needed any more: only the servers stay, on the same core.
	stop_pid "$EDGE_PID"
	start_nginx "$www" "$pl_path"
	local nport=$NGINX_PORT npid=$NGINX_PID
	start_nginx "$www" "$pl_path" small "$WORK/nginx-small"
	local sport=$NGINX_PORT spid=$NGINX_PID
	curl -sS -D - -o /dev/null "http://127.0.0.1:$cvod$seg_path" >"$OUT/serve-headers-controld.txt"
	curl -sS -D - -o /dev/null "http://127.0.0.1:$cvod$pl_path" >>"$OUT/serve-headers-controld.txt"
	curl -sS -D - -o /dev/null "http://127.0.0.1:$nport$seg_path" >"$OUT/serve-headers-nginx.txt"
	curl -sS -D - -o /dev/null "http://127.0.0.1:$nport$pl_path" >>"$OUT/serve-headers-nginx.txt"
	cmp -s <(curl -s "http://127.0.0.1:$nport$seg_path") "$www${seg_path%%\?*}" || die "nginx serves other bytes"
	cmp -s <(curl -s "http://127.0.0.1:$cvod$seg_path") "$www${seg_path%%\?*}" || die "the control node serves other bytes"

	# One line per round and kind: RPS MBPS SERVER_CPU for each server.
	local r f=$OUT/serve-rounds.txt
	: >"$f"
	for r in $(seq "$SERVE_RUNS"); do
		run_wrk "controld-segment-$r" "http://127.0.0.1:$cvod$seg_path" "$cpid"
		local c="$RPS $MBPS $SRVCPU $OTHER"
		run_wrk "nginx-segment-$r" "http://127.0.0.1:$nport$seg_path" "$npid"
		echo "segment $r $c $RPS $MBPS $SRVCPU $OTHER" >>"$f"
		run_wrk "controld-playlist-$r" "http://127.0.0.1:$cvod$pl_path" "$cpid"
		c="$RPS $MBPS $SRVCPU $OTHER"
		run_wrk "nginx-playlist-$r" "http://127.0.0.1:$nport$pl_path" "$npid"
		echo "playlist $r $c $RPS $MBPS $SRVCPU $OTHER" >>"$f"
		run_wrk "nginx-small-playlist-$r" "http://127.0.0.1:$sport$pl_path" "$spid"
		echo "playlist-small $r $c $RPS $MBPS $SRVCPU $OTHER" >>"$f"
	done
	# The segment must still be held at the end (never left the live window).
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$cvod$seg_path")" = 200 ] ||
		die "segment left the live window during the run"
	stop_all

	# Per round: req/s ratio, and server CPU per request (µs) and per GB
	# served (ms of CPU), each side; the table shows every round, then the
	# worst and the best ratio.
	local kind label
	for kind in segment playlist playlist-small; do
		case $kind in
		segment) label="serve: ${seg_bytes} B live segment" ;;
		playlist) label="serve: ${pl_bytes} B live playlist" ;;
		playlist-small) label="serve: ${pl_bytes} B live playlist vs nginx small-file config" ;;
		esac
		awk -v k="$kind" '$1 == k {
			# controld: rps mbps cpu other | nginx: rps mbps cpu other
			cr = $3; cm = $4; cc = $5; co = $6; nr = $7; nm = $8; nc = $9; no = $10
			printf "%s %.0f %.1f %.1f %.0f %.1f %.1f %.3f %.2f %.2f %.1f %.1f %.3f %.1f %.1f\n", $2, cr, cm, cc, nr, nm, nc, cr / nr,
				cc * 1e4 / cr, nc * 1e4 / nr, cc * 1e4 / cm, nc * 1e4 / nm, (cc * 1e4 / cm) / (nc * 1e4 / nm), co, no }' "$f" >"$f.$kind"
		local line
		while read -r line; do
			set -- $line
			row "$label" "round $1: controld · nginx req/s (server CPU %)" "$2 ($4 %) · $5 ($7 %)" "" ""
			row "$label" "round $1: req/s ratio; CPU/request µs controld · nginx; CPU/GB ms controld · nginx (ratio); other procs %" \
				"$8x; $9 · ${10}; ${11} · ${12} (${13}x); ${14} · ${15}" "" ""
		done <"$f.$kind"
		local worst best cworst cbest
		worst=$(awk 'NR == 1 || $8 < m { m = $8 } END { print m }' "$f.$kind")
		best=$(awk 'NR == 1 || $8 > m { m = $8 } END { print m }' "$f.$kind")
		cworst=$(awk 'NR == 1 || $13 > m { m = $13 } END { print m }' "$f.$kind")
		cbest=$(awk 'NR == 1 || $13 < m { m = $13 } END { print m }' "$f.$kind")
		case $kind in
		segment)
			row "$label" "req/s ratio controld/nginx, worst · best of $SERVE_RUNS" "${worst}x · ${best}x" "≥ 1.0x" "$(verdict "$worst" ge 1.0)"
			row "$label" "CPU per GB ratio controld/nginx, worst · best" "${cworst}x · ${cbest}x" "≤ 1.5x" "$(verdict "$cworst" le 1.5)"
			;;
		playlist)
			row "$label" "req/s ratio controld/nginx, worst · best of $SERVE_RUNS" "${worst}x · ${best}x" "≥ 1.2x" "$(verdict "$worst" ge 1.2)"
			;;
		*)
			row "$label" "req/s ratio controld/nginx, worst · best of $SERVE_RUNS" "${worst}x · ${best}x" "" ""
			;;
		esac
	done
}

# profile_one NAME PID URL: perf record PID for 10 s under wrk on URL, and
# write OUT/profile-NAME.txt (kernel/user split, flat and cumulative
# symbols, and selected frames' cumulative share).
profile_one() {
	local name=$1 pid=$2 url=$3 data=$WORK/perf-$1.data f=$OUT/profile-$1.txt wpid
	"${PIN_CLIENT[@]}" wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d14s "$url" >"$OUT/profile-wrk-$name.txt" &
	wpid=$!
	PIDS+=("$wpid")
	sleep 2
	perf record -F 999 -g -p "$pid" -o "$data" -- sleep 10 >"$OUT/profile-perf-$name.log" 2>&1
	wait "$wpid" || true
	{
		echo "# perf record -F 999 -g -p PID($name) for 10 s under wrk -t$WRK_THREADS -c$WRK_CONNS -d14s $url"
		grep '^Requests/sec' "$OUT/profile-wrk-$name.txt"
		echo "## self by binary (kernel vs user space)"
		perf report -i "$data" --stdio --no-children --sort dso -g none 2>/dev/null | grep '%'
		echo "## flat (self) by symbol"
		perf report -i "$data" --stdio --no-children --sort symbol -g none --percent-limit 0.7 2>/dev/null | grep '%'
		echo "## cumulative (children) by symbol"
		perf report -i "$data" --stdio --children --sort symbol -g none --percent-limit 3 2>/dev/null | grep '%'
		echo "## cumulative % of samples, selected frames"
		perf script -i "$data" -F ip,sym 2>/dev/null | awk '
			BEGIN { RS = ""; FS = "\n" }
			{ n++; delete seen
			  for (i = 1; i <= NF; i++) { s = $i; sub(/^[ \t]*[0-9a-f]+ /, "", s); if (!(s in seen)) { seen[s] = 1; c[s]++ } } }
			END { for (s in c) printf "%6.2f%%  %s\n", 100 * c[s] / n, s }' | sort -rn |
			grep -E 'lmx-video|coocood|prometheus|net/http\.\(\*conn\)\.readRequest|chunkWriter\)\.writeHeader|ServeMux\)\.(ServeHTTP|findHandler)|Header\.Set$|SetReadDeadline|syscall\.(read|write)$|runtime\.mallocgc$|findRunnable|gcBgMarkWorker$|runtime\.memmove$|finishRequest|time\.Now$|normalizeHeaderKey|__x64_sys_(setsockopt|openat|writev|sendfile64|close|recvfrom|write|read|newfstatat|fstat)$|ngx_' | head -50
	} >"$f"
	log "profile: $name ($(awk '/^Requests/ { print $2 }' "$OUT/profile-wrk-$name.txt") req/s under perf) -> $f"
}

# profile: perf CPU profiles of controld (GOMAXPROCS=1) and of nginx's
# worker under the serve loads, and of the small-file nginx under the
# playlist load (not part of "all").
bench_profile() {
	require wrk curl perf
	build
	local segdir=$WORK/prof-seg www=$WORK/prof-www seg pl
	start_controld prof env GOMAXPROCS=1 "${PIN_SERVER[@]}"
	start_edge prof-edge "$segdir" "${PIN_CLIENT[@]}"
	"$BIN/lmxbench" seed -edge "http://127.0.0.1:$EDGE" -api "http://127.0.0.1:$API" -vod "http://127.0.0.1:$VOD" \
		-dir "$segdir" -source bench-serve -www "$www" >"$OUT/profile-seed.txt"
	seg=$(kv "$OUT/profile-seed.txt" SEG_PATH)
	pl=$(kv "$OUT/profile-seed.txt" PL_PATH)
	profile_one controld-segment "$CONTROLD_PID" "http://127.0.0.1:$VOD$seg"
	profile_one controld-playlist "$CONTROLD_PID" "http://127.0.0.1:$VOD$pl"
	stop_all
	start_nginx "$www" "$pl"
	[ -n "$NGINX_WORKER" ] || die "no nginx worker process found"
	profile_one nginx-segment "$NGINX_WORKER" "http://127.0.0.1:$NGINX_PORT$seg"
	profile_one nginx-playlist "$NGINX_WORKER" "http://127.0.0.1:$NGINX_PORT$pl"
	stop_all
	start_nginx "$www" "$pl" small
	[ -n "$NGINX_WORKER" ] || die "no nginx worker process found"
	profile_one nginx-small-playlist "$NGINX_WORKER" "http://127.0.0.1:$NGINX_PORT$pl"
	stop_all
}

bench_ingest() {
	require curl
	build
	log "ingest: $INGEST_N segments of 2 MiB, one every $INGEST_PACE (poll interval ${INGEST_POLL})"
	local segdir=$WORK/ingest-seg f=$OUT/ingest.txt
	start_controld ingest
	start_edge ingest-edge "$segdir"
	"$BIN/lmxbench" load -pids "$CONTROLD_PID,$EDGE_PID" -out "$OUT/ingest-cpu.txt" -- \
		"$BIN/lmxbench" ingestlat -edge "http://127.0.0.1:$EDGE" -api "http://127.0.0.1:$API" -vod "http://127.0.0.1:$VOD" \
		-dir "$segdir" -source bench-ingest -n "$INGEST_N" -every "$INGEST_PACE" -poll "$INGEST_POLL" >"$f" 2>"$OUT/ingest.log" ||
		{ cat "$OUT/ingest.log" >&2; die "ingest latency run failed"; }
	cat "$OUT/ingest.log" >&2
	stop_all
	local n p99
	n=$(kv "$f" N)
	p99=$(kv "$f" RET_P99)
	row "ingest: $n × 2 MiB, 1 per $INGEST_PACE" "from POST return: p50 / p90 / p99 / max (ms)" \
		"$(kv "$f" RET_P50) / $(kv "$f" RET_P90) / $p99 / $(kv "$f" RET_MAX)" "p99 ≤ 50 ms" "$(verdict "$p99" le 50)"
	row "ingest: $n × 2 MiB, 1 per $INGEST_PACE" "from POST sent: p50 / p90 / p99 / max (ms)" \
		"$(kv "$f" SEND_P50) / $(kv "$f" SEND_P90) / $(kv "$f" SEND_P99) / $(kv "$f" SEND_MAX)" "" ""
	row "ingest: $n × 2 MiB, 1 per $INGEST_PACE" "POST to edge itself: p50 / p99 (ms)" \
		"$(kv "$f" POST_P50) / $(kv "$f" POST_P99)" "" ""
	row "ingest: $n × 2 MiB, 1 per $INGEST_PACE" "poll resolution: mean / p99 / max gap (µs); other procs (% CPU)" \
		"$(kv "$f" POLL_MEAN_US) / $(kv "$f" POLL_P99_GAP_US) / $(kv "$f" POLL_MAX_GAP_US); $(kv "$OUT/ingest-cpu.txt" OTHER_CPU_PCT)" "" ""
}

bench_edge() {
	require ffmpeg curl
	build
	local segdir=$WORK/edge-seg f=$OUT/edge.txt src=cam-bench
	start_controld edge
	# shellcheck disable=SC2086 # EDGE_ENV is a list of NAME=value words
	start_edge edge-fp "$segdir" env $EDGE_ENV
	sleep 1
	local base_rss
	base_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$EDGE_PID/status")
	log "edge: idle RSS ${base_rss} kB; starting ffmpeg 4 Mbit/s CBR 1280x720@25, 2 s segments"
	local ff=(ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i testsrc=size=1280x720:rate=25
		-c:v libx264 -preset ultrafast -pix_fmt yuv420p -b:v 4M -minrate 4M -maxrate 4M -bufsize 4M
		-x264-params nal-hrd=cbr -g 50 -keyint_min 50 -sc_threshold 0 -an -t $((EDGE_SECONDS + 30))
		-f hls -hls_time 2 -hls_list_size 5 -hls_flags delete_segments+independent_segments
		-hls_segment_filename "$segdir/$src-%06d.ts"
		-headers $'Video-Source-Name: '"$src"$'\r\nMPEG-TS-URI-Prefix: file://'"$segdir"$'\r\n'
		-method POST "http://127.0.0.1:$EDGE/v1/playlist")
	printf '%q ' "${ff[@]}" >"$OUT/edge-ffmpeg-cmd.txt"
	"${ff[@]}" >"$OUT/edge-ffmpeg.log" 2>&1 &
	PIDS+=($!)
	"$BIN/lmxbench" stream -api "http://127.0.0.1:$API" -source "$src" -wait 30s
	log "edge: streaming on; sampling lmx-edge (pid $EDGE_PID) for ${EDGE_SECONDS}s"
	"$BIN/lmxbench" sample -pid "$EDGE_PID" -for "${EDGE_SECONDS}s" -status "http://127.0.0.1:$EDGE/v1/status" \
		-series "$OUT/edge-series.txt" >"$f"
	echo "IDLE_RSS_KB=$base_rss" >>"$f"
	curl -fsS "http://127.0.0.1:$VOD/v1/vod/live/$src/vid.m3u8" >"$OUT/edge-controld-playlist.m3u8" ||
		die "the control node has no live playlist for $src: the edge did not upload"
	stop_all
	local ring beyond_last beyond_peak cpu up
	ring=$(kv "$f" RING_BYTES)
	beyond_last=$(awk -v k="$(kv "$f" BEYOND_LAST_KB)" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
	beyond_peak=$(awk -v k="$(kv "$f" BEYOND_PEAK_KB)" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
	cpu=$(kv "$f" CPU_MEAN_PCT)
	up=$(kv "$f" UPLOADED)
	[ "${up:-0}" -gt 0 ] || die "the edge uploaded nothing"
	local mb='{ printf "%.1f", $1 * 1024 / 1e6 }'
	row "edge: ${EDGE_SECONDS} s of 4 Mbit/s${EDGE_ENV:+ ($EDGE_ENV)}" "RSS peak / mean / at end (MB)" \
		"$(kv "$f" RSS_PEAK_KB | awk "$mb") / $(kv "$f" RSS_MEAN_KB | awk "$mb") / $(kv "$f" RSS_LAST_KB | awk "$mb") (idle before: $(echo "$base_rss" | awk "$mb"))" "" ""
	row "edge: ${EDGE_SECONDS} s of 4 Mbit/s${EDGE_ENV:+ ($EDGE_ENV)}" "ring buffer at end" \
		"$(awk -v b="$ring" 'BEGIN { printf "%.1f MB", b / 1e6 }') ($(kv "$f" RING_SEGMENTS) segments, $(kv "$f" RING_SECONDS) s; $up uploaded)" "" ""
	row "edge: ${EDGE_SECONDS} s of 4 Mbit/s${EDGE_ENV:+ ($EDGE_ENV)}" "RSS beyond ring bytes: at end (peak RSS − ring)" \
		"$beyond_last MB ($beyond_peak MB)" "≤ 20 MB" "$(verdict "$beyond_peak" le 20)"
	row "edge: ${EDGE_SECONDS} s of 4 Mbit/s${EDGE_ENV:+ ($EDGE_ENV)}" "CPU, mean % of one core (max 1 s)" "$cpu % ($(kv "$f" CPU_MAX_1S_PCT) %)" "≤ 2 %" "$(verdict "$cpu" le 2)"
}

bench_size() {
	require go
	local d=$WORK/size t goos goarch goarm pkg name bytes mb
	mkdir -p "$d"
	for t in "lmx-edge linux arm64 -" "lmx-edge linux arm 7" "lmx-edge linux amd64 -" "lmx linux amd64 -" "lmx linux arm64 -"; do
		read -r name goos goarch goarm <<<"$t"
		pkg=./cmd/$name
		local envs=(CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch")
		[ "$goarm" = - ] || envs+=(GOARM="$goarm")
		log "size: ${envs[*]} go build -trimpath -ldflags '-s -w' $pkg"
		(cd "$SRC" && env "${envs[@]}" go build -trimpath -ldflags '-s -w' -o "$d/$name-$goarch" "$pkg")
		bytes=$(stat -c %s "$d/$name-$goarch")
		mb=$(awk -v b="$bytes" 'BEGIN { printf "%.2f MB (%.2f MiB)", b / 1e6, b / 1048576 }')
		local arch=$goarch
		[ "$goarm" = - ] || arch="arm (GOARM=$goarm)"
		if [ "$name" = lmx-edge ]; then
			row "size: $name $arch" "stripped binary" "$mb · $bytes B" "≤ 12 MB" "$(verdict "$bytes" le 12000000)"
		else
			row "size: $name $arch (reference)" "stripped binary" "$mb · $bytes B" "" ""
		fi
	done
}

# start_minio: a MinIO server on free loopback ports with a fresh data dir in
# WORK and throwaway credentials. Sets MINIO_EP (host:port), MINIO_PID,
# MINIO_USER, MINIO_PASS.
start_minio() {
	local bin=${MINIO:-} dir=$WORK/minio-data cport
	if [ -z "$bin" ]; then
		bin=$(command -v minio || echo "$(go env GOPATH)/bin/minio")
	fi
	[ -x "$bin" ] || die "minio is needed: scripts/test-deps.sh installs it (or set MINIO)"
	freeport MINIO_PORT
	freeport cport
	MINIO_EP=127.0.0.1:$MINIO_PORT
	MINIO_USER=lmxbench
	MINIO_PASS=bench-$RANDOM$RANDOM$RANDOM
	rm -rf "$dir"
	mkdir -p "$dir"
	MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASS MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CI_CD=1 \
		"$bin" server --quiet --address "$MINIO_EP" --console-address "127.0.0.1:$cport" "$dir" >"$OUT/record-minio.log" 2>&1 &
	MINIO_PID=$!
	PIDS+=("$MINIO_PID")
	wait_http "http://$MINIO_EP/minio/health/ready" "$MINIO_PID" "$OUT/record-minio.log"
	"$bin" --version 2>/dev/null | head -n1 >"$OUT/record-minio-version.txt" || true
}

# record_one STORE: one recording run against STORE (s3 = a local MinIO,
# file = controld's default file:// store in its data dir).
record_one() {
	local kind=$1 segdir=$WORK/rec-$1-seg url cpu
	local envs=()
	CONTROLD_ARGS=()
	# A fresh data dir (database, spool, file store) and outputs for every try.
	rm -rf "$WORK/rec-$kind-data" "$segdir" "$WORK/rec-$kind-probe"
	rm -f "$OUT/record-$kind.txt" "$OUT/record-$kind-paced.txt"
	if [ "$kind" = s3 ]; then
		start_minio
		url="s3://lmx-bench/rec?endpoint=$MINIO_EP&secure=false"
		STORE_URL=$url
		CONTROLD_ARGS=(--recordings "$url")
		envs=(LMX_S3_ACCESS_KEY="$MINIO_USER" LMX_S3_SECRET_KEY="$MINIO_PASS")
	else
		url="file://$WORK/rec-file-data/recordings"
		STORE_URL=$url
	fi
	start_controld "rec-$kind" env "${envs[@]}"
	CONTROLD_ARGS=()
	start_edge "rec-$kind-edge" "$segdir"
	cpu="controld=$CONTROLD_PID,edge=$EDGE_PID"
	[ "$kind" != s3 ] || cpu+=",minio=$MINIO_PID"
	log "record: $RECORD_N × 2 MiB into a recording, store $url, at most $RECORD_WINDOW waiting at the edge"
	record_run "$kind" "" "$RECORD_N" 0 "$cpu" "${envs[@]}"
	[ "$RECORD_PACE" = 0 ] || {
		log "record: $RECORD_PACED_N × 2 MiB, one every $RECORD_PACE, into another recording (same processes)"
		record_run "$kind" -paced "$RECORD_PACED_N" "$RECORD_PACE" "$cpu" "${envs[@]}"
	}
	curl -fsS "http://127.0.0.1:$API/metrics" >"$OUT/record-$kind-metrics.txt" || true
	stop_all
	# Noise: other processes' CPU during either run, as for serve.
	local outs=("$OUT/record-$kind.txt")
	[ "$RECORD_PACE" = 0 ] || outs+=("$OUT/record-$kind-paced.txt")
	RECORD_OTHER=$(awk -F= '$1 == "OTHER_CPU_PCT" && $2 > m { m = $2 } END { print m + 0 }' "${outs[@]}")
}

# record_report KIND: the rows of record_one's runs.
record_report() {
	local kind=$1 label
	if [ "$kind" = s3 ]; then label="MinIO (s3://, same host)"; else label="file:// (default store)"; fi
	local f=$OUT/record-$kind.txt fp=$OUT/record-$kind-paced.txt rt p99 b="record: $RECORD_N × 2 MiB → $label"
	rt=$(kv "$f" RT_FACTOR)
	p99=$(kv "$f" PERSIST_P99_MS)
	row "$b" "persisted: segments/s · MB/s (wall s)" \
		"$(kv "$f" SEG_PER_S) · $(kv "$f" MB_PER_S) ($(kv "$f" WALL_S) s; all acked at $(kv "$f" ACKED_S) s)" "" ""
	row "$b" "real-time factor for a 4 Mbit/s source" "${rt}×" "≥ 10×" "$(verdict "$rt" ge 10)"
	row "$b" "persist latency p50 / p90 / p99 (ms; histogram, interpolated in buckets)" \
		"$(kv "$f" PERSIST_P50_MS) / $(kv "$f" PERSIST_P90_MS) / $p99 (mean $(kv "$f" HIST_MEAN_MS); n=$(kv "$f" HIST_COUNT))" "p99 ≤ 200 ms" "$(p99_verdict "$p99")"
	local c="controld $(kv "$f" CPU_CONTROLD_PCT), edge $(kv "$f" CPU_EDGE_PCT)"
	[ "$kind" != s3 ] || c+=", minio $(kv "$f" CPU_MINIO_PCT)"
	c+=", lmxbench $(kv "$f" CPU_LMXBENCH_PCT), other procs $(kv "$f" OTHER_CPU_PCT); machine $(kv "$f" MACHINE_BUSY_PCT) of $(($(nproc) * 100))"
	row "$b" "CPU (% of one CPU); most spooled at once; spool write p50/p99 (ms, idle)" \
		"$c; $(kv "$f" SPOOL_MAX); $(kv "$f" SPOOLPUT_P50_MS) / $(kv "$f" SPOOLPUT_P99_MS)" "" ""
	if [ "$RECORD_PACE" != 0 ]; then
		p99=$(kv "$fp" PERSIST_P99_MS)
		row "record: $RECORD_PACED_N × 2 MiB, 1 per $RECORD_PACE → $label" "persist latency p50 / p90 / p99 (ms; histogram, interpolated in buckets)" \
			"$(kv "$fp" PERSIST_P50_MS) / $(kv "$fp" PERSIST_P90_MS) / $p99 (mean $(kv "$fp" HIST_MEAN_MS); n=$(kv "$fp" HIST_COUNT))" "p99 ≤ 200 ms" "$(p99_verdict "$p99")"
	fi
}

# p99_verdict MS: the p99 target; ">X" (beyond the last finite bucket) misses.
p99_verdict() {
	case $1 in ">"* | NA | "") echo "**MISSED**" ;; *) verdict "$1" le 200 ;; esac
}

# record_run KIND SUFFIX N EVERY CPU [ENV...]: one `lmxbench record` against
# the control node and edge running now, into OUT/record-KIND[SUFFIX].txt.
record_run() {
	local kind=$1 sfx=$2 n=$3 every=$4 cpu=$5
	shift 5
	local f=$OUT/record-$kind$sfx.txt segdir=$WORK/rec-$kind-seg probe=""
	# The spool-write probe runs once, after the unpaced run, on the spool's filesystem.
	[ -n "$sfx" ] || probe=$WORK/rec-$kind-probe
	env "$@" "$BIN/lmxbench" record -edge "http://127.0.0.1:$EDGE" -api "http://127.0.0.1:$API" \
		-dir "$segdir" -source "bench-rec-$kind$sfx" -store "$STORE_URL" -n "$n" -window "$RECORD_WINDOW" -every "$every" \
		-cpu "$cpu" -probe-dir "$probe" >"$f" 2>"$OUT/record-$kind$sfx.log" ||
		{ cat "$OUT/record-$kind$sfx.log" >&2; die "record ($kind$sfx) failed"; }
	cat "$OUT/record-$kind$sfx.log" >&2
}

bench_record() {
	require curl
	build
	local k try f
	for k in $RECORD_STORES; do
		case $k in s3 | file) ;; *) die "RECORD_STORES: unknown store $k (s3|file)" ;; esac
		for try in $(seq 0 "$WRK_RETRIES"); do
			record_one "$k"
			awk -v o="$RECORD_OTHER" -v l="$NOISE_PCT" 'BEGIN { exit !(o > l) }' || break
			[ "$try" = "$WRK_RETRIES" ] && break
			log "record ($k): other processes used $RECORD_OTHER % of a CPU during the run; repeating it"
			for f in "$OUT/record-$k.txt" "$OUT/record-$k-paced.txt"; do
				if [ -f "$f" ]; then cp "$f" "$f.noisy-$try"; fi
			done
		done
		record_report "$k"
	done
}

# ---------------------------------------------------------------------------
# scale: many live sources through real edges, many players

# scale_media: SCALE_SEGMENTS 2 s segments of 4 Mbit/s H.264 in MPEG-TS
# (1280x720 testsrc; CBR with filler, since testsrc alone compresses to far
# less than 4 Mbit/s) and ffmpeg's own index.m3u8 for them, encoded once and
# reused while the command that made them is the same. Sets MEDIA.
scale_media() {
	MEDIA=${SCALE_MEDIA:-$OUT/scale-media}
	local ff want
	ff=(ffmpeg -hide_banner -loglevel error -nostdin -f lavfi -i testsrc=size=1280x720:rate=25
		-t $((SCALE_SEGMENTS * 2)) -c:v libx264 -preset veryfast -pix_fmt yuv420p
		-b:v 4M -minrate 4M -maxrate 4M -bufsize 8M -x264-params nal-hrd=cbr
		-g 50 -keyint_min 50 -sc_threshold 0 -an
		-f hls -hls_time 2 -hls_list_size 0 -hls_flags independent_segments
		-hls_segment_filename "$MEDIA/seg%03d.ts" "$MEDIA/index.m3u8")
	want="$(printf '%q ' "${ff[@]}")
$(ffmpeg -version | head -n1)"
	if [ -f "$MEDIA/index.m3u8" ] && [ "$(cat "$MEDIA/command.txt" 2>/dev/null)" = "$want" ]; then
		log "scale: reusing the pre-encoded segments in $MEDIA"
		return
	fi
	log "scale: pre-encoding $SCALE_SEGMENTS segments of 2 s at 4 Mbit/s into $MEDIA"
	rm -rf "$MEDIA"
	mkdir -p "$MEDIA"
	"${ff[@]}" || die "ffmpeg failed"
	printf '%s\n' "$want" >"$MEDIA/command.txt"
}

# scale_profile_setup LABEL PID: what lmxbench runs in the middle of the
# measured period: SCALE_PROFILE s of Go CPU profile when the control node
# serves /debug/pprof/, else perf record of PID when perf works here, else
# nothing. Sets PROF_CMD, PROF_KIND and PROF_DATA.
scale_profile_setup() {
	local label=$1 pid=$2 base
	PROF_CMD="" PROF_KIND=none PROF_DATA=""
	if [ "$SCALE_PROFILE" = 0 ]; then
		PROF_KIND="skipped (SCALE_PROFILE=0)"
		return
	fi
	for base in "http://127.0.0.1:$API" "http://127.0.0.1:$VOD"; do
		if curl -fsS -o /dev/null --max-time 2 "$base/debug/pprof/" 2>/dev/null; then
			PROF_KIND="pprof ($base/debug/pprof/profile)"
			PROF_DATA=$WORK/scale-$label.pprof
			PROF_CMD="curl -fsS -o $PROF_DATA '$base/debug/pprof/profile?seconds=$SCALE_PROFILE'"
			return
		fi
	done
	if command -v perf >/dev/null && perf record -o "$WORK/perf-probe.data" -p "$pid" -- sleep 0.1 >/dev/null 2>&1; then
		PROF_KIND="perf (the control node serves no pprof)"
		PROF_DATA=$WORK/scale-$label.perf
		PROF_CMD="perf record -F 499 -g -p $pid -o $PROF_DATA -- sleep $SCALE_PROFILE 2>$OUT/scale-$label-perf.log"
	else
		PROF_KIND="none (the control node serves no pprof and perf does not work here)"
	fi
}

# scale_profile_report LABEL: the profile's top 15 into OUT/scale-LABEL-profile.txt.
SCALE_PROFILES=()
scale_profile_report() {
	local label=$1 f=$OUT/scale-$1-profile.txt
	[ -n "$PROF_DATA" ] || return 0
	if [ ! -s "$PROF_DATA" ]; then
		log "scale ($label): no profile was written ($PROF_KIND)"
		return 0
	fi
	case $PROF_KIND in
	pprof*)
		{
			echo "# $SCALE_PROFILE s Go CPU profile of controld in the middle of the measured period ($label)"
			go tool pprof -top -nodecount=15 "$BIN/lmx" "$PROF_DATA" 2>&1 || true
		} >"$f"
		;;
	perf*)
		local trim='s/[[:space:]]+-[[:space:]]+-[[:space:]]*$//'
		{
			echo "# perf record -F 499 -g -p PID(controld) for $SCALE_PROFILE s in the middle of the measured period ($label)"
			echo "## self by binary (kernel vs user space)"
			perf report -i "$PROF_DATA" --stdio --no-children --sort dso -g none 2>/dev/null | grep '%' | sed -E "$trim" | head -n 8 || true
			echo "## top 15, flat (self) by symbol"
			perf report -i "$PROF_DATA" --stdio --no-children --sort symbol -g none 2>/dev/null | grep '%' | sed -E "$trim" | head -n 15 || true
			echo "## top 15, cumulative (children) by symbol"
			perf report -i "$PROF_DATA" --stdio --children --sort symbol -g none 2>/dev/null | grep '%' | sed -E "$trim" | head -n 15 || true
		} >"$f"
		;;
	esac
	SCALE_PROFILES+=("$f")
}

# mb_kb KB: kB as MB (10^6 bytes).
mb_kb() { awk -v k="${1:-0}" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'; }

# scale_run LABEL SOURCES PLAYERS DURATION: a fresh control node (GOMAXPROCS
# unset, controld's default cache size unless SCALE_CONTROLD_ARGS says
# otherwise) and min(SCALE_EDGES, SOURCES) edges, and `lmxbench scale` on
# them, into OUT/scale-LABEL.txt.
scale_run() {
	local label=$1 n=$2 players=$3 dur=$4 e ne f=$OUT/scale-$1.txt
	local edges=() dirs=() pids=()
	ne=$((SCALE_EDGES < n ? SCALE_EDGES : n))
	CONTROLD_CACHE=""
	read -r -a CONTROLD_ARGS <<<"$SCALE_CONTROLD_ARGS"
	# shellcheck disable=SC2086 # the *_ENV knobs are lists of NAME=value words
	start_controld "scale-$label" env -u GOMAXPROCS $SCALE_CONTROLD_ENV
	CONTROLD_CACHE=256MiB
	CONTROLD_ARGS=()
	local cpid=$CONTROLD_PID
	for ((e = 0; e < ne; e++)); do
		# shellcheck disable=SC2086
		start_edge "scale-$label-e$e" "$WORK/scale-$label-seg$e" env -u GOMAXPROCS $SCALE_EDGE_ENV
		edges+=("http://127.0.0.1:$EDGE")
		dirs+=("$WORK/scale-$label-seg$e")
		pids+=("$EDGE_PID")
	done
	scale_profile_setup "$label" "$cpid"
	log "scale ($label): $n sources via $ne edges, $players players; warm-up $SCALE_WARMUP, then $dur measured; profile: $PROF_KIND"
	local cmd=("$BIN/lmxbench" scale -edges "$(IFS=,; echo "${edges[*]}")" -dirs "$(IFS=,; echo "${dirs[*]}")"
		-api "http://127.0.0.1:$API" -vod "http://127.0.0.1:$VOD" -media "$MEDIA"
		-sources "$n" -players "$players" -warmup "$SCALE_WARMUP" -ramp "$SCALE_RAMP" -for "$dur"
		-controld "$cpid" -edge-pids "$(IFS=,; echo "${pids[*]}")"
		-mid-cmd "$PROF_CMD" -mid-len "${SCALE_PROFILE}s" -raw "$OUT/scale-$label-")
	{
		printf '%q ' "${cmd[@]}"
		echo
		echo "# controld: $(tr '\0' ' ' <"/proc/$cpid/cmdline")"
	} >"$OUT/scale-$label-cmd.txt"
	: >"$OUT/scale-$label.log"
	env -u GOMAXPROCS "${cmd[@]}" >"$f" 2>"$OUT/scale-$label.log" &
	local bpid=$!
	PIDS+=("$bpid")
	tail -n +1 -f --pid="$bpid" "$OUT/scale-$label.log" >&2 &
	PIDS+=($!)
	if ! wait "$bpid"; then
		die "scale ($label): lmxbench scale failed (see $OUT/scale-$label.log)"
	fi
	curl -fsS "http://127.0.0.1:$API/metrics" >"$OUT/scale-$label-metrics.txt" 2>/dev/null || true
	stop_all
	scale_profile_report "$label"
	scale_report "$label"
}

# scale_report LABEL: the rows of one scale run.
scale_report() {
	local label=$1 f=$OUT/scale-$1.txt b errs misses cpus
	k() { kv "$f" "$1"; }
	b="scale ($label): $(k SOURCES) sources × $(k MEDIA_MBPS) Mbit/s via $(k EDGES) edges, $(k PLAYERS) players, $(k WALL_S) s${SCALE_CONTROLD_ARGS:+, controld $SCALE_CONTROLD_ARGS}"
	errs=$(k ERRORS)
	misses=$(k MISSES)
	cpus=$(($(k MACHINE_CPUS) * 100))
	row "$b" "errors (non-200 · transport · push) / missed segments (viewers who missed)" \
		"$errs ($(k NON200) · $(k TRANSPORT_ERRORS) · $(k PUSH_ERRORS)) / $misses ($(k VIEWERS_MISSING))" "0 / 0" "$(verdict $((errs + misses)) le 0)"
	row "$b" "non-200 by kind; transport errors by kind; push errors" "$(k NON200_DETAIL); $(k TRANSPORT_DETAIL); $(k PUSH_DETAIL)" "" ""
	row "$b" "fetched: playlists · segments (expected) · MB/s served; connections opened" \
		"$(k PLAYLISTS) · $(k SEGMENTS) ($(k SEGMENTS_EXPECTED)) · $(k SERVED_MB_PER_S); $(k CONNS_OPENED) (all run: $(k CONNS_TOTAL))" "" ""
	row "$b" "segment fetch p50 / p90 / p99 / max (ms); slower than the segment lasts; playlist p99 (ms)" \
		"$(k SEG_FETCH_P50_MS) / $(k SEG_FETCH_P90_MS) / $(k SEG_FETCH_P99_MS) / $(k SEG_FETCH_MAX_MS); $(k SEG_LATE); $(k PLAYLIST_FETCH_P99_MS)" "" ""
	row "$b" "controld RSS after warm-up → end · peak sampled · VmHWM (MB)" \
		"$(mb_kb "$(k CONTROLD_RSS_START_KB)") → $(mb_kb "$(k CONTROLD_RSS_END_KB)") · $(mb_kb "$(k CONTROLD_RSS_PEAK_SAMPLED_KB)") · $(mb_kb "$(k CONTROLD_VMHWM_KB)")" "" ""
	row "$b" "controld smaps_rollup after warm-up → end: Rss · Pss · Pss_Anon · Pss_Shmem (MB)" \
		"$(mb_kb "$(k CONTROLD_SMAPS_START_RSS_KB)") · $(mb_kb "$(k CONTROLD_SMAPS_START_PSS_KB)") · $(mb_kb "$(k CONTROLD_SMAPS_START_PSS_ANON_KB)") · $(mb_kb "$(k CONTROLD_SMAPS_START_PSS_SHMEM_KB)") → $(mb_kb "$(k CONTROLD_SMAPS_END_RSS_KB)") · $(mb_kb "$(k CONTROLD_SMAPS_END_PSS_KB)") · $(mb_kb "$(k CONTROLD_SMAPS_END_PSS_ANON_KB)") · $(mb_kb "$(k CONTROLD_SMAPS_END_PSS_SHMEM_KB)")" "" ""
	row "$b" "cgroup memory after warm-up → end (MB; $(k CGROUP_MEM_FILE), the whole cgroup)" \
		"$(awk -v a="$(k CGROUP_MEM_START_BYTES)" -v z="$(k CGROUP_MEM_END_BYTES)" 'BEGIN { if (a < 0) print "not readable"; else printf "%.1f → %.1f", a / 1e6, z / 1e6 }')" "" ""
	row "$b" "CPU, % of one CPU (per 100 viewers): controld · edges (per source) · lmxbench" \
		"$(k CPU_CONTROLD_PCT) ($(k CPU_CONTROLD_PER100_PCT)) · $(k CPU_EDGES_PCT) ($(k CPU_EDGES_PER100_PCT); $(k CPU_EDGES_PER_SOURCE_PCT)) · $(k CPU_LMXBENCH_PCT) ($(k CPU_LMXBENCH_PER100_PCT))" "" ""
	row "$b" "machine busy (of $cpus) · other procs (% of one CPU) · load average at start → end" \
		"$(k MACHINE_BUSY_PCT) · $(k OTHER_CPU_PCT) · $(k LOADAVG_START) → $(k LOADAVG_END)" "" ""
	row "$b" "edges: uploaded · dropped; RSS at end, all / largest (MB); push p50 / p99 (ms)" \
		"$(k EDGE_UPLOADED) · $(k EDGE_DROPPED); $(mb_kb "$(k EDGES_RSS_END_KB)") / $(mb_kb "$(k EDGE_RSS_MAX_KB)"); $(k PUSH_P50_MS) / $(k PUSH_P99_MS)" "" ""
	row "$b" "controld counters: segments in · cache hits · misses · dropped" \
		"$(k CONTROLD_SEGMENTS_IN_TOTAL) · $(k CONTROLD_CACHE_HITS_TOTAL) · $(k CONTROLD_CACHE_MISSES_TOTAL) · $(k CONTROLD_SEGMENTS_DROPPED_TOTAL)" "" ""
	row "$b" "controld CPU profile" "$PROF_KIND${PROF_DATA:+; top 15 in $OUT/scale-$label-profile.txt}" "" ""
	SCALE_OK=$((errs + misses == 0))
}

bench_scale() {
	require ffmpeg curl
	build
	scale_media
	# Runs with extra controld flags get their own output files.
	local sfx
	sfx=$(printf '%s' "$SCALE_CONTROLD_ARGS" | tr -cs 'A-Za-z0-9' '-' | sed 's/^-*//; s/-*$//')
	sfx=${sfx:+-$sfx}
	if [ -z "$SCALE_STEPS" ]; then
		scale_run "s$SCALE_SOURCES-p$SCALE_PLAYERS$sfx" "$SCALE_SOURCES" "$SCALE_PLAYERS" "$SCALE_DURATION"
		return
	fi
	local s best=none
	for s in $SCALE_STEPS; do
		scale_run "step-s$s-p$((s * SCALE_PLAYERS_PER_SOURCE))$sfx" "$s" $((s * SCALE_PLAYERS_PER_SOURCE)) "$SCALE_STEP_DURATION"
		[ "$SCALE_OK" = 0 ] || best="$s sources, $((s * SCALE_PLAYERS_PER_SOURCE)) players"
	done
	row "scale steps: $SCALE_STEPS sources × $SCALE_PLAYERS_PER_SOURCE players, $SCALE_STEP_DURATION each${SCALE_CONTROLD_ARGS:+, controld $SCALE_CONTROLD_ARGS}" \
		"highest step with 0 errors and 0 misses" "$best" "" ""
}

# ---------------------------------------------------------------------------
# ondemand: what an unwatched on-demand source uploads, and the wake-up

bench_ondemand() {
	require ffmpeg curl
	build
	local f=$OUT/ondemand.txt segdir=$WORK/ondemand-seg
	start_controld ondemand
	start_edge bench-ondemand-edge "$segdir"
	log "ondemand: nobody watches for $ONDEMAND_QUIET, then $ONDEMAND_WAKES wake-ups ($ONDEMAND_IDLE idle)"
	"$BIN/lmxbench" ondemand -edge "http://127.0.0.1:$EDGE" -api "http://127.0.0.1:$API" -vod "http://127.0.0.1:$VOD" \
		-dir "$segdir" -edge-pid "$EDGE_PID" -quiet "$ONDEMAND_QUIET" -wakes "$ONDEMAND_WAKES" -idle "$ONDEMAND_IDLE" \
		>"$f" 2>"$OUT/ondemand.log" || { cat "$OUT/ondemand.log" >&2; die "ondemand failed"; }
	cat "$OUT/ondemand.log" >&2
	stop_all
	local b="ondemand: 640x360 H.264 at 2 Mbit/s, 2 s segments, one edge"
	row "$b" "bytes received by the control node while nobody watched ($(kv "$f" QUIET_S) s), per hour" \
		"$(kv "$f" QUIET_BYTES_IN_PER_HOUR) ($(kv "$f" QUIET_SEGMENTS_IN) segments; edge live uploads $(kv "$f" QUIET_EDGE_LIVE_UPLOADS); edge buffering $(kv "$f" QUIET_EDGE_BUFFERED_S) s)" "0" "$(verdict "$(kv "$f" QUIET_BYTES_IN_PER_HOUR)" le 0)"
	row "$b" "edge process writes while nobody watched, per hour (wchar: MQTT status of $(kv "$f" STATUS_BYTES) B every heartbeat, answers to ffmpeg)" \
		"$(kv "$f" QUIET_EDGE_WCHAR_PER_HOUR)" "" ""
	row "$b" "first playlist request → playable playlist p50 / p99 / max (ms), $(kv "$f" WAKES) wake-ups, $(kv "$f" WAKE_FAILURES) failed" \
		"$(kv "$f" WAKE_P50_MS) / $(kv "$f" WAKE_P99_MS) / $(kv "$f" WAKE_MAX_MS); segments listed min $(kv "$f" WAKE_SEGMENTS_MIN), median $(kv "$f" WAKE_SEGMENTS_MEDIAN)" "p99 ≤ 1500 ms" "$(verdict "$(kv "$f" WAKE_P99_MS)" le 1500)"
}

# failover: TestFailoverBenchmark on the built binaries.
bench_failover() {
	local f=$OUT/failover.txt n=${FAILOVER_SWITCHES:-12}
	log "failover: $n switches (go test ./e2e -run TestFailoverBenchmark)"
	(cd "$ROOT" && LMX_BENCH_FAILOVER=$n go test ./e2e -run '^TestFailoverBenchmark$' -count=1 -v -timeout 30m) >"$OUT/failover.log" 2>&1 ||
		{ tail -50 "$OUT/failover.log" >&2; die "failover failed"; }
	grep -o 'BENCH failover .*' "$OUT/failover.log" | tr ' ' '\n' | grep = >"$f"
	local b="failover: two edges feed one source, one ffmpeg each, 2 s segments"
	row "$b" "missed segment due → new feed's first segment listed p50 / p99 / max, $(kv "$f" switches) kill -9 switches" \
		"$(kv "$f" due_p50) / $(kv "$f" due_p99) / $(kv "$f" due_max)" "≤ 2 s (one target duration)" ""
	row "$b" "player polling every 100 ms: wait past a segment's length p50 / p99 / max" \
		"$(kv "$f" wait_p50) / $(kv "$f" wait_p99) / $(kv "$f" wait_max)" "≤ 2 s" ""
}

# ---------------------------------------------------------------------------

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(all)
[ "${parts[*]}" = all ] && parts=(serve ingest edge record size)
for p in "${parts[@]}"; do
	case $p in serve | ingest | edge | record | size | profile | scale | ondemand | failover) ;; *) die "unknown part $p (serve|ingest|edge|record|size|profile|scale|ondemand|failover|all)" ;; esac
done
mkdir -p "$OUT"
{
	echo "| Benchmark | Measure | Value | Target | Verdict |"
	echo "| --- | --- | --- | --- | --- |"
} >"$RESULTS"
start=$(date +%s)
for p in "${parts[@]}"; do
	"bench_$p"
done
log "done in $(($(date +%s) - start)) s; raw outputs in $OUT"
echo
echo "lmx benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC'), $SRC_DESC, $(nproc) CPUs, $(go version 2>/dev/null | awk '{ print $3 }'); serve: $PINNING"
echo
cat "$RESULTS"
for f in "${SCALE_PROFILES[@]}"; do
	echo
	cat "$f"
done
