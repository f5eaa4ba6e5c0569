#!/usr/bin/env python3
"""Writes the hostile and the legal-but-odd .torrent corpora (deterministic: running it again
gives byte-identical files, and the generated files are committed):

    tests/data/hostile/NAME.torrent   each must be refused (exit 2) by `peerwire info` and
                                      `peerwire download`; hostile/MANIFEST.json maps each file
                                      to what it does and to words the refusal must contain
    tests/data/odd/NAME.torrent       each must be accepted, with libtorrent's info-hash;
                                      odd/MANIFEST.json says what is odd about it

Checked by tests/cli/hostile_torrents_test.py. Run: python3 tests/data/make_hostile.py

Cases already covered by tests/cli/info_errors_test.py (plain garbage, an empty file, '../x'
as a name, '..' components, 'a/../../b' as one component, an empty component in the middle,
19-byte pieces, a missing info dictionary...) are not repeated one for one: these are their
neighbours (the same rule reached another way) plus the cases nothing covered yet.
"""
import hashlib
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PIECE = 16384
ANNOUNCE = "http://127.0.0.1:9/announce"


def benc(v):
    """Canonical bencoding (keys sorted); bytes and str are strings; RawBytes go in verbatim."""
    if isinstance(v, RawBytes):
        return v.data
    if isinstance(v, bool):
        raise TypeError("bool")
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode("utf-8")
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b"d" + b"".join(benc(k) + benc(x) for k, x in items) + b"e"
    if isinstance(v, Ordered):
        return b"d" + b"".join(benc(k) + benc(x) for k, x in v.items) + b"e"
    raise TypeError(type(v).__name__)


class RawBytes:
    """Bytes spliced into the output as they are (for malformed bencoding)."""

    def __init__(self, data):
        self.data = data


class Ordered:
    """A dictionary bencoded in the given key order (possibly unsorted or with duplicates)."""

    def __init__(self, *items):
        self.items = [(k.encode() if isinstance(k, str) else k, v) for k, v in items]


def pieces_for(total, piece=PIECE):
    """Fake piece hashes of the right count (the hostile files are refused before any data is
    read, so the values do not matter)."""
    n = max(1, -(-total // piece))
    return b"".join(hashlib.sha1(b"piece %d" % i).digest() for i in range(n))


def single(name=b"file.bin", length=1000, **extra):
    hashed = length if isinstance(length, int) else 1000
    info = {"length": length, "name": name, "piece length": PIECE, "pieces": pieces_for(hashed)}
    info.update(extra)
    return info


def multi(paths, lengths=None, name=b"dir"):
    lengths = lengths or [100] * len(paths)
    files = [{"length": n, "path": p} for p, n in zip(paths, lengths)]
    total = sum(n for n in lengths if n > 0)
    return {"files": files, "name": name, "piece length": PIECE, "pieces": pieces_for(total)}


def torrent(info):
    return benc({"announce": ANNOUNCE, "info": info})


def deep_list(depth):
    return b"l" * depth + b"e" * depth


# name -> (bytes, what it is, words the refusal must contain (case-insensitive, any one of
# each tuple)).
def hostile_cases():
    ok = torrent(single())
    cases = {}

    def add(name, data, what, *words):
        cases[name] = (data, what, [w if isinstance(w, (list, tuple)) else [w] for w in words])

    # --- paths that escape the download directory, or mean nothing ------------------------
    add("path_dotdot_middle", torrent(multi([[b"a", b"..", b"..", b"..", b"etc", b"x"]])),
        "'..' components after a normal one", "..")
    add("path_dotdot_only", torrent(multi([[b".."]])), "a file whose whole path is '..'", "..")
    add("path_dot", torrent(multi([[b".", b"a"]])), "a '.' component", ("'.'", "\".\"", " . "))
    add("name_dotdot", torrent(single(name=b"..")), "the torrent name is '..'", "..")
    add("name_dot", torrent(single(name=b".")), "the torrent name is '.'", "name")
    add("path_absolute", torrent(multi([[b"/etc/passwd"]])),
        "an absolute path as one component", "/etc/passwd")
    add("name_absolute", torrent(single(name=b"/tmp/peerwire-escape")),
        "an absolute path as the name", "/tmp/peerwire-escape")
    add("path_backslash", torrent(multi([[b"..\\..\\escape"]])),
        "Windows separators climbing out", ("backslash", "\\"))
    add("path_empty_list", torrent(multi([[]])), "a file with an empty path list", "empty path")
    add("path_empty_first", torrent(multi([[b"", b"x"]])), "an empty first component",
        "empty")
    add("name_empty", torrent(single(name=b"")), "an empty torrent name", "name")
    add("name_nul", torrent(single(name=b"a\x00b")), "a NUL byte in the name",
        ("nul", "control", "\\0", "?"))
    add("path_nul", torrent(multi([[b"a\x00.txt"]])), "a NUL byte in a file name",
        ("nul", "control", "\\0", "?"))
    add("path_duplicate", torrent(multi([[b"same"], [b"same"]])), "two files with one path",
        ("same", "twice", "duplicate"))
    add("path_file_and_dir", torrent(multi([[b"a"], [b"a", b"b"]])),
        "'a' is a file and a directory", ("a", "both"))
    add("path_utf8_dotdot",
        torrent({"files": [{"length": 100, "path": [b"ok"], "path.utf-8": [b"..", b"..", b"x"]}],
                 "name": b"dir", "piece length": PIECE, "pieces": pieces_for(100)}),
        "a harmless 'path' but '..' in the 'path.utf-8' that is preferred", "..")
    add("name_utf8_dotdot", torrent(dict(single(), **{"name.utf-8": b".."})),
        "a harmless 'name' but '..' in 'name.utf-8'", "..")
    add("pad_file_dotdot",
        torrent({"files": [{"length": 100, "path": [b"a"]},
                           {"attr": b"p", "length": PIECE - 100, "path": [b"..", b"pad"]},
                           {"length": 10, "path": [b"b"]}],
                 "name": b"dir", "piece length": PIECE, "pieces": pieces_for(PIECE + 10)}),
        "a padding file whose path climbs out (padding is never written, still refused)", "..")
    add("path_component_300_bytes", torrent(multi([[b"a" * 300]])),
        "a 300-byte file name (over NAME_MAX)", ("long", "255", "bytes"))
    add("path_is_string", torrent({"files": [{"length": 100, "path": b"x"}], "name": b"dir",
                                   "piece length": PIECE, "pieces": pieces_for(100)}),
        "'path' is a string, not a list", "path")
    add("files_is_dict", torrent({"files": {"a": 1}, "name": b"dir", "piece length": PIECE,
                                  "pieces": pieces_for(100)}), "'files' is a dictionary",
        "not a list")
    add("path_too_deep", torrent(multi([[b"d"] * 120 + [b"f"]])),
        "a file 121 directories deep", ("deep", "levels", "components"))
    # --- lengths and counts -----------------------------------------------------------------
    add("length_negative_in_files", torrent(multi([[b"a"], [b"b"]], lengths=[100, -1])),
        "a negative length in info.files", "negative")
    add("length_int64_overflow", torrent(single(length=RawBytes(b"i9223372036854775808e"))),
        "a length of 2^63 (does not fit 64 bits)", ("64 bits", "overflow"))
    add("length_huge_digits", torrent(single(length=RawBytes(b"i" + b"9" * 40 + b"e"))),
        "a 40-digit length", ("64 bits", "overflow"))
    add("length_total_overflow",
        torrent({"files": [{"length": 2**62, "path": [b"a"]}, {"length": 2**62, "path": [b"b"]},
                           {"length": 2**62, "path": [b"c"]}],
                 "name": b"dir", "piece length": 1 << 29, "pieces": pieces_for(1, 1)}),
        "file lengths whose sum overflows 64 bits", ("overflow", "pieces", "large", "too"))
    add("pieces_too_many", torrent(single(length=1000, pieces=pieces_for(5 * PIECE))),
        "five hashes for a one-piece file", "pieces")
    add("pieces_too_few", torrent(single(length=5 * PIECE, pieces=pieces_for(1))),
        "one hash for a five-piece file", "pieces")
    add("pieces_41_bytes", torrent(single(pieces=b"\x01" * 41)),
        "a pieces string of 41 bytes", ("41", "multiple of 20"))
    add("pieces_empty", torrent(single(pieces=b"")), "an empty pieces string", "pieces")
    add("piece_length_zero", torrent(dict(single(), **{"piece length": 0})),
        "piece length 0", "piece length")
    add("piece_length_negative", torrent(dict(single(), **{"piece length": -16384})),
        "a negative piece length", "piece length")
    add("piece_length_huge", torrent(dict(single(length=1000, pieces=pieces_for(1)),
                                          **{"piece length": 1 << 40})),
        "piece length 1 TiB", "piece length")
    add("length_zero_total", torrent(single(length=0, pieces=pieces_for(1))),
        "no data at all", ("no data", "size is 0", "empty"))
    add("files_empty_list", torrent({"files": [], "name": b"d", "piece length": PIECE,
                                     "pieces": pieces_for(1)}), "an empty files list", "empty")
    add("files_and_length", torrent(dict(multi([[b"a"]]), length=100)),
        "both 'length' and 'files'", "both")
    add("length_is_string", torrent(single(length=b"1000")), "the length is a string",
        ("length", "integer"))
    add("info_is_list", benc({"announce": ANNOUNCE, "info": [1, 2]}), "info is a list",
        "dictionary")
    add("root_is_list", benc([b"info", single()]), "the file is a list, not a dictionary",
        "dictionary")
    # --- bencoding ---------------------------------------------------------------------------
    add("deep_nesting", b"d8:announce" + benc(ANNOUNCE) + b"7:comment" + deep_list(5000) +
        b"4:info" + benc(single()) + b"e", "lists nested 5000 deep", ("nest", "deep", "depth"))
    add("string_length_huge", b"d8:announce999999999999:" + b"x" * 100 + b"e",
        "a string claiming 999 999 999 999 bytes", ("bytes", "remain", "long", "large"))
    add("string_length_overflow", b"d8:announce18446744073709551617:abc" + b"e",
        "a string length over 2^64", ("bytes", "remain", "long", "large", "overflow"))
    add("truncated_info", ok[:ok.index(b"6:pieces") - 3], "cut off inside the info dictionary",
        ("end", "truncated", "remain", "unterminated", "missing"))
    add("truncated_integer", b"d8:announce" + benc(ANNOUNCE) + b"4:infod6:lengthi12",
        "cut off inside an integer", ("end", "truncated", "remain", "unterminated", "integer"))
    add("trailing_torrent", ok + ok, "a second torrent after the first", ("after", "trailing"))
    add("trailing_newline", ok + b"\n", "a newline after the end", ("after", "trailing"))
    add("leading_zero_int", torrent(single(length=RawBytes(b"i01000e"))),
        "the integer 01000", ("leading zero", "zero"))
    add("negative_zero", torrent(dict(single(), private=RawBytes(b"i-0e"))),
        "the integer -0", ("-0", "negative zero", "zero"))
    add("plus_sign_int", torrent(single(length=RawBytes(b"i+1000e"))), "the integer +1000",
        ("integer", "digit", "+"))
    add("leading_zero_string_length",
        b"d8:announce" + benc(ANNOUNCE) + b"4:info" + benc(single()).replace(b"4:name", b"04:name"),
        "a string length written 04", ("leading zero", "zero"))
    add("duplicate_key", torrent(Ordered(("length", 1000), ("length", 5), ("name", b"f"),
                                         ("piece length", PIECE), ("pieces", pieces_for(1000)))),
        "'length' twice in the info dictionary", ("duplicate", "twice", "repeat"))
    add("unterminated_dict", ok[:-1], "the top dictionary never ends",
        ("end", "unterminated", "truncated", "remain", "missing"))
    add("key_not_string", b"di1e" + benc(ANNOUNCE) + b"e", "an integer as a dictionary key",
        ("key", "string"))
    return cases


def odd_cases():
    """Legal torrents that look unusual. Returns name -> (bytes, what is odd)."""
    cases = {}
    data_a = bytes(range(256)) * 40  # 10 240 bytes
    h = lambda blob: b"".join(hashlib.sha1(blob[i:i + PIECE]).digest()  # noqa: E731
                              for i in range(0, len(blob), PIECE))
    # Unsorted keys (both levels): the info-hash is over the bytes as written.
    cases["unsorted_keys"] = (
        b"d4:info" + benc(Ordered(("pieces", h(data_a)), ("name", b"unsorted.bin"),
                                   ("length", len(data_a)), ("piece length", PIECE))) +
        b"8:announce" + benc(ANNOUNCE) + b"e",
        "keys out of order in the top and info dictionaries")
    cases["unknown_keys"] = (
        benc({"announce": ANNOUNCE, "x-unknown": {"nested": [1, b"two"]},
              "info": dict(single(b"unknown.bin", len(data_a), pieces=h(data_a)),
                           **{"x-private-note": b"kept in the hash", "zz": 7})}),
        "unknown keys at the top and inside info (part of the info-hash)")
    utf = {"files": [{"length": 3000, "path": ["caf\u00e9", "\u65e5\u672c\u8a9e.txt"]},
                     {"length": 2000, "path": ["\u00fcber \U0001F600.bin"]}],
           "name": "donn\u00e9es \u2603", "piece length": PIECE,
           "pieces": pieces_for(5000)}
    cases["utf8_names"] = (torrent(utf), "UTF-8 names: accents, CJK, an emoji, a snowman")
    empty = {"files": [{"length": 0, "path": [b"empty-first"]},
                       {"length": 4000, "path": [b"data.bin"]},
                       {"length": 0, "path": [b"sub", b"empty-inside"]},
                       {"length": 0, "path": [b"z-empty-last"]}],
             "name": b"with-empty-files", "piece length": PIECE, "pieces": pieces_for(4000)}
    cases["empty_files"] = (torrent(empty), "zero-length files first, inside a directory, last")
    pad = {"files": [{"length": 1000, "path": [b"a.bin"]},
                     {"attr": b"p", "length": PIECE - 1000, "path": [b".pad", b"15384"]},
                     {"length": 2000, "path": [b"b.bin"]}],
           "name": b"padded", "piece length": PIECE, "pieces": pieces_for(PIECE + 2000)}
    cases["padding_files"] = (torrent(pad), "a BEP 47 padding file between two files")
    cases["single_byte"] = (torrent(single(b"one-byte", 1)), "one byte of data")
    return cases


def write_corpus(directory, cases, manifest):
    if os.path.isdir(directory):
        shutil.rmtree(directory)
    os.makedirs(directory)
    for name, blob in cases.items():
        with open(os.path.join(directory, name + ".torrent"), "wb") as f:
            f.write(blob)
    with open(os.path.join(directory, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True, ensure_ascii=True)
        f.write("\n")


def main():
    hostile = hostile_cases()
    write_corpus(os.path.join(HERE, "hostile"), {k: v[0] for k, v in hostile.items()},
                 {k: {"what": v[1], "words": v[2]} for k, v in hostile.items()})
    odd = odd_cases()
    write_corpus(os.path.join(HERE, "odd"), {k: v[0] for k, v in odd.items()},
                 {k: {"what": v[1]} for k, v in odd.items()})
    print(f"wrote {len(hostile)} hostile and {len(odd)} odd torrents under {HERE}")


if __name__ == "__main__":
    sys.exit(main())
