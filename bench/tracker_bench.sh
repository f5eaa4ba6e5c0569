#!/usr/bin/env bash
# Announces per second on loopback: `peerwire tracker` against opentracker, UDP (BEP 15) and
# HTTP, driven by bench_tracker_load (bench/tracker_load.cpp). Issue target: peerwire ≥ 0.5×
# opentracker on UDP.
#
#   bench/tracker_bench.sh [PEERWIRE] [LOAD_GENERATOR]
#       (defaults: build-bench/app/peerwire, build-bench/bench/bench_tracker_load)
#
# Environment: RUNS=3 (alternating runs per tracker and protocol; medians reported),
# SECONDS_PER_RUN=4, TORRENTS=1000, PEERS=200 (per torrent), TRACKER_BENCH_MARKDOWN=path.
#
# Both trackers serve the same 1000 info-hashes from an allow-list (Debian's opentracker is
# built in whitelist mode, so peerwire runs with --allow too: same per-announce check), on
# 127.0.0.1, each on its own free port, for the whole run; runs alternate between them so load
# bursts on a shared machine hit both. HTTP: one connection per announce (what most clients
# do), 8 connections in parallel; UDP: 8 sockets with 16 requests in flight each. Every
# process is stopped by PID; each run is bounded by SECONDS_PER_RUN and 2 000 000 announces.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
peerwire=${1:-$here/../build-bench/app/peerwire}
load=${2:-$here/../build-bench/bench/bench_tracker_load}
runs=${RUNS:-3}
secs=${SECONDS_PER_RUN:-4}
torrents=${TORRENTS:-1000}
peers=${PEERS:-200}
opentracker=$(command -v opentracker || true)
for f in "$peerwire" "$load"; do
  if [[ ! -x $f ]]; then
    echo "tracker_bench: $f is not an executable (build it first: make bench)" >&2
    exit 2
  fi
done

tmp=$(mktemp -d)
chmod 755 "$tmp" # opentracker chroots here and reads the whitelist as user nobody
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_listening() { # port, seconds
  local deadline=$((SECONDS + $2))
  until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

"$load" --write-hashes "$tmp/whitelist.txt" --torrents "$torrents"
chmod 644 "$tmp/whitelist.txt"

pw_port=$(free_port)
"$peerwire" tracker --bind 127.0.0.1 --http "$pw_port" --udp "$pw_port" \
  --allow "$tmp/whitelist.txt" >"$tmp/peerwire.log" 2>&1 &
pids+=($!)
wait_listening "$pw_port" 10 || { cat "$tmp/peerwire.log" >&2; exit 1; }

have_ot=0
if [[ -n $opentracker ]]; then
  ot_port=$(free_port)
  # Under `timeout`: it changes user, which clears the parent-death signal; this caps it.
  (cd "$tmp" && exec timeout -k 5 600 "$opentracker" -i 127.0.0.1 -p "$ot_port" -P "$ot_port" \
    -d "$tmp" -w whitelist.txt >"$tmp/opentracker.log" 2>&1) &
  pids+=($!)
  wait_listening "$ot_port" 10 && have_ot=1
fi

declare -A results
run_one() { # name port proto
  local out
  out=$("$load" "--$3" "$2" --torrents "$torrents" --peers-per-torrent "$peers" \
    --seconds "$secs" --max 2000000)
  echo "  $1 $out" >&2
  results[$1/$3]+="$(awk '{print $2}' <<<"$out") "
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for proto in udp http; do
  echo "== $proto: $runs runs of ${secs} s each, alternating" >&2
  for ((i = 0; i < runs; i++)); do
    run_one peerwire "$pw_port" "$proto"
    ((have_ot)) && run_one opentracker "$ot_port" "$proto"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
pw_rss=$(awk '/VmHWM/ {print $2}' "/proc/${pids[0]}/status" 2>/dev/null || echo "?")

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

{
  echo "Machine: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) CPUs;" \
    "load $load_before before, $load_after after. $torrents torrents x $peers peers, numwant 50."
  echo
  echo "| Protocol | peerwire tracker (announces/s, median) | opentracker (median) | ratio | runs |"
  echo "|---|---:|---:|---:|---|"
  for proto in udp http; do
    pw=$(median "${results[peerwire/$proto]}")
    if ((have_ot)); then
      ot=$(median "${results[opentracker/$proto]}")
      ratio=$(awk -v a="$pw" -v b="$ot" 'BEGIN {printf "%.2f×", a / b}')
    else
      ot="not installed"
      ratio="n/a"
    fi
    echo "| ${proto^^} | $pw | $ot | $ratio | peerwire: ${results[peerwire/$proto]}; opentracker: ${results[opentracker/$proto]:-} |"
  done
  echo
  echo "peerwire tracker peak RSS: $((pw_rss / 1024)) MiB (VmHWM)."
} | tee "${TRACKER_BENCH_MARKDOWN:-/dev/null}"
