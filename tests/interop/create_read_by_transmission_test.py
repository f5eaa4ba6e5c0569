"""Torrents made by `peerwire create` are read by Transmission's `transmission-show` with the
same info-hash, file list, piece count, privacy, trackers (tiers), web seeds and comment.
"""
import os
import re
import shutil
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
from pwtest import MULTI_FILE_TREE, TRACKER_A, TRACKER_B, TRACKER_C, WEB_SEED, note  # noqa: E402

SHOW = shutil.which("transmission-show")


def transmission_show(torrent):
    """Parses transmission-show's report (3.x layout) into a dict."""
    text = pwtest.run_tool([SHOW, torrent])
    out = {"general": {}, "tiers": [], "web_seeds": [], "files": []}
    section = None
    for line in text.splitlines():
        if line in ("GENERAL", "TRACKERS", "WEBSEEDS", "FILES"):
            section = line
            continue
        if not line.strip():
            continue
        body = line[2:] if line.startswith("  ") else line
        if section == "GENERAL" and ": " in body:
            key, value = body.split(": ", 1)
            out["general"][key] = value
        elif section == "TRACKERS":
            if re.fullmatch(r"Tier #\d+", body):
                out["tiers"].append([])
            else:
                out["tiers"][-1].append(body)
        elif section == "WEBSEEDS":
            out["web_seeds"].append(body)
        elif section == "FILES":
            m = re.fullmatch(r"(.*) \([^()]*\)", body)  # "path (size)"
            if not m:
                raise AssertionError(f"unexpected FILES line from transmission-show: {line!r}")
            out["files"].append(m.group(1))
    return out


@unittest.skipIf(SHOW is None, "transmission-show is not installed (apt install transmission-cli)")
class CreateReadByTransmission(pwtest.TempDirCase):
    def create_and_show(self, src, *extra):
        out = self.path("t.torrent")
        pwtest.create(src, out, *extra)
        return pwtest.info_json(out), transmission_show(out)

    def test_single_file(self):
        src = pwtest.single_file(self.path("data"))
        pw, ts = self.create_and_show(src, "--piece-size", "16K", "--no-date")
        self.assertEqual(ts["general"]["Hash"], pw["info_hash"])
        self.assertEqual(ts["general"]["Name"], "single.bin")
        self.assertEqual(ts["files"], ["single.bin"])
        self.assertEqual(int(ts["general"]["Piece Count"]), pw["piece_count"])
        self.assertEqual(ts["general"]["Created on"], "Unknown", "--no-date")
        note(f"single file: hash {pw['info_hash']}, name, file list, piece count, no date")

    def test_multi_file(self):
        src = pwtest.write_tree(self.path("data", "tree"), MULTI_FILE_TREE)
        pw, ts = self.create_and_show(src, "--piece-size", "16K", "--no-date")
        self.assertEqual(ts["general"]["Hash"], pw["info_hash"])
        self.assertEqual(ts["general"]["Name"], "tree")
        # transmission-show sorts the files by name; compare as sorted lists.
        expected = sorted(f"tree/{rel}" for rel in MULTI_FILE_TREE)
        self.assertEqual(sorted(ts["files"]), expected)
        self.assertEqual(sorted(p for p, _ in pwtest.content_files(pw)), expected)
        self.assertEqual(int(ts["general"]["Piece Count"]), pw["piece_count"])
        note(f"multi-file: hash, {len(expected)} paths (nested dirs, empty file), piece count")

    def test_padding_files(self):
        # Transmission 3.x does not implement BEP 47: it lists padding files as ordinary files
        # (and counts them in Total Size). Correct for it is therefore: every real file is
        # listed, and padding entries are either all listed (under peerwire's names) or none.
        src = pwtest.write_tree(self.path("data", "tree"), MULTI_FILE_TREE)
        pw, ts = self.create_and_show(src, "--piece-size", "16K", "--no-date", "--pad")
        self.assertEqual(ts["general"]["Hash"], pw["info_hash"])
        real = {p for p, _ in pwtest.content_files(pw)}
        pads = {f["path"] for f in pw["files"] if f["pad"]}
        self.assertTrue(pads, "peerwire info shows no padding files for --pad")
        listed = set(ts["files"])
        self.assertEqual(len(listed), len(ts["files"]), "transmission-show lists a file twice")
        self.assertEqual(listed - pads, real, "real files seen by transmission-show")
        self.assertIn(listed & pads, (set(), pads), "some but not all padding files listed")
        note(f"--pad: hash, {len(real)} real files; transmission-show lists "
             f"{len(listed & pads)} of {len(pads)} padding files "
             f"({'as plain files' if listed & pads else 'hidden'})")

    def test_private_trackers_web_seeds_comment(self):
        src = pwtest.write_tree(self.path("data", "tree"), MULTI_FILE_TREE)
        pw, ts = self.create_and_show(
            src, "--no-date", "-p", "-s", "SRC", "-t", f"{TRACKER_A},{TRACKER_B}",
            "-t", TRACKER_C, "-w", WEB_SEED, "-c", "hello from peerwire")
        self.assertEqual(ts["general"]["Hash"], pw["info_hash"])
        self.assertEqual(ts["general"]["Privacy"], "Private torrent")
        self.assertEqual(ts["tiers"], [[TRACKER_A, TRACKER_B], [TRACKER_C]])
        self.assertEqual(ts["web_seeds"], [WEB_SEED])
        self.assertEqual(ts["general"]["Comment"], "hello from peerwire")
        self.assertEqual(ts["general"]["Created by"], pw["created_by"])
        note("private, tiers [[a,b],[c]] in order, web seed, comment, created by, hash")

    def test_public_and_dated(self):
        src = pwtest.single_file(self.path("data"))
        pw, ts = self.create_and_show(src)
        self.assertEqual(ts["general"]["Hash"], pw["info_hash"])
        self.assertEqual(ts["general"]["Privacy"], "Public torrent")
        self.assertNotEqual(ts["general"]["Created on"], "Unknown")
        self.assertEqual(ts["tiers"], [])
        note("public torrent, creation date present, no trackers")


if __name__ == "__main__":
    pwtest.main()
