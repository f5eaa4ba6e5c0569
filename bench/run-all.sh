#!/usr/bin/env bash
# Runs every benchmark against one build and prints a Markdown summary to paste into
# bench/RESULTS.md (also saved as BUILD/bench-results.md).
#
#   bench/run-all.sh [BUILD]      (default build-bench; `make bench` configures it in
#                                  Release with -DPEERWIRE_BENCH=ON and calls this)
#
# Order: bench_bencode (Google Benchmark, in-process), bench/info_bench.sh (whole-process
# `peerwire info` vs transmission-show), then bench/create_bench.sh if present, with its own
# defaults, bench/tracker_bench.sh if its load generator is built, and bench/transfer_bench.py
# (transfers vs libtorrent, aria2, Transmission and the machine's limits; TRANSFER_BENCH=0 skips
# it). The big torrent is generated once and shared, so the micro-benchmark and the
# whole-process comparison measure the same bytes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-bench}
bench_bin=$build/bench/bench_bencode
peerwire=$build/app/peerwire
for f in "$bench_bin" "$peerwire"; do
  if [[ ! -x $f ]]; then
    echo "run-all: $f not built (make bench builds it)" >&2
    exit 2
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Context first: on a shared machine the load average is what makes figures comparable.
if [[ -n ${MAKELEVEL:-} ]]; then
  invoked="make bench  (= bench/run-all.sh $build)"
else
  invoked="bench/run-all.sh $build"
fi
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$here" status --porcelain 2>/dev/null) ]]; then commit+=" (with local changes)"; fi
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
cxx=$(awk -F= '/^CMAKE_CXX_COMPILER:/ {print $2}' "$build/CMakeCache.txt" 2>/dev/null || true)
cxx_version=$("${cxx:-c++}" --version 2>/dev/null | head -1 || echo unknown)
build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$build/CMakeCache.txt" 2>/dev/null || true)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== generating the benchmark torrent"
torrent=$tmp/big-100000.torrent
python3 "$here/make_big_torrent.py" "$torrent" --files 100000 --seed 1

echo
echo "== bench_bencode (Google Benchmark, 5 repetitions, medians)"
PEERWIRE_BENCH_TORRENT=$torrent "$bench_bin" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_out="$tmp/bencode.json" \
  --benchmark_out_format=json

echo
echo "== bench/info_bench.sh"
TORRENT=$torrent INFO_BENCH_MARKDOWN=$tmp/info.md "$here/info_bench.sh" "$peerwire"

create_status=skipped
if [[ -f $here/create_bench.sh ]]; then
  echo
  echo "== bench/create_bench.sh"
  # Not fatal: its result is reported in the summary, and the figures above stay useful.
  create=("$here/create_bench.sh")
  [[ -x ${create[0]} ]] || create=(bash "${create[0]}")
  if "${create[@]}" "$peerwire" 2>&1 | tee "$tmp/create.txt"; then
    create_status=ok
  else
    create_status="failed (exit ${PIPESTATUS[0]})"
  fi
fi

tracker_status=skipped
if [[ -x $build/bench/bench_tracker_load ]]; then
  echo
  echo "== bench/tracker_bench.sh"
  if TRACKER_BENCH_MARKDOWN=$tmp/tracker.md "$here/tracker_bench.sh" "$peerwire" \
    "$build/bench/bench_tracker_load"; then
    tracker_status=ok
  else
    tracker_status="failed (exit $?)"
  fi
fi

# Transfers against libtorrent/aria2/Transmission and the machine's limits (issue 6). Long (about
# 15-30 min at the default 1 GiB x 3 runs); TRANSFER_BENCH=0 skips it, TRANSFER_BENCH_ARGS adds
# options (e.g. "--size 64M --runs 1" for a smoke run, "--only limits,lt-lt,peerwire-peerwire").
transfer_status=skipped
if [[ ${TRANSFER_BENCH:-1} != 0 && -f $here/transfer_bench.py ]]; then
  echo
  echo "== bench/transfer_bench.py"
  # shellcheck disable=SC2086  # TRANSFER_BENCH_ARGS is a list of options
  # --skip create: bench/create_bench.sh already ran above, on its larger default data.
  if python3 "$here/transfer_bench.py" "$peerwire" --out "$tmp/transfer.md" --skip create \
    ${TRANSFER_BENCH_ARGS:-}; then
    transfer_status=ok
  else
    transfer_status="failed (exit $?)"
  fi
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Google Benchmark's JSON -> one Markdown row per benchmark (median time and throughput).
bencode_table=$(python3 - "$tmp/bencode.json" "${build_type:-its configured mode}" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
rows = {}
for b in data["benchmarks"]:
    name = b.get("run_name", b["name"])
    agg = b.get("aggregate_name")
    if agg in ("median", "cv"):
        rows.setdefault(name, {})[agg] = b
what = {
    "BM_Decode": "`bencode::decode` (validate, build the token table)",
    "BM_ParseMetainfo": "`parse_metainfo` (decode, checks, file list, SHA-1 info-hash)",
    "BM_EncodeNode": "`bencode::encode(node)` of the decoded tree",
    "BM_EncodeValue": "`bencode::encode(value)` of an owning copy of it",
}
print("| Benchmark | What | Median time (ms) | Median throughput (MiB/s) | CV of time |")
print("|---|---|---:|---:|---:|")
for name, r in rows.items():
    med = r["median"]
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[med.get("time_unit", "ns")]
    cv = r.get("cv", {}).get("real_time")
    print("| %s | %s | %.2f | %.0f | %s |" % (
        name, what.get(name, ""), med["real_time"] * scale, med.get("bytes_per_second", 0) / 1048576,
        "%.1f%%" % (cv * 100) if cv is not None else "n/a"))
ctx = data["context"]
print()
print("Input: %s bytes, %s bencode values; re-encoding reproduces it byte for byte: %s."
      % (ctx.get("torrent_bytes"), ctx.get("bencode_tokens"), ctx.get("reencode_identical")))
if ctx.get("library_build_type") == "debug":
    # Debian's libbenchmark says so about itself; it does not change how our code is built.
    print("(Google Benchmark warns that *its own* library is a debug build, as Debian ships it;"
          " the code under test is built in %s.)" % sys.argv[2])
EOF
)

{
  echo "## Benchmark results — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- Command: \`$invoked\`"
  echo "- Commit: $commit; build: $build_type, $cxx_version"
  echo "- Machine: $cpu, $(nproc) CPUs; load average $load_before before, $load_after after"
  echo "  (a shared machine: treat differences under ~10% as noise)"
  echo
  echo "### bencode throughput (\`bench_bencode\`, 100 000-file torrent)"
  echo
  echo "$bencode_table"
  echo
  echo "### \`peerwire info\` vs \`transmission-show\` (\`bench/info_bench.sh\`)"
  echo
  cat "$tmp/info.md"
  if [[ $create_status != skipped ]]; then
    echo
    echo "### \`peerwire create\` (\`bench/create_bench.sh\`, default settings): $create_status"
    echo
    echo '```'
    # Only its results, not the progress lines.
    grep -v -e '^run [0-9]' -e '^generating ' -e '^warming ' "$tmp/create.txt" | sed '/./,$!d'
    echo '```'
  fi
  if [[ $tracker_status != skipped ]]; then
    echo
    echo "### \`peerwire tracker\` vs opentracker, announces/s (\`bench/tracker_bench.sh\`): $tracker_status"
    echo
    cat "$tmp/tracker.md" 2>/dev/null || true
  fi
  if [[ $transfer_status != skipped ]]; then
    echo
    echo "### Transfers (\`bench/transfer_bench.py\`): $transfer_status"
    echo
    # Its report, one heading level down, without its own title line.
    sed -E '/^## Transfer benchmarks/d; s/^(#+) /\1# /' "$tmp/transfer.md" 2>/dev/null |
      sed '/./,$!d' || true
  fi
} >"$tmp/summary.md"

cp "$tmp/summary.md" "$build/bench-results.md"
echo
echo "===== Markdown summary (paste into bench/RESULTS.md; saved as $build/bench-results.md) ====="
cat "$tmp/summary.md"
echo "===== end of summary ====="
[[ $create_status == ok || $create_status == skipped ]]
