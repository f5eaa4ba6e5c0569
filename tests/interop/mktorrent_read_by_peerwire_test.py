"""Torrents made by `mktorrent` are read by `peerwire info --json` with the same info-hash, name,
files, piece length and count, private flag, trackers and web seeds as libtorrent reads from
the same file (libtorrent is the independent reference reader).
"""
import os
import shutil
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
from pwtest import MULTI_FILE_TREE, TRACKER_A, TRACKER_B, TRACKER_C, WEB_SEED, note  # noqa: E402
import libtorrent as lt  # noqa: E402
from lt_support import assert_peerwire_matches_lt, lt_view  # noqa: E402

MKTORRENT = shutil.which("mktorrent")

# Crosses several 256 KiB (mktorrent's default -l 18) piece boundaries; odd last piece.
BIG_TREE = {
    "a.bin": 300000,
    "b/c.bin": 262144,
    "b/e.txt": 0,
    "b/f/g.bin": 70000,
    "z.bin": 150001,
}


@unittest.skipIf(MKTORRENT is None, "mktorrent is not installed")
class MktorrentReadByPeerwire(pwtest.TempDirCase):
    def mktorrent(self, src, *args):
        out = self.path("mk.torrent")
        pwtest.run_tool([MKTORRENT, *args, "-o", out, src])
        return out

    def compare(self, torrent):
        pw = pwtest.info_json(torrent)
        ltv = lt_view(torrent)
        assert_peerwire_matches_lt(self, pw, ltv)
        return pw

    def test_default_piece_length_multi_file(self):
        src = pwtest.write_tree(self.path("data", "big"), BIG_TREE)
        pw = self.compare(self.mktorrent(src, "-l", "18"))
        self.assertEqual(pw["piece_length"], 1 << 18)
        self.assertEqual(len(pw["files"]), len(BIG_TREE))
        self.assertTrue(pw["created_by"].startswith("mktorrent"), pw["created_by"])
        self.assertTrue(pw["creation_date"])
        note(f"mktorrent -l 18: info-hash {pw['info_hash']}, {len(pw['files'])} files, "
             f"{pw['piece_count']} x 256 KiB pieces")

    def test_small_pieces_nested_and_empty(self):
        src = pwtest.write_tree(self.path("data", "tree"), MULTI_FILE_TREE)
        pw = self.compare(self.mktorrent(src, "-l", "15"))
        self.assertIn(("tree/empty.txt", 0), pwtest.content_files(pw))
        note(f"mktorrent -l 15 of the nested tree with an empty file: {pw['piece_count']} "
             "pieces, info-hash, files")

    def test_single_file(self):
        src = pwtest.single_file(self.path("data"))
        pw = self.compare(self.mktorrent(src, "-l", "15"))
        self.assertFalse(pw["multi_file"])
        self.assertEqual([f["path"] for f in pw["files"]], ["single.bin"])
        note("mktorrent single file: info-hash, name, size, pieces")

    def test_private_trackers_web_seeds_comment_source(self):
        src = pwtest.write_tree(self.path("data", "tree"), MULTI_FILE_TREE)
        torrent = self.mktorrent(src, "-l", "15", "-p", "-a", f"{TRACKER_A},{TRACKER_B}",
                                 "-a", TRACKER_C, "-w", WEB_SEED, "-c", "mk comment",
                                 "-s", "SRC-MK", "-d")
        pw = self.compare(torrent)
        self.assertTrue(pw["private"])
        # Exact order, read from the file itself (libtorrent shuffles inside a tier).
        with open(torrent, "rb") as f:
            raw = lt.bdecode(f.read())
        tiers = [[u.decode() for u in tier] for tier in raw[b"announce-list"]]
        self.assertEqual(tiers, [[TRACKER_A, TRACKER_B], [TRACKER_C]])
        self.assertEqual(pw["trackers"], tiers)
        self.assertEqual(pw["web_seeds"], [WEB_SEED])
        self.assertEqual(pw["comment"], "mk comment")
        self.assertEqual(pw["source"], "SRC-MK")
        self.assertIsNone(pw["creation_date"], "mktorrent -d writes no date")
        note("mktorrent -p, two -a tiers, -w, -c, -s, -d: private, tiers in order, web seed, "
             "comment, source, no date")

    def test_peerwire_and_mktorrent_agree_on_the_info_hash(self):
        # Same data, piece length, flags and no date: both tools write the same info dict.
        src = pwtest.write_tree(self.path("data", "tree"), MULTI_FILE_TREE)
        mk = self.mktorrent(src, "-l", "15", "-p")
        ours = self.path("ours.torrent")
        pwtest.create(src, ours, "--piece-size", "32K", "-p", "--no-date")
        self.assertEqual(pwtest.info_json(ours)["info_hash"], pwtest.info_json(mk)["info_hash"])
        note("peerwire create and mktorrent give the same info-hash for the same tree")


if __name__ == "__main__":
    pwtest.main()
