#!/usr/bin/env bash
# `make demo`: makes sample data, creates a torrent from it with `peerwire create`, shows it with
# `peerwire info`, then runs a local swarm on 127.0.0.1: one peerwire process seeds, another
# downloads (no tracker: --peer), and the result is compared byte for byte.
set -euo pipefail
peerwire=${1:-build/app/peerwire}
work=$(mktemp -d "${TMPDIR:-/tmp}/peerwire-demo.XXXXXX")
seed_pid=""
cleanup() {
  if [[ -n "$seed_pid" ]] && kill -0 "$seed_pid" 2>/dev/null; then kill "$seed_pid"; wait "$seed_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== sample data in $work/sample"
mkdir -p "$work/sample/docs" "$work/sample/media"
head -c $((48 * 1024 * 1024 + 12345)) /dev/urandom > "$work/sample/media/video.bin"
head -c $((3 * 1024 * 1024)) /dev/urandom > "$work/sample/media/cover.jpg"
printf 'peerwire demo\n' > "$work/sample/docs/README.txt"
: > "$work/sample/docs/empty.txt"

echo "== peerwire create"
"$peerwire" create "$work/sample" -o "$work/sample.torrent" --comment "made by make demo"

echo
echo "== peerwire info"
"$peerwire" info "$work/sample.torrent"

echo
echo "== peerwire info --json (first 300 bytes)"
"$peerwire" info --json "$work/sample.torrent" | head -c 300; echo " ..."

echo
echo "== a damaged torrent is rejected with the reason and exit code 2"
head -c 200 "$work/sample.torrent" > "$work/damaged.torrent"
set +e
"$peerwire" info "$work/damaged.torrent"
code=$?
set -e
echo "exit code: $code"
[[ $code -eq 2 ]]

echo
echo "== local swarm: a peerwire seeder and a peerwire downloader on 127.0.0.1"
port=$((20000 + RANDOM % 20000))
"$peerwire" seed "$work/sample.torrent" -d "$work" --bind 127.0.0.1 --port "$port" \
  --status-interval 3600 2>"$work/seed.log" &
seed_pid=$!
# Dial once the seeder listens (bounded: 10 s), not into a refused connection and its back-off.
for _ in $(seq 100); do
  grep -q "listening on port" "$work/seed.log" 2>/dev/null && break
  kill -0 "$seed_pid" || { cat "$work/seed.log"; exit 1; }
  sleep 0.1
done
mkdir -p "$work/download"
"$peerwire" download "$work/sample.torrent" -d "$work/download" --peer "127.0.0.1:$port" \
  --bind 127.0.0.1 --port $((port + 1)) --no-seed --status-interval 1
kill "$seed_pid"; wait "$seed_pid" || true; seed_pid=""
echo
echo "== comparing the downloaded files with the originals"
diff -r "$work/sample" "$work/download/sample" && echo "identical: every byte matches"
echo
echo "demo finished"
