"""Hostile text never reaches the terminal raw: control characters and ANSI escapes in a
torrent's name, comment, trackers..., in a magnet link, or in a path given to `create`, are
printed as '?' by the text output and error messages, and escaped in --json output.
"""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
from pwtest import bencode, note  # noqa: E402

# ESC [31m (colour), BEL, CR, C1 CSI as UTF-8 (U+009B), a lone 0x9b byte (invalid UTF-8), DEL.
EVIL = b"\x1b[31mRED\x07\r\xc2\x9b2J\x9b\x7f"
ESC = "\x1b"


def raw_controls(data):
    """Offsets of terminal control bytes in `data`: C0 except '\\n', DEL, and UTF-8 C1."""
    bad = [i for i, b in enumerate(data) if (b < 0x20 and b != 0x0a) or b == 0x7f]
    bad += [i for i in range(len(data) - 1) if data[i] == 0xc2 and 0x80 <= data[i + 1] <= 0x9f]
    return sorted(bad)


class HostileNames(pwtest.TempDirCase):
    def assert_clean(self, label, data):
        bad = raw_controls(data)
        if bad:
            self.fail(f"{label}: {len(bad)} raw terminal control byte(s), first at offset "
                      f"{bad[0]}: {data[max(0, bad[0] - 40):bad[0] + 40]!r}")

    def hostile_torrent(self, name=b"plain-name"):
        p = self.path("evil.torrent")
        with open(p, "wb") as f:
            f.write(bencode({
                "announce": b"http://127.0.0.1:9/" + EVIL, "comment": b"c" + EVIL,
                "created by": b"cb" + EVIL, "url-list": [b"http://127.0.0.1:9/" + EVIL],
                "info": {"length": 5, "name": name, "piece length": 16384,
                         "pieces": b"\xaa" * 20, "source": b"s" + EVIL}}))
        return p

    def test_info_text_replaces_controls_with_question_marks(self):
        proc = pwtest.run(["info", self.hostile_torrent()], check=0)
        self.assert_clean("info stdout", proc.stdout)
        self.assert_clean("info stderr", proc.stderr)
        out = proc.stdout.decode("utf-8")
        for label in ("Comment:", "Source:", "Created:"):
            line = next(l for l in out.splitlines() if l.startswith(label))
            self.assertIn("?[31mRED", line, f"{label} should show '?' for ESC")
        note("comment, source, created by, tracker, web seed with ESC/BEL/CR/C1/DEL: "
             "text output has none raw, shows '?[31mRED'")

    def test_info_json_escapes_c0_controls(self):
        proc = pwtest.run(["info", "--json", self.hostile_torrent()], check=0)
        self.assertNotIn(b"\x1b", proc.stdout)
        self.assertNotIn(b"\x07", proc.stdout)
        self.assertNotIn(b"\r", proc.stdout)
        j = json.loads(proc.stdout)
        self.assertTrue(j["comment"].startswith("c\x1b[31mRED\x07\r"), "JSON keeps the text")
        note("--json: ESC, BEL, CR escaped (\\u001b...), decoded text intact")

    def test_info_json_escapes_c1_and_del(self):
        # JSON allows U+007F..U+009F unescaped, but U+009B is CSI for many terminals; `info
        # --json` is often read on a terminal, so they should be \\u-escaped like C0 controls.
        proc = pwtest.run(["info", "--json", self.hostile_torrent()], check=0)
        self.assert_clean("info --json stdout", proc.stdout)
        note("--json: no raw DEL or C1 (U+0080..U+009F) bytes")

    def test_control_characters_in_the_name_are_rejected_cleanly(self):
        for label, name in (("name", b"n" + EVIL), ("name with only ESC", b"a\x1b[2Jb")):
            proc = pwtest.run(["info", self.hostile_torrent(name)])
            self.assertEqual(proc.returncode, 2, label)
            self.assertIn(b"control character", proc.stderr)
            self.assert_clean(f"{label}: stderr", proc.stderr)
            self.assertIn(b"?[", proc.stderr, f"{label}: the name should be shown with '?'")
        note("torrent name with ESC: exit 2, message shows it with '?', nothing raw")

    def test_file_path_with_controls_rejected_cleanly(self):
        p = self.path("files.torrent")
        with open(p, "wb") as f:
            f.write(bencode({"info": {"files": [{"length": 5, "path": [b"f" + EVIL]}],
                                      "name": "dir", "piece length": 16384,
                                      "pieces": b"\xaa" * 20}}))
        proc = pwtest.run(["info", p])
        self.assertEqual(proc.returncode, 2)
        self.assert_clean("stderr", proc.stderr)
        note("file path with ESC: exit 2, message clean")

    def test_magnet_display_name_and_errors(self):
        link = ("magnet:?xt=urn:btih:" + "ab" * 20 +
                "&dn=%1B%5B2J%07x%C2%9B&tr=http%3A%2F%2F127.0.0.1%3A9%2F%1B%5B31m")
        proc = pwtest.run(["info", link], check=0)
        self.assert_clean("magnet info stdout", proc.stdout)
        self.assertIn(b"?[2J?x?", proc.stdout)
        bad = pwtest.run(["info", "magnet:?xt=urn:btih:zz%1b[2J%07"])
        self.assertEqual(bad.returncode, 2)
        self.assert_clean("bad magnet stderr", bad.stderr)
        note("magnet dn/tr with ESC/BEL/C1: shown as '?'; error quoting a bad hash is clean")

    def test_missing_torrent_path_with_escape(self):
        proc = pwtest.run(["info", self.path(f"no{ESC}[2Jsuch.torrent")])
        self.assertEqual(proc.returncode, 3)
        self.assert_clean("stderr", proc.stderr)
        note("info of a missing file named with ESC: exit 3, message clean")

    # create ---------------------------------------------------------------------------

    def test_create_with_hostile_comment_and_tracker(self):
        src = pwtest.single_file(self.path("data"))
        out = self.path("c.torrent")
        proc = pwtest.run(["create", src, "-o", out, "-c", f"hi{ESC}[2J", "-t",
                           f"http://127.0.0.1:9/{ESC}[31m"], check=0)
        self.assert_clean("create stdout", proc.stdout)
        self.assert_clean("create stderr", proc.stderr)
        info = pwtest.run(["info", out], check=0)
        self.assert_clean("info stdout", info.stdout)
        self.assertIn(b"hi?[2J", info.stdout)
        note("create -c/-t with ESC: create output clean; info shows 'hi?[2J'")

    def test_create_name_option_with_escape(self):
        src = pwtest.single_file(self.path("data"))
        proc = pwtest.run(["create", src, "-o", self.path("n.torrent"), "-n", f"a{ESC}[2Jb"])
        self.assertEqual(proc.returncode, 1)
        self.assert_clean("stderr", proc.stderr)
        note("create --name with ESC: exit 1, message clean")

    def test_create_file_inside_with_escape(self):
        src = pwtest.write_tree(self.path("data", "tree"), {f"a{ESC}[31mb": 10, "ok": 10})
        proc = pwtest.run(["create", src, "-o", self.path("f.torrent")])
        self.assertNotEqual(proc.returncode, 0)
        self.assert_clean("stderr", proc.stderr)
        note(f"create of a tree holding a file named with ESC: exit {proc.returncode}, clean")

    def test_create_source_dir_with_escape(self):
        # The directory name itself is hostile (e.g. from `peerwire create *`).
        src = pwtest.write_tree(self.path("data", f"e{ESC}[2Jdir"), {"f": 10})
        proc = pwtest.run(["create", src, "-o", self.path("d.torrent")])
        self.assertNotEqual(proc.returncode, 0)
        self.assert_clean("create stderr", proc.stderr)
        note("create of a directory named with ESC: message clean")

    def test_create_missing_source_with_escape(self):
        proc = pwtest.run(["create", self.path(f"miss{ESC}[2Jing"), "-o", self.path("m.torrent")])
        self.assertEqual(proc.returncode, 3)
        self.assert_clean("create stderr", proc.stderr)
        note("create of a missing path named with ESC: exit 3, message clean")

    def test_create_existing_output_with_escape(self):
        src = pwtest.single_file(self.path("data"))
        out = self.path(f"o{ESC}[2J.torrent")
        with open(out, "wb") as f:
            f.write(b"keep")
        proc = pwtest.run(["create", src, "-o", out])
        self.assertEqual(proc.returncode, 3)
        self.assert_clean("create stderr", proc.stderr)
        note("create -o EXISTING-with-ESC: exit 3, message clean")

    def test_create_unwritable_output_with_escape(self):
        src = pwtest.single_file(self.path("data"))
        proc = pwtest.run(["create", src, "-o", self.path(f"no{ESC}[2Jdir", "x.torrent")])
        self.assertEqual(proc.returncode, 3)
        self.assert_clean("create stderr", proc.stderr)
        note("create -o into a missing dir named with ESC: exit 3, message clean")


if __name__ == "__main__":
    pwtest.main()
