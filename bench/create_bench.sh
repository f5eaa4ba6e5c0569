#!/usr/bin/env bash
# Throughput of `peerwire create` against mktorrent and single-core SHA-1, on the same bytes,
# all in page cache, in one run with the tools alternating (so background load hits all alike).
#
# usage: bench/create_bench.sh [path/to/peerwire]      (default build/app/peerwire)
# environment:
#   BENCH_SIZE_MIB=2048   data size          BENCH_FILES=4      number of files
#   BENCH_TMPDIR=/tmp     where data goes    BENCH_RUNS=3       runs per tool (at least 3)
#   BENCH_PIECE_EXP=21    piece size 2^N     MKTORRENT_THREADS=2
#   BENCH_DATA=DIR        use an existing directory instead of generating one (kept)
#
# Baselines: `cat | sha1sum` is single-core SHA-1 over the same bytes, but coreutils often has
# no SHA-NI code, so `openssl speed` (OpenSSL's SHA-1 on a 1 MiB buffer in memory, no I/O at
# all) is also measured as the fastest single-core SHA-1 there is. Ratios are against two
# cores' worth of each, the ceiling for a two-core machine; the in-memory one is unreachable in
# full because every byte must also be copied out of the page cache.
set -euo pipefail

peerwire=${1:-build/app/peerwire}
size_mib=${BENCH_SIZE_MIB:-2048}
nfiles=${BENCH_FILES:-4}
runs=${BENCH_RUNS:-3}
piece_exp=${BENCH_PIECE_EXP:-21}
mk_threads=${MKTORRENT_THREADS:-2}
((runs >= 3)) || runs=3

for tool in "$peerwire" mktorrent sha1sum openssl; do
  command -v "$tool" >/dev/null || { echo "create_bench: '$tool' not found" >&2; exit 1; }
done

work=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/peerwire-bench.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

if [[ -n ${BENCH_DATA:-} ]]; then
  data=$BENCH_DATA
  size_mib=$(du -m --apparent-size -s "$data" | cut -f1)
else
  data=$work/data
  mkdir -p "$data"
  echo "generating ${size_mib} MiB in $nfiles files under $data ..."
  per_file=$((size_mib / nfiles))
  for ((i = 0; i < nfiles; i++)); do
    # The last file takes the remainder and is one odd byte long, so the last piece is short.
    mib=$per_file
    ((i == nfiles - 1)) && mib=$((size_mib - per_file * (nfiles - 1)))
    head -c "$((mib * 1048576 + (i == nfiles - 1 ? 12345 : 0)))" /dev/urandom \
      >"$data/file$(printf %02d "$i").bin"
  done
fi
mapfile -t files < <(find "$data" -type f | LC_ALL=C sort)
bytes=$(cat "${files[@]}" | wc -c)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')

avail_kib=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
if ((avail_kib * 1024 < bytes * 3 / 2)); then
  echo "warning: ${avail_kib} KiB available memory may not keep ${mib} MiB in page cache" >&2
fi
echo "warming the page cache ..."
cat "${files[@]}" >/dev/null
cat "${files[@]}" >/dev/null

now() { date +%s.%N; }
# time_one NAME COMMAND...: appends the elapsed seconds to $work/NAME.times
time_one() {
  local name=$1
  shift
  local t0 t1
  t0=$(now)
  "$@" >/dev/null 2>"$work/$name.err" || {
    echo "$name failed:" >&2
    cat "$work/$name.err" >&2
    exit 1
  }
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }' >>"$work/$name.times"
}

run_peerwire() {
  rm -f "$work/p.torrent"
  "$peerwire" create "$data" -o "$work/p.torrent" --piece-size "$((1 << piece_exp))" --no-date
}
run_mktorrent() {
  rm -f "$work/m.torrent"
  mktorrent -t "$mk_threads" -l "$piece_exp" -d -o "$work/m.torrent" "$data"
}
run_sha1sum() { cat "${files[@]}" | sha1sum; }
# Appends MiB/s of OpenSSL's in-memory SHA-1 ("sha1  1919741.41k": 1000s of bytes per second).
speed_openssl() {
  openssl speed -evp sha1 -bytes 1048576 -seconds 2 2>/dev/null |
    awk '$1 == "sha1" { sub(/k$/, "", $2); printf "%.1f\n", $2 * 1000 / 1048576 }' \
      >>"$work/openssl.speeds"
}

names=(peerwire mktorrent sha1sum)
for ((r = 1; r <= runs; r++)); do
  echo "run $r/$runs ..."
  for name in "${names[@]}"; do time_one "$name" "run_$name"; done
  speed_openssl
done

median() { sort -n "$work/$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A speed
echo
echo "$mib MiB in ${#files[@]} files, piece size 2^$piece_exp, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for name in "${names[@]}"; do
  m=$(median "$name.times")
  speed[$name]=$(awk -v b="$bytes" -v s="$m" 'BEGIN { printf "%.1f", b / 1048576 / s }')
  label=$name
  case $name in
    peerwire) label="peerwire create" ;;
    mktorrent) label="mktorrent -t $mk_threads" ;;
    sha1sum) label="cat | sha1sum (1 core)" ;;
  esac
  printf '%-32s median %8s MiB/s   (runs: %s s)\n' "$label" "${speed[$name]}" \
    "$(paste -sd' ' "$work/$name.times")"
done
speed[openssl]=$(median openssl.speeds)
printf '%-32s median %8s MiB/s   (runs: %s MiB/s)\n' "openssl speed sha1 (1 core, RAM)" \
  "${speed[openssl]}" "$(paste -sd' ' "$work/openssl.speeds")"
ratio() { awk -v a="$1" -v b="$2" -v k="${3:-1}" 'BEGIN { printf "%.2f", a / (k * b) }'; }
echo
echo "peerwire / mktorrent:            $(ratio "${speed[peerwire]}" "${speed[mktorrent]}")"
echo "peerwire / (2 x sha1sum):        $(ratio "${speed[peerwire]}" "${speed[sha1sum]}" 2)"
echo "peerwire / (2 x openssl speed):  $(ratio "${speed[peerwire]}" "${speed[openssl]}" 2)"

# Same files, same order, no extra info keys: both tools must produce the same info-hash.
# (Data passed in BENCH_DATA may legitimately differ: executable files get attr "x".)
if command -v transmission-show >/dev/null; then
  hp=$(transmission-show "$work/p.torrent" | awk '/Hash:/ { print $2; exit }')
  hm=$(transmission-show "$work/m.torrent" | awk '/Hash:/ { print $2; exit }')
  if [[ $hp == "$hm" ]]; then
    echo "info-hash matches mktorrent:     $hp"
  else
    echo "info-hash DIFFERS from mktorrent: peerwire $hp, mktorrent $hm" >&2
    [[ -n ${BENCH_DATA:-} ]] || exit 1
  fi
fi
