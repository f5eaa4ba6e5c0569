"""`peerwire download` / `peerwire seed` as a command: exit codes, the --json lines, the status
lines on stderr, the summary, signals, seeding goals, --sequential, unwritable directories,
partial data and partial seeds. peerwire only (its own `seed` is the other side), on 127.0.0.1.

The sample torrent is 2 MiB in 128 pieces of 16 KiB; one unlimited `peerwire seed` serves the
class, and the cases that need a slow download start their own rate-limited seeder.

Read-only directory: the tests usually run as root, whom permissions do not stop; then peerwire
runs as user nobody through `setpriv` (util-linux) for that case, and it is skipped when that is
not possible. A regular file where the download directory should be is tested for everyone.
"""
import ctypes
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
import swarm_support as ss  # noqa: E402
from pwtest import note  # noqa: E402

SIZE = 2 << 20
PIECE = 16 << 10
RUN_TIMEOUT = 60
SETPRIV = shutil.which("setpriv")

# Plain status line (cmd_download.cpp status_line):
# "NAME: STATE  PCT%  DONE / TOTAL  down R/s  up R/s  peers N (S seeds)  ETA E"
STATUS_RE = re.compile(r"^(?P<name>.+): (?P<state>downloading|seeding|finished) +"
                       r"(?P<pct>\d+\.\d)%  (?P<done>.+) / (?P<total>.+)  down (?P<down>.+)/s  "
                       r"up (?P<up>.+)/s  peers (?P<peers>\d+) \((?P<seeds>\d+) seeds\)  "
                       r"ETA (?P<eta>\S+)$")
CHECKING_RE = re.compile(r"^(?P<name>.+): checking +\d+\.\d%$")
# "NAME: STATE, X of Y verified in S s (average R/s down), uploaded U (ratio F)[: error]"
SUMMARY_RE = re.compile(r"^(?P<name>.+): (?P<state>checking|downloading|seeding|finished|error), "
                        r"(?P<done>.+) of (?P<total>.+) verified in (?P<secs>\d+\.\d) s "
                        r"\(average (?P<avg>.+)/s down\), uploaded (?P<up>.+) "
                        r"\(ratio (?P<ratio>\d+\.\d\d)\)(?P<err>: .*)?$")


def pw(args, timeout=30):
    return pwtest.run(args, timeout=timeout)


class DownloadCliTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="peerwire-download-cli-")
        try:
            os.chmod(cls.tmp, 0o755)  # the read-only case runs peerwire as another user
            cls.sample = ss.make_data(cls.tmp, "sample.bin", SIZE, PIECE, seed=3)
            (cls.seed_port,) = ss.free_ports(1)
            cls.seeder = ss.PeerwireProc("seed", cls.sample.torrent, cls.sample.save_path,
                                         port=cls.seed_port, status_interval=0.5, label="seeder")
            cls.seeder.start()
            cls.seeder.wait_state("seeding", timeout=30)
            cls.seeder.wait_listening()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "seeder", None):
            cls.seeder.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertTrue(self.seeder.alive(), f"seeder died\n{self.seeder.tail()}")
        self.dir = tempfile.mkdtemp(prefix="case-", dir=self.tmp)
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def proc(self, command, directory, *, peers=(), extra=(), json=True, interval=0.25,
             torrent=None, label=None, **kw):
        (port,) = ss.free_ports(1)
        p = ss.PeerwireProc(command, torrent or self.sample.torrent, directory, port=port,
                            peers=peers, extra=extra, json=json, status_interval=interval,
                            label=label or f"{command} -d {os.path.basename(directory)}", **kw)
        self.addCleanup(p.close)
        return p.start()

    def limited_seeder(self, limit):
        (port,) = ss.free_ports(1)
        s = ss.PeerwireProc("seed", self.sample.torrent, self.sample.save_path, port=port,
                            status_interval=0.5, extra=["--upload-limit", limit],
                            label=f"seeder {limit}")
        self.addCleanup(s.close)
        s.start()
        s.wait_state("seeding", timeout=30)
        s.wait_listening()
        return s

    def assert_identical(self, directory, sample=None):
        same, why = ss.same_content(sample or self.sample, directory)
        self.assertTrue(same, why)

    # ---- exit codes --------------------------------------------------------------------

    def test_exit_codes_for_bad_input(self):
        bad = os.path.join(self.dir, "bad.torrent")
        with open(bad, "wb") as f:
            f.write(b"d4:infod6:lengthi-5eee")
        missing = os.path.join(self.dir, "missing.torrent")
        t = self.sample.torrent
        d = os.path.join(self.dir, "out")
        base = ["-d", d, "--bind", "127.0.0.1", "--port", str(ss.free_ports(1)[0])]
        cases = [
            ("bad torrent", ["download", bad, *base], 2, "invalid torrent"),
            ("missing torrent", ["download", missing, *base], 3, "missing.torrent"),
            ("seed: missing torrent", ["seed", missing, *base], 3, "missing.torrent"),
            ("--seed-ratio with --no-seed", ["download", t, *base, "--seed-ratio", "1",
                                             "--no-seed"], 1, "only one of"),
            ("--seed-time with --seed-ratio", ["download", t, *base, "--seed-time", "5",
                                               "--seed-ratio", "2"], 1, "only one of"),
            ("bad --upload-limit", ["download", t, *base, "--upload-limit", "5Q"], 1,
             "rate limits look like"),
            ("negative --download-limit", ["download", t, *base, "--download-limit", "-1M"], 1,
             "rate limits look like"),
            ("unknown option", ["download", t, *base, "--frobnicate"], 1, "frobnicate"),
            ("no torrent", ["download", *base], 1, "torrents"),
            ("--seed-ratio not a number", ["download", t, *base, "--seed-ratio", "lots"], 1,
             "seed-ratio"),
        ]
        for what, args, code, text in cases:
            with self.subTest(what):
                proc = pw(args)
                err = proc.stderr.decode(errors="replace")
                self.assertEqual(proc.returncode, code, f"{what}: {err}")
                self.assertIn(text, err, what)
                self.assertFalse(os.path.exists(d), f"{what}: created the download directory")
        note(f"exit codes: " + "; ".join(f"{w} -> {c}" for w, _, c, _ in cases))

    def test_bad_peer_is_a_usage_error(self):
        # `peerwire trace` rejects these with exit 1 ("--peer 'x' is not HOST:PORT"); download
        # should not silently drop them and run with no peer.
        port = ss.free_ports(1)[0]
        for bad in ["garbage", "127.0.0.1:0", "127.0.0.1", "127.0.0.1:99999"]:
            with self.subTest(bad):
                d = os.path.join(self.dir, "bad-peer")
                try:
                    proc = pw(["download", self.sample.torrent, "-d", d, "--bind", "127.0.0.1",
                               "--port", str(port), "--peer", bad, "--no-seed"], timeout=3)
                except subprocess.TimeoutExpired:
                    proc = None
                if proc is None:  # (outside the except: no exception chain in the report)
                    self.fail(f"--peer {bad!r}: still running after 3 s (the bad --peer was "
                              "silently ignored; expected exit 1 like `peerwire trace`)")
                self.assertEqual(proc.returncode, 1, proc.stderr.decode(errors="replace"))
                self.assertIn("--peer", proc.stderr.decode(errors="replace"))

    def test_peer_given_as_hostname(self):
        # HOST:PORT with a host name (`trace --peer localhost:P` resolves it).
        p = self.proc("download", os.path.join(self.dir, "dl"),
                      peers=[f"localhost:{self.seed_port}"], extra=["--no-seed"])
        try:
            code = p.wait(10)
        except AssertionError:
            code = None
        if code is None:
            st = p.last() or {}
            self.fail(f"--peer localhost:{self.seed_port}: nothing downloaded in 10 s (host "
                      f"name not resolved?): state {st.get('state')}, peers {st.get('peers')}, "
                      f"downloaded {st.get('downloaded')}; stderr: {p.stderr_text()!r}")
        self.assertEqual(code, 0, p.tail())
        self.assert_identical(os.path.join(self.dir, "dl"))

    def test_busy_port_is_an_io_error(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            proc = pw(["download", self.sample.torrent, "-d", os.path.join(self.dir, "x"),
                       "--bind", "127.0.0.1", "--port", str(port), "--no-seed"])
        err = proc.stderr.decode(errors="replace")
        self.assertEqual(proc.returncode, 3, err)
        self.assertIn(str(port), err)
        note(f"--port {port} in use -> exit 3: {err.strip()}")

    # ---- --json ------------------------------------------------------------------------

    def test_json_lines_and_no_seed(self):
        slow = self.limited_seeder("1M")
        d = os.path.join(self.dir, "dl")
        p = self.proc("download", d, peers=[slow.port], extra=["--no-seed"], interval=0.2)
        code = p.wait(RUN_TIMEOUT)
        self.assertEqual(code, 0, p.tail())
        self.assert_identical(d)
        lines = p.stdout_text().splitlines()
        self.assertTrue(lines, p.tail())
        events = [json.loads(line) for line in lines]  # every line is one JSON object
        for e in events:
            self.assertEqual(set(e), {"event", "torrent"}, e)
            self.assertIn(e["event"], ("status", "summary"))
        self.assertEqual([e["event"] for e in events].count("summary"), 1)
        self.assertEqual(events[-1]["event"], "summary")
        statuses = [e["torrent"] for e in events[:-1]]
        summary = events[-1]["torrent"]
        self.assertGreaterEqual(len(statuses), 5, "status lines every 0.2 s over ~2 s")
        last_verified = 0
        for st in statuses:
            self.assertEqual(set(st), ss.STATUS_KEYS, st)
            self.assertEqual(st["name"], "sample.bin")
            self.assertEqual(st["info_hash"], self.sample.info_hash)
            self.assertIn(st["state"], ("checking", "downloading", "seeding", "finished"))
            self.assertEqual(st["total_size"], SIZE)
            self.assertEqual(st["piece_count"], SIZE // PIECE)
            for k in ("verified_bytes", "pieces_have", "downloaded", "uploaded", "peers",
                      "seeds", "hash_failures", "banned_peers"):
                self.assertIsInstance(st[k], int, k)
                self.assertGreaterEqual(st[k], 0, k)
            for k in ("download_rate", "upload_rate"):
                self.assertIsInstance(st[k], (int, float), k)
            self.assertEqual(st["verified_bytes"], st["pieces_have"] * PIECE)
            self.assertGreaterEqual(st["verified_bytes"], last_verified, "verified goes down")
            self.assertLessEqual(st["verified_bytes"], st["downloaded"])
            last_verified = st["verified_bytes"]
        self.assertTrue(any(st["state"] == "downloading" and 0 < st["verified_bytes"] < SIZE
                            for st in statuses), "no status line in the middle")
        self.assertEqual(set(summary), ss.STATUS_KEYS | ss.SUMMARY_EXTRA_KEYS, summary)
        self.assertEqual(summary["state"], "finished")
        self.assertEqual(summary["verified_bytes"], SIZE)
        self.assertEqual(summary["pieces_have"], SIZE // PIECE)
        self.assertEqual(summary["downloaded"], SIZE)
        self.assertEqual(summary["error"], "")
        self.assertGreater(summary["seconds"], 0)
        self.assertAlmostEqual(summary["average_download_rate"], SIZE / summary["seconds"],
                               delta=SIZE / summary["seconds"] * 0.01)
        self.assertEqual(summary["ratio"], 0)
        # --json: stderr carries only notes, never the status lines.
        for line in p.stderr_text().splitlines():
            self.assertFalse(STATUS_RE.match(line) or SUMMARY_RE.match(line), line)
        self.assertTrue(os.path.isfile(ss.resume_path(d, self.sample.info_hash)))
        took = p.ended_at - p.started_at
        note(f"{len(statuses)} status lines + 1 summary, all JSON with the documented keys; "
             f"--no-seed exited 0 after {took:.1f} s (summary says {summary['seconds']:.1f} s)")

    def test_files_are_allocated_in_full_unless_no_preallocate(self):
        # fallocate(2) itself, as peerwire calls it: os.posix_fallocate would succeed anyway,
        # since glibc falls back to writing zeros where the filesystem has no fallocate.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
        with open(os.path.join(self.dir, "probe"), "wb") as f:
            if libc.fallocate(f.fileno(), 0, 0, 4096) != 0:
                self.skipTest(f"no fallocate on this filesystem: "
                              f"{os.strerror(ctypes.get_errno())}")
        slow = self.limited_seeder("512K")
        seen = {}
        for name, extra in (("default", []), ("sparse", ["--no-preallocate"])):
            d = os.path.join(self.dir, name)
            p = self.proc("download", d, peers=[slow.port], extra=["--no-seed"] + extra,
                          interval=0.2, label=f"download ({name})")
            # Mid-download (a burst of about 1 MiB, then 512 KiB/s for the rest of the 2 MiB):
            # what the file holds on disk so far.
            st = p.wait_for(lambda s: 0 < s["verified_bytes"] < SIZE * 3 // 4, 30,
                            "a piece written")
            path = os.path.join(d, "sample.bin")
            seen[name] = (os.stat(path).st_blocks * 512, st["verified_bytes"])
            self.assertEqual(os.path.getsize(path), SIZE)
            self.assertEqual(p.wait(RUN_TIMEOUT), 0, p.tail())
            self.assert_identical(d)
        self.assertGreaterEqual(seen["default"][0], SIZE,
                                f"allocated/verified {seen['default']}: not preallocated")
        self.assertLess(seen["sparse"][0], SIZE,
                        f"allocated/verified {seen['sparse']}: --no-preallocate is not sparse")
        note(f"mid-download, bytes allocated / verified: default {seen['default']}, "
             f"--no-preallocate {seen['sparse']}")

    # ---- plain status lines ------------------------------------------------------------

    def test_status_lines_on_stderr_and_sigint_with_no_peer(self):
        d = os.path.join(self.dir, "dl")
        p = self.proc("download", d, json=False, interval=0.5)
        time.sleep(3.2)
        self.assertTrue(p.alive(), p.tail())
        self.assertEqual(p.terminate(sig=signal.SIGINT), 0, p.tail())
        err = p.stderr_text()
        self.assertEqual(p.stdout_text(), "", "nothing on stdout without --json/--trace")
        self.assertNotIn("\r", err)
        self.assertNotIn("\x1b", err)
        lines = err.splitlines()
        status = [m for m in map(STATUS_RE.match, lines) if m]
        # One line at once, then one every 0.5 s: ~7 in 3.2 s.
        self.assertGreaterEqual(len(status), 4, err)
        self.assertLessEqual(len(status), 9, err)
        for m in status:
            self.assertEqual(m["name"], "sample.bin")
            self.assertEqual(m["state"], "downloading")
            self.assertEqual(m["pct"], "0.0")
            self.assertRegex(m["total"], r"^2\.0+ MiB$")
            self.assertEqual(m["peers"], "0")
            self.assertEqual(m["eta"], "--")
        self.assertIn(f"peerwire: listening on port {p.port}", lines[0])
        self.assertTrue(any("stopping (saving resume data" in line for line in lines), err)
        summary = SUMMARY_RE.match(lines[-1])
        self.assertTrue(summary, f"last line is not the summary: {lines[-1]!r}")
        self.assertEqual(summary["state"], "downloading")
        self.assertRegex(summary["total"], r"^2\.0+ MiB$")
        self.assertTrue(3.0 <= float(summary["secs"]) <= 6.0, summary["secs"])
        self.assertTrue(os.path.isfile(ss.resume_path(d, self.sample.info_hash)),
                        "no resume file after SIGINT")
        note(f"{len(status)} status lines on stderr in 3.2 s at --status-interval 0.5; SIGINT "
             f"-> exit 0, summary {lines[-1]!r}, resume file written")

    def test_progress_line_on_a_terminal(self):
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        (port,) = ss.free_ports(1)
        argv = [pwtest.PEERWIRE, "download", self.sample.torrent, "-d",
                os.path.join(self.dir, "dl"), "--bind", "127.0.0.1", "--port", str(port),
                "--status-interval", "30"]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=slave, preexec_fn=ss._die_with_parent)
        os.close(slave)
        out = b""
        try:
            deadline = time.monotonic() + 2.2
            while time.monotonic() < deadline:
                r, _, _ = select.select([master], [], [], 0.1)
                if r:
                    try:
                        out += os.read(master, 65536)
                    except OSError:
                        break
            os.kill(proc.pid, signal.SIGINT)
            code = proc.wait(timeout=20)
            while True:
                r, _, _ = select.select([master], [], [], 0.2)
                if not r:
                    break
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        text = out.decode(errors="replace")
        self.assertEqual(code, 0, text)
        # On a terminal: one line redrawn in place ("\r\033[K") twice a second, whatever
        # --status-interval says.
        redraws = text.count("\r\x1b[Ksample.bin: downloading")
        self.assertGreaterEqual(redraws, 3, repr(text))
        note(f"terminal: {redraws} in-place redraws in ~2.2 s (--status-interval 30 ignored)")

    def test_sigint_during_download_then_resume(self):
        slow = self.limited_seeder("512K")
        d = os.path.join(self.dir, "dl")
        p = self.proc("download", d, peers=[slow.port])
        p.wait_for(lambda s: s["verified_bytes"] >= SIZE // 4, RUN_TIMEOUT, "25% verified")
        self.assertEqual(p.terminate(sig=signal.SIGINT), 0, p.tail())
        s = p.summary()
        self.assertIsNotNone(s, p.tail())
        self.assertEqual(s["state"], "downloading")
        self.assertLess(s["verified_bytes"], SIZE)
        self.assertTrue(os.path.isfile(ss.resume_path(d, self.sample.info_hash)))
        q = self.proc("download", d, peers=[self.seed_port], extra=["--no-seed"])
        first = q.wait_for(lambda st: st["state"] != "checking", 30, "done checking")
        self.assertEqual(first["verified_bytes"] - first["downloaded"], s["verified_bytes"])
        self.assertEqual(q.wait(RUN_TIMEOUT), 0, q.tail())
        self.assertEqual(q.summary()["downloaded"], SIZE - s["verified_bytes"])
        self.assert_identical(d)
        note(f"SIGINT at {s['verified_bytes']} verified -> exit 0, resume file; restart "
             f"downloaded {q.summary()['downloaded']} (the rest), data identical")

    # ---- seeding goals -----------------------------------------------------------------

    def test_seed_ratio_zero_and_seed_time_zero_exit_when_complete(self):
        for goal in (["--seed-ratio", "0.0"], ["--seed-time", "0"]):
            with self.subTest(goal=goal):
                d = os.path.join(self.dir, "dl-" + goal[0].strip("-"))
                p = self.proc("download", d, peers=[self.seed_port], extra=goal)
                code = p.wait(RUN_TIMEOUT)
                self.assertEqual(code, 0, p.tail())
                s = p.summary()
                self.assertEqual(s["state"], "finished", p.tail())
                self.assertEqual(s["verified_bytes"], SIZE)
                self.assert_identical(d)
        note("--seed-ratio 0.0 and --seed-time 0: exit 0 (finished) once complete")

    def test_seed_ratio_stops_after_uploading_enough(self):
        # A downloads from the (slow) seeder and then seeds with --seed-ratio 0.5; B, given A
        # and the slow seeder, takes most of its data from A; A must exit on its own once it
        # has uploaded half the torrent's size.
        slow = self.limited_seeder("256K")
        a_dir, b_dir = os.path.join(self.dir, "a"), os.path.join(self.dir, "b")
        a = self.proc("download", a_dir, peers=[self.seed_port], extra=["--seed-ratio", "0.5"],
                      label="A --seed-ratio 0.5")
        a.wait_state("seeding", "finished", timeout=RUN_TIMEOUT)
        self.assertTrue(a.alive(), "A stopped before uploading anything\n" + a.tail())
        b = self.proc("download", b_dir, peers=[a.port, slow.port], extra=["--no-seed"],
                      label="B")
        code = a.wait(RUN_TIMEOUT)
        self.assertEqual(code, 0, a.tail())
        s = a.summary()
        self.assertEqual(s["state"], "finished", a.tail())
        self.assertGreaterEqual(s["uploaded"], SIZE // 2)
        self.assertGreaterEqual(s["ratio"], 0.5)
        self.assertLess(s["uploaded"], SIZE, "A seeded past its ratio")
        self.assertEqual(b.wait(RUN_TIMEOUT), 0, b.tail())
        self.assert_identical(b_dir)
        note(f"A exited by itself at ratio {s['ratio']:.2f} (uploaded {s['uploaded']}); "
             "B completed from A + seeder")

    def test_seed_time_in_minutes(self):
        d = os.path.join(self.dir, "dl")
        p = self.proc("download", d, peers=[self.seed_port], extra=["--seed-time", "0.05"],
                      interval=0.1)
        p.wait_state("seeding", timeout=RUN_TIMEOUT)
        seeding_at = time.monotonic()
        self.assertEqual(p.wait(30), 0, p.tail())
        seeded = p.ended_at - seeding_at
        self.assertEqual(p.summary()["state"], "finished")
        self.assertGreaterEqual(seeded, 2.5, "--seed-time 0.05 = 3 s of seeding")
        self.assertLessEqual(seeded, 8.0)
        note(f"--seed-time 0.05: seeded {seeded:.1f} s, then exit 0")

    # ---- limits --------------------------------------------------------------------------

    def test_download_limit(self):
        d = os.path.join(self.dir, "dl")
        p = self.proc("download", d, peers=[self.seed_port],
                      extra=["--no-seed", "--download-limit", "512K"])
        self.assertEqual(p.wait(RUN_TIMEOUT), 0, p.tail())
        s = p.summary()
        self.assert_identical(d)
        # 2 MiB at 512 KiB/s: >= 3 s after the first 512 KiB (the bucket's burst).
        self.assertGreaterEqual(s["seconds"], (SIZE - 512 * 1024) / (512 * 1024) * 0.8, s)
        self.assertLessEqual(s["seconds"], 20, s)
        note(f"--download-limit 512K: 2 MiB in {s['seconds']:.1f} s "
             f"(average {s['average_download_rate'] / 1024:.0f} KiB/s)")

    def test_max_peers(self):
        # Two slow seeds, so the download lasts long enough for status lines to see the peers
        # (finished downloads close their connections to seeds).
        first = self.limited_seeder("512K")
        second = self.limited_seeder("512K")
        for limit, expect in ((1, 1), (50, 2)):
            with self.subTest(max_peers=limit):
                d = os.path.join(self.dir, f"dl{limit}")
                p = self.proc("download", d, peers=[first.port, second.port],
                              extra=["--seed-time", "10", "--max-peers", str(limit)],
                              interval=0.1)
                p.wait_state("seeding", timeout=RUN_TIMEOUT)
                time.sleep(1.5)  # a few more status lines while seeding
                self.assertEqual(p.terminate(), 0, p.tail())
                most = max(st["peers"] for st in p.statuses())
                self.assertEqual(most, expect, f"--max-peers {limit}\n{p.tail()}")
                self.assert_identical(d)
        note("--max-peers 1 with two seeds: never more than 1 peer; default: both")

    # ---- resume data vs files ----------------------------------------------------------

    def test_file_deleted_after_completion(self):
        d = os.path.join(self.dir, "dl")
        p = self.proc("download", d, peers=[self.seed_port], extra=["--no-seed"])
        self.assertEqual(p.wait(RUN_TIMEOUT), 0, p.tail())
        os.remove(os.path.join(d, self.sample.name))
        q = self.proc("download", d, peers=[self.seed_port], extra=["--no-seed"])
        first = q.wait_for(lambda st: st["state"] != "checking", 30, "done checking")
        self.assertEqual(first["verified_bytes"] - first["downloaded"], 0,
                         f"resume data claimed pieces of a deleted file\n{q.tail()}")
        self.assertEqual(q.wait(RUN_TIMEOUT), 0, q.tail())
        self.assertEqual(q.summary()["downloaded"], SIZE)
        self.assert_identical(d)
        note("file deleted after completion: restart found nothing, downloaded it all again")

    # ---- --sequential --------------------------------------------------------------------

    def request_order(self, extra):
        d = os.path.join(self.dir, "dl" + "".join(extra))
        p = self.proc("download", d, peers=[self.seed_port], json=False,
                      extra=["--no-seed", "--trace", *extra])
        self.assertEqual(p.wait(RUN_TIMEOUT), 0, p.tail())
        self.assert_identical(d)
        order = []
        for _, _, direction, text in p.trace_lines():
            m = re.match(r"request #(\d+) off (\d+) len (\d+)$", text)
            if direction == "->" and m:
                order.append(int(m.group(1)))
        self.assertGreaterEqual(len(order), SIZE // PIECE, "fewer requests than pieces")
        # A request is "backwards" when it is for a piece more than one before the highest
        # piece requested so far.
        back, top = 0, -1
        for i in order:
            if i < top - 1:
                back += 1
            top = max(top, i)
        return order, back

    def test_sequential_requests_pieces_in_order(self):
        order, back = self.request_order(["--sequential"])
        self.assertLessEqual(back, len(order) // 50, f"requests out of order: {order}")
        self.assertEqual(order[0], 0)
        rnd_order, rnd_back = self.request_order([])
        # The measure tells the difference: the default (rarest first, random ties) order
        # jumps around.
        self.assertGreater(rnd_back, len(rnd_order) // 4, f"default order: {rnd_order[:50]}")
        note(f"--sequential: {back}/{len(order)} backward requests, first {order[:8]}; "
             f"default: {rnd_back}/{len(rnd_order)} backward")

    # ---- unwritable destinations --------------------------------------------------------

    def test_file_where_the_directory_should_be(self):
        blocker = os.path.join(self.dir, "not-a-dir")
        with open(blocker, "w") as f:
            f.write("x")
        for d in (blocker, os.path.join(blocker, "sub")):
            with self.subTest(dir=d):
                p = self.proc("download", d, peers=[self.seed_port], json=False,
                              extra=["--no-seed"])
                code = p.wait(30)
                err = p.stderr_text()
                self.assertEqual(code, 5, err)
                self.assertIn("Not a directory", err)
                last = err.splitlines()[-1]
                m = SUMMARY_RE.match(last)
                self.assertTrue(m and m["state"] == "error", last)
        note(f"-d pointing at / below a regular file -> exit 5: {last!r}")

    def test_read_only_directory(self):
        d = os.path.join(self.dir, "ro")
        os.mkdir(d)
        os.chmod(d, 0o555)
        prefix = []
        how = "as this user"
        if os.geteuid() == 0:
            if not SETPRIV:
                self.skipTest("running as root (permissions do not apply) and no setpriv")
            prefix = [SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups"]
            probe = subprocess.run(prefix + [pwtest.PEERWIRE, "--version"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   timeout=10)
            if probe.returncode != 0:
                self.skipTest("running as root and user nobody cannot run peerwire here")
            probe = subprocess.run(prefix + ["sh", "-c", f"touch '{d}/x'"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   timeout=10)
            if probe.returncode == 0:
                self.skipTest("user nobody can write into a mode 0555 directory here")
            how = "as user nobody (setpriv), since the tests run as root"
        # A write refused for permission pauses the torrent (paused_disk) and retries; it
        # does not end the process (tests/cli/disk_pause_test.py covers the resume). Ctrl-C /
        # SIGTERM stops it with exit 0.
        p = self.proc("download", d, peers=[self.seed_port],
                      extra=["--no-seed", "--disk-retry", "0.2"], argv_prefix=prefix)
        st = p.wait_state("paused_disk", timeout=30)
        self.assertRegex(st["error"], r"(?i)cannot write piece \d+: .*permission denied")
        self.assertEqual(st["verified_bytes"], 0, st)
        self.assertRegex(p.stderr_text(), r"(?i)paused: .*permission denied")
        code = p.terminate()
        self.assertEqual(code, 0, p.tail())
        s = p.summary()
        self.assertIsNotNone(s, p.tail())
        self.assertEqual(s["state"], "paused_disk")
        self.assertEqual(os.listdir(d), [])
        note(f"read-only directory ({how}) -> paused_disk, error {s['error']!r}; "
             "SIGTERM -> exit 0, nothing written")

    # ---- two files, partial data, partial seeds ------------------------------------------

    def test_two_files_partial_local_data_and_partial_seeds(self):
        files = {"a.bin": 40 * PIECE, "b.bin": 50 * PIECE + 1000}  # a ends on a piece boundary
        root = os.path.join(self.dir, "two")
        os.makedirs(root)
        two = ss.make_data(root, "two", None, PIECE, files=files, seed=9)
        total = sum(files.values())
        self.assertEqual(two.total_size, total)

        # Two partial seeds: one holds only a.bin, the other only b.bin.
        seeds = []
        for keep in ("a.bin", "b.bin"):
            sd = os.path.join(root, "only-" + keep)
            os.makedirs(os.path.join(sd, "two"))
            shutil.copy(os.path.join(two.content, keep), os.path.join(sd, "two", keep))
            s = self.proc("seed", sd, torrent=two.torrent, label=f"seed with only {keep}")
            st = s.wait_state("downloading", "seeding", timeout=30)
            want = files[keep] if keep == "a.bin" else total - files["a.bin"]
            self.assertEqual(st["verified_bytes"], want, s.tail())
            s.wait_listening()
            seeds.append(s)
        d = os.path.join(root, "leecher")
        p = self.proc("download", d, torrent=two.torrent, peers=[s.port for s in seeds],
                      extra=["--no-seed"])
        self.assertEqual(p.wait(RUN_TIMEOUT), 0, p.tail())
        self.assert_identical(d, two)
        self.assertEqual(p.summary()["downloaded"], total)
        note(f"two files from two partial seeds (a.bin / b.bin only): complete, identical")

        # Local data: a.bin already there; only b.bin's pieces are fetched (from a full seed).
        d2 = os.path.join(root, "leecher2")
        os.makedirs(os.path.join(d2, "two"))
        shutil.copy(os.path.join(two.content, "a.bin"), os.path.join(d2, "two", "a.bin"))
        full = self.proc("seed", two.save_path, torrent=two.torrent, label="full seed")
        full.wait_state("seeding", timeout=30)
        full.wait_listening()
        p = self.proc("download", d2, torrent=two.torrent, peers=[full.port],
                      extra=["--no-seed"])
        first = p.wait_for(lambda st: st["state"] != "checking", 30, "done checking")
        self.assertEqual(first["verified_bytes"] - first["downloaded"], files["a.bin"])
        self.assertEqual(p.wait(RUN_TIMEOUT), 0, p.tail())
        self.assertEqual(p.summary()["downloaded"], files["b.bin"])
        self.assert_identical(d2, two)
        note(f"a.bin present locally: found by the check, downloaded only b.bin "
             f"({files['b.bin']} bytes)")

    def test_two_torrents_in_one_command(self):
        root = os.path.join(self.dir, "second")
        os.makedirs(root)
        other = ss.make_data(root, "other.bin", 300 * 1024 + 7, PIECE, seed=4)
        # One seed process serves both torrents (the data live in two directories: copy).
        seed_dir = os.path.join(self.dir, "both")
        os.makedirs(seed_dir)
        shutil.copy(self.sample.content, seed_dir)
        shutil.copy(other.content, seed_dir)
        s = self.proc("seed", seed_dir, torrent=[self.sample.torrent, other.torrent],
                      label="seed of two")
        s.wait_for(lambda st: len({e["torrent"]["name"] for e in s.events()
                                   if e["torrent"]["state"] == "seeding"}) == 2, 30,
                   "seeding both")
        s.wait_listening()
        d = os.path.join(self.dir, "dl")
        p = self.proc("download", d, torrent=[self.sample.torrent, other.torrent],
                      peers=[s.port], extra=["--no-seed"])
        self.assertEqual(p.wait(RUN_TIMEOUT), 0, p.tail())
        sums = {x["name"]: x for x in p.summaries()}
        self.assertEqual(set(sums), {"sample.bin", "other.bin"}, p.tail())
        for name, smp in (("sample.bin", self.sample), ("other.bin", other)):
            self.assertEqual(sums[name]["state"], "finished")
            self.assertEqual(sums[name]["verified_bytes"], smp.total_size)
            self.assertEqual(sums[name]["info_hash"], smp.info_hash)
            self.assert_identical(d, smp)
        note("download of two torrents at once (one seed process for both): two summaries, "
             "both complete and identical")


if __name__ == "__main__":
    pwtest.main()
