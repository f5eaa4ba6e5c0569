"""`peerwire info`: exit codes (0 ok, 1 usage, 2 bad torrent, 3 missing/unreadable file), error
messages that name the problem and its byte offset, and reading a torrent from stdin ('-').
The bad torrents are bencoded by hand, so each defect is exactly where the test says.
"""
import hashlib
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
from pwtest import bencode, note  # noqa: E402

EXIT_OK, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_IO = 0, 1, 2, 3


def single_info(name=b"file.bin", length=5, pieces=b"\xaa" * 20):
    return {"length": length, "name": name, "piece length": 16384, "pieces": pieces}


def multi_info(paths, name=b"dir"):
    files = [{"length": 1, "path": p} for p in paths]
    return {"files": files, "name": name, "piece length": 16384, "pieces": b"\xbb" * 20}


def torrent(info):
    return bencode({"announce": "http://127.0.0.1:9/announce", "info": info})


class InfoErrors(pwtest.TempDirCase):
    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def expect_bad(self, name, data, *, words=(), at=None):
        """`peerwire info` on `data` must exit 2 and say 'at byte N' (N == at, when given)."""
        proc = pwtest.run(["info", self.write(name, data)])
        err = proc.stderr.decode(errors="replace")
        self.assertEqual(proc.returncode, EXIT_BAD_INPUT, f"{name}: stderr {err!r}")
        self.assertEqual(proc.stdout, b"", "nothing on stdout for a bad torrent")
        self.assertIn(name, err, "message names the file")
        m = re.search(r"at byte (\d+)", err)
        self.assertIsNotNone(m, f"no 'at byte N' in {err!r}")
        if at is not None:
            self.assertIn(int(m.group(1)), at if isinstance(at, tuple) else (at,), err)
        for w in words:
            self.assertIn(w, err)
        note(f"{name}: exit 2, {err.strip()}")
        return err

    def test_valid_torrent_exit_0_and_info_hash(self):
        info = single_info()
        p = self.write("ok.torrent", torrent(info))
        pw = pwtest.info_json(p)
        self.assertEqual(pw["info_hash"], hashlib.sha1(bencode(info)).hexdigest())
        self.assertEqual(pw["files"][0]["path"], "file.bin")
        note("hand-made torrent: exit 0, info-hash == sha1(bencoded info)")

    def test_garbage(self):
        self.expect_bad("garbage.torrent", b"this is not bencode", at=0)

    def test_empty_file(self):
        self.expect_bad("empty.torrent", b"", at=0)

    def test_truncated(self):
        data = torrent(single_info())
        cut = data.index(b"6:pieces") + 8      # where the pieces string "20:..." starts
        truncated = data[:cut + 10]            # stop inside that string
        # The offset is the string that runs off the end (or, for some parsers, the end itself).
        self.expect_bad("truncated.torrent", truncated, at=(cut, len(truncated)))

    def test_trailing_data(self):
        data = torrent(single_info())
        self.expect_bad("trailing.torrent", data + b"xyz", at=len(data))

    def test_dot_dot_in_file_path(self):
        data = torrent(multi_info([[b"ok"], [b"..", b"..", b"etc", b"passwd"]]))
        self.expect_bad("dotdot.torrent", data, words=("..",), at=data.index(b"l2:..2:.."))

    def test_dot_dot_slash_in_name(self):
        data = torrent(single_info(name=b"../escape"))
        self.expect_bad("name.torrent", data, words=("../escape",),
                        at=data.index(b"9:../escape"))

    def test_slash_inside_a_path_component(self):
        self.expect_bad("slash.torrent", torrent(multi_info([[b"a/../../b"]])))

    def test_empty_path_component(self):
        self.expect_bad("emptycomp.torrent", torrent(multi_info([[b"a", b"", b"b"]])))

    def test_pieces_not_multiple_of_20(self):
        data = torrent(single_info(pieces=b"\xaa" * 19))
        self.expect_bad("pieces19.torrent", data, words=("19",),
                        at=data.index(b"19:\xaa"))

    def test_wrong_piece_count(self):
        self.expect_bad("count.torrent", torrent(single_info(pieces=b"\xaa" * 40)))

    def test_negative_length(self):
        self.expect_bad("negative.torrent", torrent(single_info(length=-5)), words=("negative",))

    def test_missing_info(self):
        self.expect_bad("noinfo.torrent", bencode({"announce": "http://127.0.0.1:9/"}))

    def test_missing_file_exit_3(self):
        missing = self.path("no-such.torrent")
        proc = pwtest.run(["info", missing])
        self.assertEqual(proc.returncode, EXIT_IO)
        self.assertIn("no-such.torrent", proc.stderr.decode())
        note(f"missing file: exit 3, {proc.stderr.decode().strip()}")

    def test_directory_exit_3(self):
        proc = pwtest.run(["info", self.tmp])
        self.assertEqual(proc.returncode, EXIT_IO)
        self.assertIn("directory", proc.stderr.decode())
        note(f"directory: exit 3, {proc.stderr.decode().strip()}")

    def test_usage_errors_exit_1(self):
        for args in ([], ["info"], ["bogus-command"], ["info", "--bogus", "x"], ["info", "a", "b"],
                     ["create"]):
            proc = pwtest.run(args)
            self.assertEqual(proc.returncode, EXIT_USAGE, f"peerwire {args}: {proc.stderr!r}")
            self.assertTrue(proc.stderr.strip(), f"peerwire {args}: no message")
        note("no args, bare info/create, unknown command/option, extra argument: exit 1")

    def test_help_and_version_exit_0(self):
        self.assertIn(b"peerwire", pwtest.run(["--version"], check=EXIT_OK).stdout)
        self.assertIn(b"info", pwtest.run(["--help"], check=EXIT_OK).stdout)
        note("--version, --help: exit 0")

    def test_stdin(self):
        data = torrent(single_info())
        p = self.write("stdin.torrent", data)
        from_file = pwtest.run(["info", "--json", p], check=EXIT_OK).stdout
        from_stdin = pwtest.run(["info", "--json", "-"], stdin=data, check=EXIT_OK).stdout
        self.assertEqual(from_stdin, from_file)
        text_file = pwtest.run(["info", p], check=EXIT_OK).stdout
        text_stdin = pwtest.run(["info", "-"], stdin=data, check=EXIT_OK).stdout
        self.assertEqual(text_stdin, text_file)
        proc = pwtest.run(["info", "-"], stdin=b"garbage")
        self.assertEqual(proc.returncode, EXIT_BAD_INPUT)
        self.assertIn(b"at byte 0", proc.stderr)
        note("info - : same JSON and text as from the file; garbage on stdin exits 2 at byte 0")


if __name__ == "__main__":
    pwtest.main()
