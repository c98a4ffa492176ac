#!/usr/bin/env bash
# Renders the README's screenshots of the dashboard (lmx tui):
#
#   docs/screenshots/tui-sources.png     the Sources panel focused, the
#                                        live playback URL in the status line
#   docs/screenshots/tui-recordings.png  the Recordings panel focused, the
#                                        recording's URL in the status line,
#                                        every key listed (?)
#
# It runs `lmx demo` (ffmpeg's test pattern) on free loopback ports, starts
# a recording of the last 10 s, runs `lmx tui` in a private tmux server at
# 120x36, captures the screen with its colours (tmux capture-pane -e),
# turns the ANSI into HTML with aha, and photographs that with headless
# Chromium. Everything it starts is stopped on exit, whatever happens.
#
# Needs go, ffmpeg, tmux, aha and chromium (Debian packages ffmpeg, tmux,
# aha, chromium, fonts-dejavu-core); installs the missing ones with apt-get
# when it runs as root.
#
# Environment:
#   LMX_BIN       an lmx binary to use instead of building ./cmd/lmx
#   SHOTS_WARMUP  seconds the dashboard runs before the first capture, so
#                 that the bitrate sparkline has some history (default 45)
#   SHOTS_SCALE   device pixels per CSS pixel (default 2: 2174x1490 PNGs of
#                 about 200 KB, sharp on high-density screens)
#   SHOTS_OUT     output directory (default docs/screenshots)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=${SHOTS_OUT:-$root/docs/screenshots}
warmup=${SHOTS_WARMUP:-45}
scale=${SHOTS_SCALE:-2}
cols=120
rows=36

say() { printf 'screenshots: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# ---------------------------------------------------------------------------
# Tools

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v aha >/dev/null 2>&1 || need+=(aha)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -q 'DejaVu Sans Mono' || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing ${need[*]}: install them (apt-get install ${need[*]}) or run as root"
  say "installing ${need[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ---------------------------------------------------------------------------
# Everything started here is stopped on exit.

work=$(mktemp -d "${TMPDIR:-/tmp}/lmx-shots.XXXXXX")
sock="lmx-shots-$$"
sock_path=""
demo_pid=""
cleanup() {
  local rc=$?
  env -u TMUX tmux -L "$sock" kill-server >/dev/null 2>&1 || true
  [ -z "$sock_path" ] || rm -f "$sock_path" # kill-server leaves it behind
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -INT "$demo_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$demo_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  if [ $rc -ne 0 ] && [ -f "$work/demo.log" ]; then
    say "lmx demo's last lines:"; tail -n 20 "$work/demo.log" >&2
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

lmx=${LMX_BIN:-}
if [ -z "$lmx" ]; then
  say "building lmx"
  go build -o "$work/lmx" ./cmd/lmx
  lmx=$work/lmx
fi

# free_port prints a loopback port nothing listens on (lmx demo moves to
# another free one anyway if it is taken meanwhile).
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"; return
    fi
  done
  die "no free port"
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || die "timed out waiting for $what"
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------
# The demo, a recording, the dashboard

say "starting lmx demo"
"$lmx" demo --api-port "$(free_port)" --vod-port "$(free_port)" --mqtt-port "$(free_port)" --edge-port "$(free_port)" \
  >"$work/demo.log" 2>&1 &
demo_pid=$!
demo_live() {
  kill -0 "$demo_pid" 2>/dev/null || die "lmx demo exited"
  grep -qs '^Live now' "$work/demo.log"
}
wait_for 60 "lmx demo to go live" demo_live
api=$(sed -n 's/^lmx demo: control node at \(http:[^,]*\),.*/\1/p' "$work/demo.log" | head -n 1)
[ -n "$api" ] || die "lmx demo did not say where its control node is"
say "control node at $api"

tmux_() { env -u TMUX tmux -L "$sock" -f /dev/null "$@"; }
screen() { tmux_ capture-pane -p -t tui; }
shows() { screen | grep -qF -- "$1"; }

tmux_ new-session -d -s tui -x "$cols" -y "$rows" \
  "env -u NO_COLOR TERM=xterm-256color '$lmx' --server '$api' tui"
sock_path=$(tmux_ display-message -p '#{socket_path}')
wait_for 20 "the dashboard to go live" shows "● live"
wait_for 20 "the source to stream" shows "(1, 1 streaming)"

sleep 4 & wait $! # a few seconds of stream, then a recording of the last 10 s
"$lmx" --server "$api" rec start camera-0 --since -10s --alias front-door >/dev/null 2>&1 ||
  die "lmx rec start failed"
wait_for 20 "the recording on screen" shows "front-door"

say "letting the dashboard run ${warmup}s for the sparkline"
sleep "$warmup" & wait $! # (wait: a signal ends it at once)

# ---------------------------------------------------------------------------
# Rendering: ANSI → HTML (aha) → PNG (Chromium)

# A dark theme: aha's classes (-s) with a palette of our own; "highlighted"
# is aha's name for the bright colours (SGR 90–97).
css='
html, body { margin: 0; background: #0d1117; }
body { padding: 20px; display: inline-block; }
.window { background: #161b22; border: 1px solid #30363d; border-radius: 10px;
  box-shadow: 0 8px 24px rgba(0,0,0,.5); overflow: hidden; display: inline-block; }
.bar { height: 28px; background: #21262d; border-bottom: 1px solid #30363d; position: relative; }
.bar i { position: absolute; top: 9px; width: 11px; height: 11px; border-radius: 50%; }
.bar i:nth-child(1) { left: 12px; background: #ff5f56; }
.bar i:nth-child(2) { left: 30px; background: #ffbd2e; }
.bar i:nth-child(3) { left: 48px; background: #27c93f; }
.bar b { display: block; text-align: center; color: #8b949e;
  font: 13px/28px "DejaVu Sans", sans-serif; }
pre { margin: 0; padding: 12px 16px 14px; color: #c9d1d9;
  font: 14px/18px "DejaVu Sans Mono", monospace; white-space: pre; }
.bold { font-weight: bold; }
.underline { text-decoration: underline; }
.italic { font-style: italic; }
.highlighted { filter: none; }
.dimgray { color: #484f58; }  .highlighted.dimgray { color: #6e7681; }
.red     { color: #ff7b72; }  .highlighted.red     { color: #ffa198; }
.green   { color: #3fb950; }  .highlighted.green   { color: #56d364; }
.yellow  { color: #d29922; }  .highlighted.yellow  { color: #e3b341; }
.blue    { color: #58a6ff; }  .highlighted.blue    { color: #79c0ff; }
.purple  { color: #bc8cff; }  .highlighted.purple  { color: #d2a8ff; }
.cyan    { color: #39c5cf; }  .highlighted.cyan    { color: #56d4dd; }
.white   { color: #b1bac4; }  .highlighted.white   { color: #f0f6fc; }
.reset   { color: #c9d1d9; }
.inverted { color: #161b22; } .bg-inverted { background: #c9d1d9; }
'

# shoot W H HTML PNG: one headless Chromium screenshot.
shoot() {
  rm -f "$4"
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/chromium" --hide-scrollbars --window-size="$1,$2" \
    --force-device-scale-factor="$scale" --run-all-compositor-stages-before-draw \
    --virtual-time-budget=2000 --screenshot="$4" "file://$3" >"$work/chromium.log" 2>&1 ||
    { cat "$work/chromium.log" >&2; die "chromium failed on $3"; }
  [ -s "$4" ] || { cat "$work/chromium.log" >&2; die "chromium wrote no $4"; }
}

# render NAME TITLE: the current screen to $out/NAME.png.
render() {
  local name=$1 title=$2 html="$work/$1.html" png="$work/$1.png"
  tmux_ capture-pane -e -p -t tui >"$work/$name.ansi"
  {
    printf '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>%s</title><style>%s</style></head>\n' "$title" "$css"
    printf '<body><div class="window"><div class="bar"><i></i><i></i><i></i><b>%s</b></div><pre>' "$title"
    # aha's fragment, without its own <pre> wrapper.
    aha -n -s <"$work/$name.ansi" | sed -e '1s/^<pre>//' -e '$s/<\/pre>$//'
    printf '</pre></div></body></html>\n'
  } >"$html"
  # 120 columns of 14px DejaVu Sans Mono (8.43px each) and 36 lines of 18px,
  # plus padding, the title bar and the frame.
  local w=$((cols * 843 / 100 + 32 + 2 + 40 + 2)) h=$((rows * 18 + 26 + 29 + 2 + 40))
  # Headless Chromium sometimes photographs a page before it has painted
  # all of it (under load): shoot until two shots agree, byte for byte.
  local try prev="$work/$name.prev.png"
  rm -f "$prev"
  for try in 1 2 3 4 5; do
    shoot "$w" "$h" "$html" "$png"
    if [ -f "$prev" ] && cmp -s "$png" "$prev"; then break; fi
    [ $try -lt 5 ] || die "chromium gave five different pictures of $html"
    cp "$png" "$prev"
  done
  mkdir -p "$out"
  cp "$png" "$out/$name.png"
  say "wrote $out/$name.png ($(wc -c <"$out/$name.png") bytes, ${w}x${h} CSS px at ${scale}x)"
}

# One key per send-keys, each waited for: keys that reach the program in
# one read come as a single multi-rune key press that matches no binding.
key() { tmux_ send-keys -t tui "$1"; }

# 1. Sources focused, the source selected, its playback URL shown (c).
key 2
wait_for 10 "the Sources panel focused" shows "▶ [2] Sources"
key c
wait_for 10 "the playback URL in the status line" shows "camera-0 live: http"
render tui-sources "lmx tui"

# 2. Recordings focused, the recording's playback URL shown, every key
# listed (?).
key 3
wait_for 10 "the Recordings panel focused" shows "▶ [3] Recordings"
key c
wait_for 10 "the recording's URL in the status line" shows "/v1/vod/recording/"
key '?'
wait_for 10 "the full help" shows "previous panel"
render tui-recordings "lmx tui"

key q
