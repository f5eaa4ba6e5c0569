"""`peerwire create`: exit codes (overwrite refused without --force, missing path, empty
directory, bad --piece-size / --name), --json fields, byte-for-byte determinism (--no-date,
--threads), default output name, and progress lines on stderr (plain when not a TTY, rewritten
on a TTY, none with -q or --json).
"""
import json
import os
import pty
import select
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
from pwtest import MULTI_FILE_TREE, PIECE, note  # noqa: E402

EXIT_OK, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_IO = 0, 1, 2, 3


class Create(pwtest.TempDirCase):
    def tree(self, name="tree", seed=1):
        return pwtest.write_tree(self.path("data", name), MULTI_FILE_TREE, seed=seed)

    def read(self, p):
        with open(p, "rb") as f:
            return f.read()

    # Exit codes ---------------------------------------------------------------------------

    def test_refuses_to_overwrite_without_force(self):
        src, out = self.tree(), self.path("out.torrent")
        with open(out, "wb") as f:
            f.write(b"precious")
        before = os.stat(out)
        proc = pwtest.run(["create", src, "-o", out, "-q"])
        self.assertEqual(proc.returncode, EXIT_IO, proc.stderr)
        self.assertIn(b"already exists", proc.stderr)
        self.assertIn(b"--force", proc.stderr)
        self.assertEqual(self.read(out), b"precious", "existing file was changed")
        self.assertEqual(os.stat(out).st_mtime_ns, before.st_mtime_ns)
        self.assertEqual(os.listdir(self.tmp).count("out.torrent"), 1)
        self.assertEqual([n for n in os.listdir(self.tmp) if ".tmp" in n], [], "temp file left")
        pwtest.run(["create", src, "-o", out, "-q", "--force"], check=EXIT_OK)
        self.assertTrue(self.read(out).startswith(b"d"), "--force did not replace the file")
        note("existing output: exit 3, file untouched, no temp file; --force replaces it")

    def test_missing_path_exit_3(self):
        missing = self.path("no-such-dir")
        proc = pwtest.run(["create", missing, "-o", self.path("x.torrent"), "-q"])
        self.assertEqual(proc.returncode, EXIT_IO, proc.stderr)
        self.assertIn(b"no-such-dir", proc.stderr)
        self.assertFalse(os.path.exists(self.path("x.torrent")))
        note(f"missing path: exit 3, {proc.stderr.decode().strip()}")

    def test_empty_directory_fails_with_message(self):
        os.mkdir(self.path("empty"))
        proc = pwtest.run(["create", self.path("empty"), "-o", self.path("x.torrent"), "-q"])
        self.assertNotEqual(proc.returncode, EXIT_OK)
        self.assertIn(b"no files", proc.stderr)
        self.assertFalse(os.path.exists(self.path("x.torrent")))
        note(f"empty directory: exit {proc.returncode}, {proc.stderr.decode().strip()}")

    def test_unwritable_output_exit_3(self):
        proc = pwtest.run(["create", self.tree(), "-o", self.path("nodir", "x.torrent"), "-q"])
        self.assertEqual(proc.returncode, EXIT_IO, proc.stderr)
        note("output in a missing directory: exit 3")

    def test_bad_piece_size_exit_1(self):
        src = self.tree()
        for bad in ("1000", "8K", "3M", "1G", "0", "-5", "abc", "16Q", ""):
            out = self.path("x.torrent")
            proc = pwtest.run(["create", src, "-o", out, "-q", "--piece-size", bad])
            self.assertEqual(proc.returncode, EXIT_USAGE, f"--piece-size {bad!r}: {proc.stderr}")
            self.assertIn(b"piece size", proc.stderr.lower())
            self.assertFalse(os.path.exists(out), f"--piece-size {bad!r} wrote a torrent")
        note("--piece-size 1000/8K/3M/1G/0/-5/abc/16Q/'': exit 1, message, no file")

    def test_piece_size_forms(self):
        src = self.tree()
        for text, expected in (("16384", 16384), ("16K", 16384), ("32KiB", 32768),
                               ("1M", 1 << 20), ("4MiB", 4 << 20), ("256k", 256 << 10)):
            proc = pwtest.run(["create", src, "-o", self.path(f"{text}.torrent"), "--json",
                               "--piece-size", text], check=EXIT_OK)
            self.assertEqual(json.loads(proc.stdout)["piece_length"], expected, text)
        note("--piece-size 16384, 16K, 32KiB, 1M, 4MiB, 256k -> the right piece length")

    def test_unsafe_name_exit_1(self):
        src = self.tree()
        for bad in ("a/b", "..", "."):
            proc = pwtest.run(["create", src, "-o", self.path("x.torrent"), "-q", "-n", bad])
            self.assertEqual(proc.returncode, EXIT_USAGE, f"--name {bad!r}: {proc.stderr}")
            self.assertIn(b"--name", proc.stderr)
        note("--name a/b, .., . : exit 1")

    # Output -------------------------------------------------------------------------------

    def test_json_fields(self):
        src, out = self.tree(), self.path("j.torrent")
        proc = pwtest.run(["create", src, "-o", out, "--json", "--piece-size", "16K"],
                          check=EXIT_OK)
        self.assertEqual(proc.stderr, b"", "--json must not print progress")
        j = json.loads(proc.stdout)
        info = pwtest.info_json(out)
        total = sum(MULTI_FILE_TREE.values())
        self.assertEqual(j["torrent"], out)
        self.assertEqual(j["name"], "tree")
        self.assertEqual(j["info_hash"], info["info_hash"])
        self.assertTrue(j["magnet"].startswith(f"magnet:?xt=urn:btih:{info['info_hash']}"))
        self.assertEqual(j["total_size"], total)
        self.assertEqual(j["file_count"], len(MULTI_FILE_TREE))
        self.assertEqual(j["piece_length"], PIECE)
        self.assertEqual(j["piece_count"], -(-total // PIECE))
        self.assertEqual(j["piece_count"], info["piece_count"])
        self.assertGreaterEqual(j["seconds"], 0)
        self.assertGreaterEqual(j["bytes_per_second"], 0)
        self.assertEqual(j["skipped"], [])
        note("create --json: torrent, name, info_hash (== info), magnet, total_size, "
             "file_count, piece_length, piece_count, seconds, bytes_per_second, skipped")

    def test_skipped_entries_are_reported(self):
        src = self.tree()
        os.symlink(self.path("nowhere"), os.path.join(src, "broken-link"))
        proc = pwtest.run(["create", src, "-o", self.path("s.torrent"), "--json"], check=EXIT_OK)
        skipped = json.loads(proc.stdout)["skipped"]
        self.assertEqual(len(skipped), 1)
        self.assertIn("broken-link", skipped[0])
        proc = pwtest.run(["create", src, "-o", self.path("s2.torrent")], check=EXIT_OK)
        self.assertIn(b"skipped broken-link", proc.stderr)
        note(f"broken symlink: skipped in --json ({skipped[0]}) and on stderr")

    def test_default_output_name_and_executable_attr(self):
        src = self.tree()
        os.chmod(os.path.join(src, "a.bin"), 0o755)
        os.mkdir(self.path("cwd"))
        pwtest.run(["create", src + "/", "-q"], cwd=self.path("cwd"), check=EXIT_OK)
        self.assertEqual(os.listdir(self.path("cwd")), ["tree.torrent"])
        info = pwtest.info_json(self.path("cwd", "tree.torrent"))
        execs = [f["path"] for f in info["files"] if f["executable"]]
        self.assertEqual(execs, ["tree/a.bin"])
        note("no -o: NAME.torrent in the current directory (trailing '/' ok); chmod +x -> attr x")

    # Determinism --------------------------------------------------------------------------

    def test_no_date_is_byte_for_byte_reproducible(self):
        src = self.tree()
        a = pwtest.create(src, self.path("a.torrent"), "--no-date", "-t", pwtest.TRACKER_A)
        time.sleep(1.1)  # a creation date, if one slipped in, would now differ
        b = pwtest.create(src, self.path("b.torrent"), "--no-date", "-t", pwtest.TRACKER_A)
        self.assertEqual(a, b)
        self.assertNotIn(b"creation date", a)
        dated = pwtest.create(src, self.path("d.torrent"))
        self.assertIn(b"13:creation datei", dated)
        note(f"two --no-date runs 1 s apart: identical {len(a)} bytes; without it a date")

    def test_same_content_written_in_another_order_gives_same_bytes(self):
        # Files written in reverse order (different inode / readdir order) must not matter.
        first = self.tree("t1")
        second = self.path("data2", "t1")
        for rel in sorted(MULTI_FILE_TREE, reverse=True):
            pwtest.write_tree(second, {rel: self.read(os.path.join(first, rel))})
        a = pwtest.create(first, self.path("a.torrent"), "--no-date", "--piece-size", "16K")
        b = pwtest.create(second, self.path("b.torrent"), "--no-date", "--piece-size", "16K")
        self.assertEqual(a, b)
        note("same tree created in a different order: identical torrent bytes")

    def test_thread_count_does_not_change_the_torrent(self):
        src = self.tree()
        outs = {}
        for threads in ("1", "2", "7"):
            outs[threads] = pwtest.create(src, self.path(f"t{threads}.torrent"), "--no-date",
                                          "--piece-size", "16K", "--threads", threads)
        self.assertEqual(outs["1"], outs["2"])
        self.assertEqual(outs["1"], outs["7"])
        note("--threads 1, 2, 7: identical bytes")

    # Progress -----------------------------------------------------------------------------

    def test_progress_on_stderr_when_not_a_tty(self):
        src = self.tree()
        proc = pwtest.run(["create", src, "-o", self.path("p.torrent")], check=EXIT_OK)
        err = proc.stderr.decode()
        self.assertRegex(err, r"(?m)^hashing 100\.0% .*piece \d+/\d+")
        self.assertNotIn("\r", err, "no carriage returns when stderr is not a terminal")
        self.assertNotIn("\x1b", err, "no escape sequences when stderr is not a terminal")
        self.assertIn(b"Created", proc.stdout)
        self.assertNotIn(b"hashing", proc.stdout, "progress belongs on stderr")
        quiet = pwtest.run(["create", src, "-o", self.path("q.torrent"), "-q"], check=EXIT_OK)
        self.assertEqual(quiet.stderr, b"", "-q must silence progress")
        note("not a TTY: plain 'hashing 100.0% ...' lines on stderr; -q: stderr empty")

    def test_progress_rewrites_one_line_on_a_tty(self):
        src = self.tree()
        master, slave = pty.openpty()
        try:
            proc = subprocess.run([pwtest.PEERWIRE, "create", src, "-o", self.path("t.torrent")],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=slave, timeout=pwtest.TIMEOUT)
            os.close(slave)
            slave = None
            err = b""
            while select.select([master], [], [], 1.0)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the writer is gone and everything was read
                    break
                if not chunk:
                    break
                err += chunk
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        self.assertEqual(proc.returncode, EXIT_OK)
        self.assertIn(b"\r\x1b[K", err, "TTY progress should redraw its line")
        self.assertIn(b"hashing 100.0%", err)
        note("TTY: progress redraws one line (\\r ESC[K) and ends with 100.0%")


if __name__ == "__main__":
    pwtest.main()
