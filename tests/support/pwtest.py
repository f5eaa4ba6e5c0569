"""Shared helpers for peerwire's script tests (tests/cli/*_test.py, tests/interop/*_test.py).

Standard library only (libtorrent helpers live in lt_support.py), so the CLI tests run on any
python3. Each test script calls pwtest.main(), which takes `--peerwire PATH` and then runs the
script's unittest cases verbosely, so ctest's log shows every case and what it compared.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

PEERWIRE = None          # path to the peerwire binary, set by main()
TIMEOUT = 60             # seconds for any one subprocess: the tests use only small data

# Loopback URLs that nothing listens on: a client that tries them stays on 127.0.0.1.
TRACKER_A = "http://127.0.0.1:9/a/announce"
TRACKER_B = "udp://127.0.0.1:9/b"
TRACKER_C = "http://127.0.0.1:9/c/announce"
WEB_SEED = "http://127.0.0.1:9/seed/"


def main():
    """Parses --peerwire, then runs the calling script's unittest cases; exits non-zero on failure."""
    global PEERWIRE
    parser = argparse.ArgumentParser(description=sys.modules["__main__"].__doc__)
    parser.add_argument("--peerwire", required=True, help="path to the built peerwire binary")
    args, rest = parser.parse_known_args()
    PEERWIRE = os.path.abspath(args.peerwire)
    if not os.access(PEERWIRE, os.X_OK):
        sys.exit(f"error: --peerwire {PEERWIRE} is not an executable file")
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


def note(what):
    """Prints one 'compared: ...' line, so the ctest log says what each case checked."""
    print(f"    compared: {what}", flush=True)


def run(args, *, stdin=None, cwd=None, timeout=TIMEOUT, check=None):
    """Runs peerwire with `args` (bytes out). `check`=expected exit code, asserted with output."""
    proc = subprocess.run([PEERWIRE] + [str(a) for a in args], input=stdin, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          stdin=None if stdin is not None else subprocess.DEVNULL)
    if check is not None and proc.returncode != check:
        raise AssertionError(
            f"peerwire {' '.join(map(str, args))}: exit {proc.returncode}, expected {check}\n"
            f"stdout: {proc.stdout.decode(errors='replace')}\n"
            f"stderr: {proc.stderr.decode(errors='replace')}")
    return proc


def run_tool(argv, *, cwd=None, timeout=TIMEOUT):
    """Runs another program (mktorrent, transmission-show); fails the test if it fails."""
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))}: exit {proc.returncode}\n"
                             f"{proc.stdout.decode(errors='replace')}"
                             f"{proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode("utf-8", errors="replace")


def info_json(torrent_or_magnet, **kw):
    """`peerwire info --json X` (must exit 0), parsed."""
    proc = run(["info", "--json", torrent_or_magnet], check=0, **kw)
    return json.loads(proc.stdout)


def create(path, out, *extra, cwd=None):
    """`peerwire create PATH -o OUT -q EXTRA...` (must exit 0); returns the torrent's bytes."""
    run(["create", path, "-o", out, "-q", *extra], cwd=cwd, check=0)
    with open(out, "rb") as f:
        return f.read()


class TempDirCase(unittest.TestCase):
    """A test case with a fresh temporary directory self.tmp, removed afterwards."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="peerwire-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)


def write_tree(root, spec, seed=1):
    """Creates files under `root` from {relative/path: size-in-bytes or bytes}.

    Sizes become deterministic pseudo-random bytes (same seed -> same data), so pieces differ
    from each other and a wrong offset in hashing shows up as a wrong hash.
    """
    rng = random.Random(seed)
    for rel, content in sorted(spec.items()):
        full = os.path.join(root, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = content if isinstance(content, bytes) else rng.randbytes(content)
        with open(full, "wb") as f:
            f.write(data)
    return root


# Piece length used by the sample data below: small so that files cross piece boundaries.
PIECE = 16384

# A multi-file tree: nested directories, an empty file, files that span and straddle piece
# boundaries, one exactly one piece long, and a total that leaves an odd last piece.
MULTI_FILE_TREE = {
    "a.bin": 3 * PIECE + 1000,           # crosses 3 boundaries, ends mid-piece
    "empty.txt": 0,                      # empty file
    "exact.bin": PIECE,                  # exactly one piece long (but not aligned)
    "sub/b.dat": 777,                    # small, inside a piece
    "sub/deeper/c.dat": 2 * PIECE - 5,   # nested two levels
    "sub/deeper/z.txt": 12345,           # last file: odd last piece
}


def single_file(root, name="single.bin", size=5 * PIECE + 123, seed=2):
    """A single file of `size` bytes in `root`; returns its path."""
    write_tree(root, {name: size}, seed=seed)
    return os.path.join(root, name)


def bencode(value):
    """Bencodes int / bytes / str / list / dict (keys sorted bytewise), for hand-made torrents."""
    if isinstance(value, bool):
        raise TypeError("bool is not bencodable")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return b"%d:%s" % (len(value), bytes(value))
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode("utf-8") if isinstance(k, str) else k, v)
                       for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


def content_files(pw_json):
    """[(path, size)] of the non-padding files in `peerwire info --json` output."""
    return [(f["path"], f["size"]) for f in pw_json["files"] if not f["pad"]]
