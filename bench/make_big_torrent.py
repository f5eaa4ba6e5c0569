#!/usr/bin/env python3
"""Write a large, valid multi-file .torrent for benchmarks (standard library only).

    bench/make_big_torrent.py OUT.torrent [--files N] [--seed S]

The layout imitates a real bulk torrent (a photo/music/source archive): a few levels of
nested directories, file names of varied length and extension, sizes log-uniform between
512 B and 16 MiB. The pieces string has exactly the right length for the total size; its
bytes are pseudo-random because nothing in a benchmark verifies data. The same N and seed
always produce the same bytes, so runs on different days are comparable.

The default N (100 000) keeps the file under peerwire's 10 MB input limit: the point is to
measure parsing, not to hit the limit.
"""

import argparse
import random
import sys

# peerwire's default bencode::limits::max_input_size; warn rather than fail so a bigger
# torrent can still be produced on purpose (e.g. to benchmark transmission-show alone).
PEERWIRE_INPUT_LIMIT = 10 * 1024 * 1024


def bencode(value, out):
    """Canonical bencode: dict keys sorted as raw bytes, which is what BEP 3 requires."""
    if isinstance(value, bool):
        raise TypeError("bool is not a bencode type")
    if isinstance(value, int):
        out += b"i%de" % value
    elif isinstance(value, str):
        bencode(value.encode("utf-8"), out)
    elif isinstance(value, (bytes, bytearray)):
        out += b"%d:" % len(value)
        out += value
    elif isinstance(value, list):
        out += b"l"
        for item in value:
            bencode(item, out)
        out += b"e"
    elif isinstance(value, dict):
        out += b"d"
        keys = {(k.encode("utf-8") if isinstance(k, str) else k): v for k, v in value.items()}
        for key in sorted(keys):
            bencode(key, out)
            bencode(keys[key], out)
        out += b"e"
    else:
        raise TypeError("cannot bencode %r" % type(value))


WORDS = (
    "alpha beta gamma delta summer winter archive backup holiday project report draft final "
    "scan invoice track session live remix chapter lecture notes slides dataset sample raw "
    "export render frame clip camera vacation family concert studio demo master"
).split()
EXTENSIONS = ("jpg", "jpg", "jpg", "png", "flac", "mp3", "txt", "pdf", "cpp", "json", "mkv", "csv")


def make_files(n, rng):
    files = []
    top = max(1, n // 2000)  # ~2000 files under each top-level directory
    for i in range(n):
        a = i % top
        b = rng.randrange(20)
        dirs = ["%s-%03d" % (WORDS[a % len(WORDS)], a), "%04d-%02d" % (2000 + b, 1 + b % 12)]
        if rng.random() < 0.3:  # some files one level deeper, so depth varies
            dirs.append(rng.choice(WORDS))
        words = "_".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 4)))
        name = "%s_%06d.%s" % (words, i, rng.choice(EXTENSIONS))
        size = int(2 ** rng.uniform(9, 24))  # 512 B .. 16 MiB, log-uniform
        files.append({"length": size, "path": dirs + [name]})
    return files


def piece_length_for(total):
    # Smallest power of two >= 256 KiB giving at most ~40 000 pieces, like common creators.
    length = 256 * 1024
    while (total + length - 1) // length > 40000 and length < (1 << 24):
        length *= 2
    return length


def make_torrent(n, seed):
    rng = random.Random(seed)
    files = make_files(n, rng)
    total = sum(f["length"] for f in files)
    plen = piece_length_for(total)
    pieces = (total + plen - 1) // plen
    info = {
        "name": "peerwire-bench-%d-files" % n,
        "piece length": plen,
        "pieces": rng.randbytes(20 * pieces),
        "files": files,
    }
    return {
        "announce": "http://tracker.example.org:6969/announce",
        "announce-list": [
            ["http://tracker.example.org:6969/announce"],
            ["udp://tracker.example.net:1337/announce", "udp://backup.example.net:80/announce"],
        ],
        "comment": "synthetic torrent for peerwire benchmarks (seed %d)" % seed,
        "created by": "peerwire bench/make_big_torrent.py",
        "creation date": 1700000000,
        "info": info,
    }, total, pieces


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="output .torrent path")
    ap.add_argument("--files", type=int, default=100000, help="number of files (default 100000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = ap.parse_args()
    if args.files < 1:
        ap.error("--files must be at least 1")

    torrent, total, pieces = make_torrent(args.files, args.seed)
    out = bytearray()
    bencode(torrent, out)
    with open(args.out, "wb") as f:
        f.write(out)
    print(
        "%s: %d bytes, %d files, %d bytes of content, %d pieces"
        % (args.out, len(out), args.files, total, pieces),
        file=sys.stderr,
    )
    if len(out) > PEERWIRE_INPUT_LIMIT:
        print(
            "warning: larger than peerwire's default %d-byte input limit" % PEERWIRE_INPUT_LIMIT,
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
