"""Torrents made by libtorrent's create_torrent (v1-only, hybrid v1+v2, v2-only) are read by
`peerwire info --json`: v1 and hybrid with the v1 info-hash, files, padding, pieces, flags,
trackers and web seeds that libtorrent itself reads; v2-only is refused cleanly (exit 2).
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
from pwtest import (MULTI_FILE_TREE, PIECE, TRACKER_A, TRACKER_B, TRACKER_C, WEB_SEED,  # noqa: E402
                    note)
import libtorrent as lt  # noqa: E402
from lt_support import assert_peerwire_matches_lt, lt_create, lt_view  # noqa: E402

V1_ONLY = lt.create_torrent.v1_only
V2_ONLY = lt.create_torrent.v2_only
TIERS = [[TRACKER_A, TRACKER_B], [TRACKER_C]]


class LibtorrentCreateReadByPeerwire(pwtest.TempDirCase):
    def tree(self):
        return pwtest.write_tree(self.path("data", "tree"), MULTI_FILE_TREE)

    def compare(self, torrent):
        pw = pwtest.info_json(torrent)
        ltv = lt_view(torrent)
        assert_peerwire_matches_lt(self, pw, ltv)
        return pw, ltv

    def test_v1_only_multi_file_with_metadata(self):
        out = lt_create(self.tree(), self.path("v1.torrent"), PIECE, flags=V1_ONLY,
                        trackers=TIERS, web_seeds=[WEB_SEED], private=True, comment="lt comment")
        pw, ltv = self.compare(out)
        self.assertFalse(ltv["has_v2"])
        self.assertEqual(pw["private"], True)
        self.assertEqual([sorted(t) for t in pw["trackers"]], [sorted(t) for t in TIERS])
        self.assertEqual(pw["web_seeds"], [WEB_SEED])
        self.assertEqual(pw["comment"], "lt comment")
        self.assertEqual(len(pwtest.content_files(pw)), len(MULTI_FILE_TREE))
        note(f"lt v1-only: info-hash {pw['info_hash']}, files, pieces, private, tiers, "
             "web seed, comment")

    def test_v1_only_single_file(self):
        src = pwtest.single_file(self.path("data"))
        pw, _ = self.compare(lt_create(src, self.path("one.torrent"), PIECE, flags=V1_ONLY))
        self.assertFalse(pw["multi_file"])
        self.assertEqual(pw["piece_count"], 6)
        note("lt v1-only single file: info-hash, name, size, 6 pieces")

    def test_hybrid_reports_the_v1_info_hash(self):
        out = lt_create(self.tree(), self.path("hybrid.torrent"), PIECE,
                        trackers=TIERS, web_seeds=[WEB_SEED])
        pw, ltv = self.compare(out)
        self.assertTrue(ltv["has_v2"], "libtorrent should have made a hybrid torrent")
        self.assertEqual(pw["info_hash"], ltv["info_hash"], "v1 info-hash of a hybrid")
        # Hybrid torrents pad every file (BEP 52); peerwire must see those as padding too.
        self.assertTrue(any(f["pad"] for f in pw["files"]), "no padding files in a hybrid")
        note(f"lt hybrid: peerwire reports lt's info_hashes().v1 {pw['info_hash']}, "
             f"{len(ltv['pads'])} pad files as pads, same real files and pieces")

    def test_hybrid_single_file(self):
        src = pwtest.single_file(self.path("data"))
        pw, ltv = self.compare(lt_create(src, self.path("h1.torrent"), PIECE))
        self.assertTrue(ltv["has_v2"])
        note(f"lt hybrid single file: v1 info-hash {pw['info_hash']}, file, pieces")

    def test_v2_only_is_refused_cleanly(self):
        out = lt_create(self.tree(), self.path("v2.torrent"), PIECE, flags=V2_ONLY)
        proc = pwtest.run(["info", out])
        err = proc.stderr.decode(errors="replace")
        self.assertEqual(proc.returncode, 2, f"exit code for a v2-only torrent; stderr: {err}")
        self.assertTrue(err.startswith("peerwire: ") and "at byte" in err, err)
        note(f"lt v2-only: exit 2, message: {err.strip()}")


if __name__ == "__main__":
    pwtest.main()
