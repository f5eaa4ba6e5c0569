#!/usr/bin/env bash
# Whole-process time of `peerwire info` against `transmission-show` on one large multi-file
# torrent (issue target: peerwire ≤ 0.5× transmission-show).
#
#   bench/info_bench.sh [PEERWIRE_BINARY]        (default: build-bench/app/peerwire)
#
# Environment:
#   RUNS=7           timed runs per command (at least 5)
#   FILES=100000     files in the generated torrent
#   TORRENT=path     use this torrent instead of generating one
#   INFO_BENCH_MARKDOWN=path   also write the results as a Markdown fragment there
#
# Runs are interleaved (peerwire, peerwire --json, transmission-show, then again), so a burst
# of load on a shared machine hits all commands alike instead of one whole series; medians
# rather than means for the same reason. Output goes to /dev/null: we time parsing and
# formatting, not the terminal. Peak RSS comes from one separate run per command so the
# measuring wrapper never adds to the timed runs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
peerwire=${1:-$here/../build-bench/app/peerwire}
runs=${RUNS:-7}
files=${FILES:-100000}
per_run_timeout=60 # seconds; keeps the script bounded even if a command hangs

if [[ ! -x $peerwire ]]; then
  echo "info_bench: $peerwire is not an executable (build it first: make bench)" >&2
  exit 2
fi
if ((runs < 5)); then
  echo "info_bench: RUNS=$runs is too few for a meaningful median; using 5" >&2
  runs=5
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

torrent=${TORRENT:-}
if [[ -z $torrent ]]; then
  torrent=$tmp/big.torrent
  python3 "$here/make_big_torrent.py" "$torrent" --files "$files" >&2
fi
torrent_bytes=$(stat -c %s "$torrent")

have_ts=0
command -v transmission-show >/dev/null && have_ts=1

# Commands under test: argv arrays cmd0, cmd1, ... (run directly, with no wrapper process
# whose start-up would be added to both sides and pull the ratio towards 1).
# (SC2034: the cmdN arrays are used through namerefs, `local -n c=cmd$i`.)
labels=("peerwire info" "peerwire info --json")
# shellcheck disable=SC2034
cmd0=("$peerwire" info "$torrent")
# shellcheck disable=SC2034
cmd1=("$peerwire" info --json "$torrent")
if ((have_ts)); then
  labels+=("transmission-show")
  # shellcheck disable=SC2034
  cmd2=(transmission-show "$torrent")
fi
n=${#labels[@]}
cmdline() { # shell-quoted command line of command $1 (for hyperfine and messages)
  local -n c=cmd$1
  printf '%q ' "${c[@]}"
}

# Microsecond wall clock without forking: EPOCHREALTIME (bash >= 5) avoids the ~1 ms a
# `date` process would add to every sample; date is the fallback for older shells.
now_us() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    echo "${EPOCHREALTIME/[.,]/}"
  else
    echo $(($(date +%s%N) / 1000))
  fi
}

median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# One untimed warm-up each (page cache, loader caches), under `timeout`: a command that
# finishes here within the limit will finish the timed runs too, which bounds the script
# without putting a timeout process inside the timed region.
for ((i = 0; i < n; i++)); do
  declare -n c=cmd$i
  if ! timeout "$per_run_timeout" "${c[@]}" >/dev/null; then
    echo "info_bench: failed or took over ${per_run_timeout}s: $(cmdline "$i")" >&2
    exit 1
  fi
  unset -n c
done

if command -v hyperfine >/dev/null; then
  # hyperfine does the statistics and outlier warnings better than a shell loop; it
  # discards the commands' output by default.
  hf_args=()
  for ((i = 0; i < n; i++)); do hf_args+=(-n "${labels[$i]}" "$(cmdline "$i")"); done
  hyperfine -N --warmup 1 --runs "$runs" --export-json "$tmp/hf.json" "${hf_args[@]}" >&2 ||
    hyperfine --warmup 1 --runs "$runs" --export-json "$tmp/hf.json" "${hf_args[@]}" >&2
  python3 - "$tmp/hf.json" "$tmp" <<'PY'
import json, sys
for i, r in enumerate(json.load(open(sys.argv[1]))["results"]):
    with open("%s/t%d" % (sys.argv[2], i), "w") as f:
        f.write("".join("%d\n" % round(t * 1e6) for t in r["times"]))
PY
  timer="hyperfine"
else
  for ((r = 0; r < runs; r++)); do
    for ((i = 0; i < n; i++)); do
      declare -n c=cmd$i
      t0=$(now_us)
      "${c[@]}" >/dev/null
      t1=$(now_us)
      unset -n c
      echo $((t1 - t0)) >>"$tmp/t$i"
    done
  done
  timer="shell loop (bash EPOCHREALTIME)"
  [[ -n ${EPOCHREALTIME:-} ]] || timer="shell loop (date +%s%N)"
fi

# Peak RSS in KiB of command $1 (one extra run).
peak_rss() {
  local -n c=cmd$1
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f %M -o "$tmp/rss" "${c[@]}" >/dev/null && cat "$tmp/rss"
  else
    python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "${c[@]}"
  fi
}

declare -a med_us med_ms min_ms rss_mib
for ((i = 0; i < n; i++)); do
  med_us[i]=$(median <"$tmp/t$i")
  med_ms[i]=$(awk -v t="${med_us[$i]}" 'BEGIN {printf "%.1f", t/1000}')
  min_ms[i]=$(sort -n "$tmp/t$i" | head -1 | awk '{printf "%.1f", $1/1000}')
  rss_mib[i]=$(peak_rss "$i" | awk '{printf "%.1f", $1/1024}')
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

if [[ -n ${TORRENT:-} ]]; then
  what="given by TORRENT"
else
  what="$files files, made by bench/make_big_torrent.py"
fi
{
  echo "Torrent: $(basename "$torrent"), $torrent_bytes bytes ($what)"
  echo "Timing: $timer, $runs runs per command, interleaved; output to /dev/null"
  echo
  echo "| Command | Median wall (ms) | Min wall (ms) | Peak RSS (MiB) |"
  echo "|---|---:|---:|---:|"
  for ((i = 0; i < n; i++)); do
    echo "| \`${labels[$i]}\` | ${med_ms[$i]} | ${min_ms[$i]} | ${rss_mib[$i]} |"
  done
  echo
  if ((have_ts)); then
    r_text=$(ratio "${med_us[0]}" "${med_us[2]}")
    r_json=$(ratio "${med_us[1]}" "${med_us[2]}")
    verdict=$(awk -v a="${med_us[0]}" -v b="${med_us[2]}" 'BEGIN {print (a <= 0.5 * b) ? "meets" : "misses"}')
    echo "Ratio peerwire info / transmission-show (medians): **${r_text}×** — $verdict the" \
      "≤ 0.5× target (\`--json\`: ${r_json}×)."
  else
    echo "transmission-show is not installed: no ratio (target ≤ 0.5× transmission-show)."
  fi
} >"$tmp/report.md"

cat "$tmp/report.md"
if [[ -n ${INFO_BENCH_MARKDOWN:-} ]]; then cp "$tmp/report.md" "$INFO_BENCH_MARKDOWN"; fi
