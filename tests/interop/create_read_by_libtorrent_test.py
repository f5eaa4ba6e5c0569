"""Torrents made by `peerwire create` are read by libtorrent (python3-libtorrent) with the same
info-hash, file list, padding, flags, trackers and web seeds; and libtorrent, checking the
original data against the torrent, finds every piece hash right.
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
from pwtest import (MULTI_FILE_TREE, PIECE, TRACKER_A, TRACKER_B, TRACKER_C, WEB_SEED,  # noqa: E402
                    note)
import libtorrent as lt  # noqa: E402
from lt_support import assert_peerwire_matches_lt, lt_verify_data, lt_view  # noqa: E402


def expected_files(name, tree):
    """[(name/rel, size)] in bytewise path order: what a multi-file torrent must list."""
    return [(f"{name}/{rel}", len(v) if isinstance(v, bytes) else v)
            for rel, v in sorted(tree.items(), key=lambda kv: kv[0].encode())]


class CreateReadByLibtorrent(pwtest.TempDirCase):
    def make_multi(self, name="tree"):
        return pwtest.write_tree(self.path("data", name), MULTI_FILE_TREE)

    def create_json(self, src, out, *extra):
        """peerwire create --json; returns its parsed stdout."""
        proc = pwtest.run(["create", src, "-o", out, "--json", *extra], check=0)
        return json.loads(proc.stdout)

    def assert_data_checks(self, torrent):
        problem = lt_verify_data(torrent, self.path("data"))
        self.assertIsNone(problem, "libtorrent hash check of the original data")
        note("libtorrent re-hashed the data: every piece matches (seeding, progress 1.0)")

    def test_single_file(self):
        src = pwtest.single_file(self.path("data"))
        out = self.path("single.torrent")
        created = self.create_json(src, out, "--piece-size", "16K", "--no-date")
        v = lt_view(out)
        self.assertEqual(v["info_hash"], created["info_hash"])
        self.assertEqual(v["name"], "single.bin")
        self.assertEqual(v["files"], [("single.bin", 5 * PIECE + 123)])
        self.assertEqual(v["pads"], [])
        self.assertEqual((v["piece_length"], v["piece_count"]), (PIECE, 6))
        self.assertFalse(v["has_v2"])
        note(f"single file: info-hash {v['info_hash']}, name, size, 6 x 16 KiB pieces (odd last)")
        self.assert_data_checks(out)

    def test_multi_file_nested_empty_and_odd_last_piece(self):
        src = self.make_multi()
        out = self.path("tree.torrent")
        created = self.create_json(src, out, "--piece-size", "16K", "--no-date")
        v = lt_view(out)
        self.assertEqual(v["info_hash"], created["info_hash"])
        self.assertEqual(v["name"], "tree")
        self.assertEqual(v["files"], expected_files("tree", MULTI_FILE_TREE))
        self.assertEqual(v["pads"], [])
        total = sum(MULTI_FILE_TREE.values())
        self.assertEqual(v["piece_count"], -(-total // PIECE))
        self.assertNotEqual(total % PIECE, 0, "sample data should leave an odd last piece")
        self.assertEqual(created["file_count"], len(MULTI_FILE_TREE))
        self.assertEqual(created["total_size"], total)
        note(f"multi-file: {len(v['files'])} files (nested dirs, empty file) in order, "
             f"{v['piece_count']} pieces, info-hash {v['info_hash']}")
        self.assert_data_checks(out)

    def test_padding_files_are_pad_files_for_libtorrent(self):
        src = self.make_multi()
        plain, padded = self.path("plain.torrent"), self.path("padded.torrent")
        pwtest.create(src, plain, "--piece-size", "16K", "--no-date")
        created = self.create_json(src, padded, "--piece-size", "16K", "--no-date", "--pad")
        v, p = lt_view(padded), lt_view(plain)
        self.assertEqual(v["info_hash"], created["info_hash"])
        self.assertNotEqual(v["info_hash"], p["info_hash"], "padding must change the info-hash")
        self.assertEqual(v["files"], p["files"], "non-pad file list, with and without --pad")
        self.assertTrue(v["pads"], "libtorrent sees no file with flag_pad_file")
        # Every non-empty file starts on a piece boundary: that is what padding is for.
        for path, size in v["files"]:
            if size > 0:
                self.assertEqual(v["offsets"][path] % PIECE, 0, f"{path} is not piece-aligned")
        self.assertEqual(created["file_count"], len(MULTI_FILE_TREE), "file_count counts pads")
        assert_peerwire_matches_lt(self, pwtest.info_json(padded), v)  # pads agree too
        note(f"--pad: {len(v['pads'])} files flagged flag_pad_file by libtorrent, the other "
             f"{len(v['files'])} match the unpadded torrent and start on piece boundaries")
        self.assert_data_checks(padded)

    def test_private_source_trackers_web_seeds_comment_no_date(self):
        src = self.make_multi()
        out = self.path("meta.torrent")  # also read back by peerwire info, below
        created = self.create_json(
            src, out, "--piece-size", "16K", "--no-date", "--private", "--source", "SRC-1",
            "-t", f"{TRACKER_A},{TRACKER_B}", "-t", TRACKER_C, "-w", WEB_SEED,
            "-c", "a comment, with ünïcode")
        v = lt_view(out)
        self.assertEqual(v["info_hash"], created["info_hash"])
        self.assertTrue(v["private"], "lt priv()")
        self.assertEqual(v["trackers"], [sorted([TRACKER_A, TRACKER_B]), [TRACKER_C]], "tiers")
        self.assertEqual(v["web_seeds"], [WEB_SEED])
        self.assertEqual(v["comment"], "a comment, with ünïcode")
        self.assertEqual(v["creation_date"], 0, "--no-date: libtorrent must see no date")
        with open(out, "rb") as f:
            raw = lt.bdecode(f.read())
        self.assertEqual(raw[b"info"].get(b"source"), b"SRC-1", "info['source']")
        # The file itself keeps the URLs in command-line order (libtorrent shuffles in a tier).
        self.assertEqual(raw[b"announce-list"], [[TRACKER_A.encode(), TRACKER_B.encode()],
                                                 [TRACKER_C.encode()]])
        self.assertEqual(raw[b"announce"], TRACKER_A.encode())
        self.assertNotIn(b"creation date", raw)
        assert_peerwire_matches_lt(self, pwtest.info_json(out), v)
        note("private, source in info dict, tiers [[a,b],[c]], web seed, comment, no date; "
             "peerwire info agrees with libtorrent")
        self.assert_data_checks(out)

    def test_private_and_source_change_the_info_hash(self):
        src = self.make_multi()
        hashes = {}
        for label, extra in [("plain", []), ("private", ["-p"]), ("source", ["-s", "X"]),
                             ("both", ["-p", "-s", "X"])]:
            out = self.path(f"{label}.torrent")
            pwtest.create(src, out, "--piece-size", "16K", "--no-date", *extra)
            hashes[label] = lt_view(out)["info_hash"]
        self.assertEqual(len(set(hashes.values())), 4, f"info-hashes: {hashes}")
        note("libtorrent info-hashes differ for plain / -p / -s / -p -s")

    def test_magnet_link_is_parsed_by_libtorrent(self):
        src = self.make_multi("my tree & more")
        out = self.path("m.torrent")
        created = self.create_json(src, out, "--no-date", "-t", f"{TRACKER_A},{TRACKER_B}",
                                   "-t", TRACKER_C, "-w", WEB_SEED)
        for label, link in (("create --json", created["magnet"]),
                            ("info --json", pwtest.info_json(out)["magnet"])):
            atp = lt.parse_magnet_uri(link)
            self.assertEqual(str(atp.info_hashes.v1), created["info_hash"], label)
            self.assertEqual(atp.name, "my tree & more", label)
            self.assertEqual(sorted(atp.trackers), sorted([TRACKER_A, TRACKER_B, TRACKER_C]), label)
            self.assertEqual(atp.url_seeds, [WEB_SEED], label)
        note("magnet links from create and info: lt.parse_magnet_uri gives the same info-hash, "
             "name (with '&' and spaces), trackers, web seed")

    def test_single_tier_flag(self):
        src = pwtest.single_file(self.path("data"))
        out = self.path("tier.torrent")
        pwtest.create(src, out, "--no-date", "--tier", "-t", TRACKER_A, "-t",
                      f"{TRACKER_B},{TRACKER_C}")
        self.assertEqual(lt_view(out)["trackers"], [sorted([TRACKER_A, TRACKER_B, TRACKER_C])])
        note("--tier puts every -t URL in one tier (libtorrent tiers)")

    def test_creation_date_is_now_without_no_date(self):
        src = pwtest.single_file(self.path("data"))
        out = self.path("dated.torrent")
        before = int(time.time())
        pwtest.create(src, out)
        after = int(time.time())
        date = lt_view(out)["creation_date"]
        self.assertTrue(before <= date <= after, f"creation date {date} not in [{before}, {after}]")
        note(f"creation date {date} is the time of the run")

    def test_hash_check_detects_a_changed_byte(self):
        # Control for assert_data_checks: one changed byte must fail exactly its piece.
        src = self.make_multi()
        out = self.path("tree.torrent")
        pwtest.create(src, out, "--piece-size", "16K", "--no-date")
        offset = lt_view(out)["offsets"]["tree/sub/b.dat"] + 10
        with open(os.path.join(src, "sub", "b.dat"), "r+b") as f:
            f.seek(10)
            byte = f.read(1)
            f.seek(10)
            f.write(bytes([byte[0] ^ 0xff]))
        problem = lt_verify_data(out, self.path("data"))
        self.assertIsNotNone(problem, "libtorrent accepted corrupted data")
        self.assertIn(f"[{offset // PIECE}]", problem)
        note(f"a flipped byte fails piece {offset // PIECE} only: {problem}")

    def test_auto_piece_size_and_threads(self):
        # Default piece size and more hashing threads than pieces must still hash correctly.
        src = self.make_multi()
        out = self.path("auto.torrent")
        pwtest.create(src, out, "--threads", "8")
        v = lt_view(out)
        self.assertEqual(v["files"], expected_files("tree", MULTI_FILE_TREE))
        note(f"auto piece size {v['piece_length']}, --threads 8")
        self.assert_data_checks(out)


if __name__ == "__main__":
    pwtest.main()
