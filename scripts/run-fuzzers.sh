#!/usr/bin/env bash
# Runs every fuzz target built in $1 for $2 seconds each. New inputs go to a scratch corpus
# in the build dir; the committed seeds in fuzz/corpus/<name>/ are only read. Crashes are
# saved to fuzz/artifacts/ (git-ignored) and fail the run.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/fuzz/artifacts"
status=0
for bin in "$build"/fuzz/fuzz_*; do
  name=$(basename "$bin")
  name=${name#fuzz_}
  scratch="$build/fuzz/corpus-$name"
  mkdir -p "$scratch" "$root/fuzz/corpus/$name"
  echo "== fuzz $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$root/fuzz/artifacts/$name-" "$scratch" "$root/fuzz/corpus/$name" \
      2>"$build/fuzz/$name.log"; then
    echo "!! fuzz $name found a failure; see $build/fuzz/$name.log and fuzz/artifacts/"
    tail -30 "$build/fuzz/$name.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/fuzz/$name.log" | tail -2
  fi
done
exit $status
