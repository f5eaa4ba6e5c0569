#!/usr/bin/env bash
# Runs every fuzz target built in $1 for $2 seconds each (`make fuzz`, and CI with a few
# seconds each). New inputs go to a scratch corpus in the build dir (build/fuzz/corpus-<name>/);
# the committed seeds in fuzz/corpus/<name>/ are only read. Crashes are saved to
# fuzz/artifacts/ (git-ignored) and fail the run. Ends with a table: executions per target.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-fuzz}
seconds=${2:-60}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "run-fuzzers: seconds must be a positive integer, not '$seconds'" >&2
  exit 2
fi
targets=()
for bin in "$build"/fuzz/fuzz_*; do
  # Only the executables: the glob also sees CMake's helper files, or nothing at all.
  [ -f "$bin" ] && [ -x "$bin" ] && targets+=("$bin")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "run-fuzzers: no fuzz targets in $build/fuzz (build with -DPEERWIRE_FUZZ=ON)" >&2
  exit 2
fi
mkdir -p "$root/fuzz/artifacts"
status=0
summary=()
for bin in "${targets[@]}"; do
  name=$(basename "$bin")
  name=${name#fuzz_}
  scratch="$build/fuzz/corpus-$name"
  log="$build/fuzz/$name.log"
  mkdir -p "$scratch"
  # The committed seeds are read when there are some (a new target may have none yet).
  seeds=()
  [ -d "$root/fuzz/corpus/$name" ] && seeds=("$root/fuzz/corpus/$name")
  echo "== fuzz $name for ${seconds}s"
  # A hard stop well after -max_total_time: a hang inside one input is caught by -timeout,
  # but nothing may keep CI waiting forever.
  if timeout --kill-after=30 $((seconds + 120)) "$bin" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$root/fuzz/artifacts/$name-" \
      "$scratch" "${seeds[@]}" 2>"$log"; then
    result=ok
  else
    result=FAILED
    status=1
    echo "!! fuzz $name found a failure; see $log and fuzz/artifacts/"
    tail -30 "$log"
  fi
  execs=$(grep -Eo "stat::number_of_executed_units: *[0-9]+" "$log" | grep -Eo "[0-9]+$" | tail -1)
  speed=$(grep -Eo "stat::average_exec_per_sec: *[0-9]+" "$log" | grep -Eo "[0-9]+$" | tail -1)
  cov=$(grep -Eo "cov: [0-9]+" "$log" | tail -1 | grep -Eo "[0-9]+" || true)
  summary+=("$(printf '%-22s %-7s %12s execs %9s/s  cov %s' "$name" "$result" "${execs:-?}" \
    "${speed:-?}" "${cov:-?}")")
done
echo "== fuzz summary (${seconds}s each)"
printf '%s\n' "${summary[@]}"
exit $status
