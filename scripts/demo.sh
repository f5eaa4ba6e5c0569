#!/usr/bin/env bash
# `make demo`: makes sample data, creates a torrent from it with `peerwire create`, and shows it
# with `peerwire info`. (When downloading lands, this becomes a local seeder -> leecher swarm.)
set -euo pipefail
peerwire=${1:-build/app/peerwire}
work=$(mktemp -d "${TMPDIR:-/tmp}/peerwire-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== sample data in $work/sample"
mkdir -p "$work/sample/docs" "$work/sample/media"
head -c $((48 * 1024 * 1024 + 12345)) /dev/urandom > "$work/sample/media/video.bin"
head -c $((3 * 1024 * 1024)) /dev/urandom > "$work/sample/media/cover.jpg"
printf 'peerwire demo\n' > "$work/sample/docs/README.txt"
: > "$work/sample/docs/empty.txt"

echo "== peerwire create"
"$peerwire" create "$work/sample" -o "$work/sample.torrent" \
  -t http://127.0.0.1:6969/announce -t udp://127.0.0.1:6969/announce \
  -w http://127.0.0.1:8080/files/ --comment "made by make demo"

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
echo "demo finished"
