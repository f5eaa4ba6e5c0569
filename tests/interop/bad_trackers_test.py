"""Broken HTTP trackers (tests/support/bad_tracker.py) do not stop a download.

One `peerwire seed` holds the data. For each bad tracker mode a `peerwire download` runs (all
at the same time) with a torrent whose tiers are [bad tracker] then [good tracker]: the bad
tracker must leave a message naming it in the log (and not crash or hang peerwire), and the
download must complete from the peer the second tier gives. Modes whose answer is usable
(interval 0 or negative: clamped; 100 000 peers: bounded) are the only tier, and the download
completes through them; their re-announces must not hammer the tracker.

The messages are matched loosely (the tracker URL plus a word or two) on purpose: the
announce code is changing (UDP trackers, multitracker back-off), the behaviour asserted here
is the part that must not change.
"""
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import bad_tracker  # noqa: E402
import pwtest  # noqa: E402
import swarm_support as ss  # noqa: E402
from pwtest import note  # noqa: E402

SIZE = 1024 * 1024 + 777
PIECE = 32 * 1024
DONE_TIMEOUT = 100  # the never-ending answer costs the client's 15 s HTTP timeout first

# mode -> (tiers ["bad", "good"] or ["bad"], regex the log line naming the bad URL must match)
CASES = {
    "failure": (["bad", "good"], re.escape(bad_tracker.FAILURE_TEXT)),
    "not_bencoded": (["bad", "good"], r"bencod|dictionary|invalid|html"),
    "truncated": (["bad", "good"], r"bencod|truncat|end|invalid"),
    "peers_not_6": (["bad", "good"], r"multiple of 6"),
    "redirect_loop": (["bad", "good"], r"redirect"),
    "never_ends": (["bad", "good"], r"time"),
    "many_peers": (["bad"], r"peers"),
    "interval_zero": (["bad"], r"interval"),
    "interval_negative": (["bad"], r"interval"),
}


class BadTrackers(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="peerwire-badtrackers-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.sample = ss.make_data(self.tmp, "tracked.bin", SIZE, PIECE, seed=31)

    def test_bad_trackers_give_a_message_and_the_download_completes(self):
        ports = ss.free_ports(len(CASES) + 1)
        seeder = ss.PeerwireProc("seed", self.sample.torrent, self.sample.save_path,
                                 port=ports[0], status_interval=0.5, label="seeder")
        self.addCleanup(seeder.close)
        seeder.start()
        seeder.wait_state("seeding", timeout=60)
        seeder.wait_listening()

        bt = bad_tracker.BadTracker(ports[0])
        bt.__enter__()
        self.addCleanup(bt.__exit__, None, None, None)

        runs = {}
        t0 = time.monotonic()
        for (mode, (tiers, _)), port in zip(CASES.items(), ports[1:]):
            torrent = os.path.join(self.tmp, f"{mode}.torrent")
            args = []
            for t in tiers:
                args += ["-t", bt.url(mode if t == "bad" else "good")]
            pwtest.create(self.sample.content, torrent, "--piece-size", str(PIECE), "--no-date",
                          *args)
            dl = ss.PeerwireProc("download", torrent, os.path.join(self.tmp, mode), port=port,
                                 extra=["--no-seed"], status_interval=0.5, label=mode)
            self.addCleanup(dl.close)
            runs[mode] = dl.start()

        finished = {}
        for mode, dl in runs.items():
            left = max(1.0, DONE_TIMEOUT - (time.monotonic() - t0))
            code = dl.wait(timeout=left)
            finished[mode] = time.monotonic() - t0
            self.assertEqual(code, 0, f"{mode}: exit {code}\n{dl.tail()}")

        for mode, dl in runs.items():
            tiers, pattern = CASES[mode]
            same, why = ss.same_content(self.sample, os.path.join(self.tmp, mode))
            self.assertTrue(same, f"{mode}: {why}")
            url = bt.url(mode)
            lines = [l for l in dl.stderr_text().splitlines() if url in l]
            hit = next((l for l in lines if re.search(pattern, l, re.IGNORECASE)), None)
            self.assertIsNotNone(hit, f"{mode}: no log line with {url} matching /{pattern}/; "
                                 f"lines naming it: {lines}\n{dl.tail()}")
            self.assertGreaterEqual(len(bt.announces[mode]), 1, f"{mode}: never announced")
            if tiers == ["bad", "good"]:
                self.assertGreaterEqual(len(bt.announces["good"]), 1)
            # No hammering: besides started/completed/stopped, no re-announce within the run
            # (any interval the client accepts is >= 60 s, the run is shorter).
            regular = [q for q in bt.announces[mode] if q.get("event", [""])[0] == ""]
            if mode != "redirect_loop":  # each loop hop is one request to the same path
                self.assertLessEqual(len(regular), 1 if tiers == ["bad"] else 3,
                                     f"{mode}: re-announced {len(regular)} times")
            note(f"{mode:18} complete at {finished[mode]:5.1f} s, byte-identical; "
                 f"{len(bt.announces[mode])} request(s) to it; log: {hit.strip()[:120]}")


if __name__ == "__main__":
    pwtest.main()
