"""Resuming `peerwire download` after SIGKILL, after SIGTERM, after completion, and after
on-disk corruption, against a `peerwire seed` on 127.0.0.1.

The torrent is 16 MiB in 512 pieces of 32 KiB; the seeder runs with --upload-limit 1.5M so a
full download takes ~11 s. One seeder serves the whole class.

- SIGKILL at 3-4 random points (random progress thresholds; the seed is printed and can be
  replayed with PEERWIRE_TEST_SEED=N), restarting each time: the final run completes with
  byte-identical data; every run starts with at least the bytes the killed run had verified
  (no resume data is saved in so short runs -- 30 s period -- so this is the full recheck of
  the files on disk at work), and the bytes downloaded over all runs stay within the torrent
  size plus what was in flight (received, not yet verified) at each kill.
- SIGTERM: exit 0, resume file written; the restart trusts it (verified_bytes equal at once)
  and downloads exactly the rest (downloaded == size - verified at the stop).
- Restart after completion (no --peer at all): finished at once, 0 bytes downloaded.
- One byte corrupted with size and mtime restored: --recheck finds the piece and downloads
  exactly that one piece again; a byte corrupted with the mtime changed is found without
  --recheck (the file changed since the resume data). Data byte-identical afterwards.
"""
import os
import random
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
import swarm_support as ss  # noqa: E402
from pwtest import note  # noqa: E402

SIZE = 16 << 20
PIECE = 32 << 10
SEED_LIMIT = "1.5M"
RUN_TIMEOUT = 120       # one leecher run to completion (~11 s expected)
# Bytes a killed run may have received without verifying them: blocks of partial pieces and
# pieces waiting for the hash. With one peer at 1.5 MiB/s a few pieces; allow 1 MiB.
IN_FLIGHT = 1 << 20
SEED_BURST = 1536 << 10  # the seeder's token bucket holds one second of its limit


class ResumeTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="peerwire-resume-")
        try:
            cls.sample = ss.make_data(cls.tmp, "resume.bin", SIZE, PIECE, seed=5)
            (cls.seed_port,) = ss.free_ports(1)
            cls.seeder = ss.PeerwireProc("seed", cls.sample.torrent, cls.sample.save_path,
                                         port=cls.seed_port, status_interval=0.5,
                                         extra=["--upload-limit", SEED_LIMIT], label="seeder")
            cls.seeder.start()
            cls.seeder.wait_state("seeding", timeout=60)
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
        self.dir = tempfile.mkdtemp(prefix="leecher-", dir=self.tmp)
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.runs = 0

    def leecher(self, *extra, peers=True, interval=0.1):
        (port,) = ss.free_ports(1)
        self.runs += 1
        p = ss.PeerwireProc("download", self.sample.torrent, self.dir, port=port,
                            peers=[self.seed_port] if peers else [], status_interval=interval,
                            extra=["--no-seed", *extra], label=f"leecher run {self.runs}")
        self.addCleanup(p.close)
        return p.start()

    def first_active(self, p):
        """The first status after checking (state downloading/seeding/finished). Blocks may
        already be arriving: its verified_bytes include what the check kept, and its
        downloaded bytes may include pieces still in progress (not yet verified)."""
        return p.wait_for(lambda s: s["state"] != "checking", 60, "done checking")

    @staticmethod
    def retained(s):
        """Bytes the restart kept from disk, from a finished run's summary: one honest seeder
        means nothing is downloaded twice, so whatever was not downloaded was kept."""
        return SIZE - s["downloaded"]

    def assert_identical(self):
        same, why = ss.same_content(self.sample, self.dir)
        self.assertTrue(same, why)

    def finish(self, p):
        code = p.wait(RUN_TIMEOUT)
        self.assertEqual(code, 0, p.tail())
        s = p.summary()
        self.assertIsNotNone(s, f"no summary\n{p.tail()}")
        self.assertEqual(s["state"], "finished", p.tail())
        self.assertEqual(s["verified_bytes"], SIZE, p.tail())
        self.assertEqual(s["hash_failures"], 0, p.tail())
        return s

    # ------------------------------------------------------------------------------------

    def test_sigkill_at_random_points_then_complete(self):
        seed = ss.random_seed()
        rng = random.Random(seed)
        kills = rng.choice([3, 4])
        bands = [(0.08, 0.25), (0.30, 0.47), (0.52, 0.69), (0.74, 0.90)]
        bands = sorted(rng.sample(bands, kills))
        thresholds = [rng.uniform(lo, hi) for lo, hi in bands]
        delays = [rng.uniform(0, 0.3) for _ in range(kills)]
        note(f"seed {seed} (PEERWIRE_TEST_SEED): {kills} SIGKILLs at "
             + ", ".join(f"{t:.0%}+{d * 1000:.0f}ms" for t, d in zip(thresholds, delays)))

        seeder_before = self.seeder.next_status()["uploaded"]
        rows = []   # per run: retained at start, verified at kill, downloaded at kill
        prev_verified = 0
        for k in range(kills):
            p = self.leecher()
            first = self.first_active(p)
            # Bytes retained from disk: each byte downloaded so far verifies at most one byte,
            # and bytes of pieces still in progress (at most IN_FLIGHT) verify none yet.
            retained = first["verified_bytes"] - first["downloaded"]
            self.assertGreaterEqual(
                retained + IN_FLIGHT, prev_verified,
                f"run {k + 1} starts with {first['verified_bytes']} verified bytes "
                f"({first['downloaded']} downloaded already) but the killed run {k} had "
                f"verified {prev_verified}: verified pieces were lost\n{p.tail()}")
            target = int(thresholds[k] * SIZE)
            p.wait_for(lambda s: s["verified_bytes"] >= target, RUN_TIMEOUT,
                       f"past {target} verified bytes")
            time.sleep(delays[k])
            self.assertTrue(p.alive(), f"leecher finished before its kill point\n{p.tail()}")
            self.assertEqual(p.kill(), -9)
            last = p.last()
            rows.append((retained, last["verified_bytes"], last["downloaded"]))
            prev_verified = last["verified_bytes"]
            have_resume = os.path.exists(ss.resume_path(self.dir, self.sample.info_hash))
            note(f"run {k + 1}: retained {retained}, SIGKILL at >= {last['verified_bytes']} "
                 f"verified, >= {last['downloaded']} downloaded (resume file: {have_resume})")

        p = self.leecher()
        s = self.finish(p)
        retained = self.retained(s)
        self.assertGreaterEqual(retained, prev_verified,
                                f"final run lost verified pieces\n{p.tail()}")
        rows.append((retained, SIZE, s["downloaded"]))
        self.assert_identical()
        note(f"final run: retained {retained}, downloaded {s['downloaded']}, data identical")

        # What each run downloaded went into pieces it verified, plus what was in flight.
        for i, (ret, ver, down) in enumerate(rows):
            self.assertLessEqual(down, ver - ret + IN_FLIGHT,
                                 f"run {i + 1}: downloaded {down} but verified only "
                                 f"{ver - ret} new bytes")
        self.assertLessEqual(s["downloaded"], SIZE - retained + 2 * PIECE,
                             "the final run downloaded more than what was missing")
        total = sum(down for _, _, down in rows)
        # The killed runs' counters are lower bounds (last status line before the kill); the
        # status interval is 0.1 s, i.e. <= ~160 KB at 1.5 MiB/s, covered by IN_FLIGHT.
        self.assertLessEqual(total, SIZE + kills * IN_FLIGHT,
                             f"downloaded {total} bytes over {kills + 1} runs for {SIZE}")
        note(f"sum(downloaded) over {kills + 1} runs {total} <= size {SIZE} + "
             f"{kills} x {IN_FLIGHT} in flight (waste {total - SIZE:+d})")
        # The seeder's side counts every byte it sent to any run, including what a killed run
        # never read (socket buffers): at most one upload burst (the 1.5 MiB rate limit's
        # bucket) plus what was in flight per kill.
        sent = self.seeder.next_status()["uploaded"] - seeder_before
        self.assertLessEqual(sent, SIZE + kills * (IN_FLIGHT + SEED_BURST),
                             f"the seeder sent {sent} bytes to {kills + 1} runs for {SIZE}")
        note(f"seeder sent {sent} bytes over all runs ({sent - SIZE:+d} vs size)")

    def test_sigterm_resume_complete_restart_and_recheck(self):
        info_hash = self.sample.info_hash
        resume = ss.resume_path(self.dir, info_hash)

        # 1. SIGTERM part-way: exit 0, summary, resume data on disk.
        p = self.leecher()
        p.wait_for(lambda s: s["verified_bytes"] >= SIZE * 0.4, RUN_TIMEOUT, "40% verified")
        self.assertEqual(p.terminate(), 0, p.tail())
        stop = p.summary()
        self.assertIsNotNone(stop, p.tail())
        self.assertTrue(os.path.isfile(resume), f"no resume file {resume} after SIGTERM")
        v_stop = stop["verified_bytes"]
        self.assertLess(v_stop, SIZE)
        note(f"SIGTERM at {v_stop} verified: exit 0, resume file written")

        # 2. Restart: resume data trusted (nothing re-verified by download), rest downloaded.
        p = self.leecher()
        first = self.first_active(p)
        self.assertGreaterEqual(first["verified_bytes"], v_stop,
                                f"restart did not start from the resume data\n{p.tail()}")
        s = self.finish(p)
        self.assertEqual(self.retained(s), v_stop, p.tail())
        self.assertGreaterEqual(s["downloaded"], SIZE - v_stop)
        self.assertLessEqual(s["downloaded"], SIZE - v_stop + PIECE,
                             f"restart downloaded {s['downloaded']}, missing was {SIZE - v_stop}")
        self.assert_identical()
        note(f"restart downloaded {s['downloaded']} (missing {SIZE - v_stop}); data identical")

        # 3. Restart after completion, with no peer to download from: finished at once.
        t0 = time.monotonic()
        p = self.leecher(peers=False)
        s = self.finish(p)
        took = time.monotonic() - t0
        self.assertEqual(s["downloaded"], 0)
        states = {st["state"] for st in p.statuses()}
        self.assertLessEqual(states, {"seeding", "finished"},
                             f"states seen after a restart of complete data\n{p.tail()}")
        self.assertLess(took, 10, p.tail())
        note(f"restart when complete: finished in {took:.2f} s, 0 downloaded, states {states}")

        # 4. Corrupt one byte, keep size and mtime: only --recheck can notice.
        piece = random.Random(ss.random_seed()).randrange(1, self.sample.piece_count - 1)
        path = os.path.join(self.dir, self.sample.name)
        self.corrupt(path, piece * PIECE + 1234, keep_mtime=True)
        p = self.leecher(peers=False)
        code = p.wait(RUN_TIMEOUT)
        s = p.summary()
        note(f"byte in piece {piece} corrupted, mtime kept, restart without --recheck: exit "
             f"{code}, state {s and s['state']}, verified {s and s['verified_bytes']} "
             f"(resume data trusted, as documented)")
        p = self.leecher("--recheck")
        s = self.finish(p)
        self.assertEqual(self.retained(s), SIZE - PIECE,
                         f"--recheck should find exactly piece {piece} bad\n{p.tail()}")
        self.assertEqual(s["downloaded"], PIECE,
                         f"--recheck: one piece ({PIECE} bytes) should be downloaded again")
        self.assert_identical()
        note(f"--recheck: piece {piece} found bad, {s['downloaded']} bytes downloaded, "
             "data identical")

        # 5. Corrupt one byte and let the mtime change: the restart rechecks the file itself.
        piece2 = (piece + self.sample.piece_count // 2) % self.sample.piece_count
        self.corrupt(path, piece2 * PIECE + 99, keep_mtime=False)
        p = self.leecher()
        s = self.finish(p)
        self.assertEqual(self.retained(s), SIZE - PIECE,
                         f"changed file not rechecked (piece {piece2} corrupt)\n{p.tail()}")
        self.assertEqual(s["downloaded"], PIECE)
        self.assert_identical()
        note(f"mtime changed: piece {piece2} found bad without --recheck, "
             f"{s['downloaded']} bytes downloaded, data identical")

        # 6. Truncated in the middle of a piece: the pieces before it are kept, the rest
        # (including the cut piece) downloaded again.
        cut = SIZE // 2 + 1000
        os.truncate(path, cut)
        p = self.leecher()
        s = self.finish(p)
        self.assertEqual(self.retained(s), SIZE // 2,
                         f"truncated to {cut}: expected the first half kept\n{p.tail()}")
        self.assertEqual(s["downloaded"], SIZE // 2)
        self.assert_identical()
        note(f"truncated to {cut} bytes: {SIZE // 2} kept, {s['downloaded']} downloaded again")

    def test_sigterm_then_sigkill_with_stale_resume_data(self):
        # Resume data from a SIGTERM at ~25%, then a run killed at ~60%: the resume file now
        # claims less than the disk holds and the file's mtime changed, so the restart must
        # recheck the file and keep the newer pieces too.
        p = self.leecher()
        p.wait_for(lambda s: s["verified_bytes"] >= SIZE * 0.25, RUN_TIMEOUT, "25% verified")
        self.assertEqual(p.terminate(), 0, p.tail())
        v_term = p.summary()["verified_bytes"]
        self.assertTrue(os.path.isfile(ss.resume_path(self.dir, self.sample.info_hash)))

        p = self.leecher()
        first = self.first_active(p)
        # The resume data's pieces are kept (verified at once); nothing beyond them was.
        self.assertGreaterEqual(first["verified_bytes"], v_term, p.tail())
        self.assertLessEqual(first["verified_bytes"] - first["downloaded"], v_term, p.tail())
        p.wait_for(lambda s: s["verified_bytes"] >= SIZE * 0.6, RUN_TIMEOUT, "60% verified")
        p.kill()
        v_kill = p.last()["verified_bytes"]

        p = self.leecher()
        s = self.finish(p)
        retained = self.retained(s)
        self.assertGreaterEqual(retained, v_kill,
                                f"stale resume data ({v_term}) hid pieces verified before the "
                                f"SIGKILL ({v_kill})\n{p.tail()}")
        self.assertLessEqual(s["downloaded"], SIZE - retained + 2 * PIECE)
        self.assert_identical()
        note(f"SIGTERM at {v_term}, SIGKILL at >= {v_kill}: restart retained {retained}, "
             f"downloaded {s['downloaded']}, data identical")

    def test_sigkill_after_completion(self):
        # Killed while seeding right after completing: the restart needs no peer at all.
        (port,) = ss.free_ports(1)
        p = ss.PeerwireProc("download", self.sample.torrent, self.dir, port=port,
                            peers=[self.seed_port], status_interval=0.1,
                            extra=["--seed-time", "10"], label="leecher seeding")
        self.addCleanup(p.close)
        p.start()
        p.wait_state("seeding", timeout=RUN_TIMEOUT)
        p.kill()
        q = self.leecher(peers=False)
        s = self.finish(q)
        self.assertEqual(s["downloaded"], 0, q.tail())
        self.assert_identical()
        note("SIGKILL while seeding, restart without peers: finished, 0 downloaded")

    def corrupt(self, path, offset, keep_mtime):
        st = os.stat(path)
        with open(path, "r+b") as f:
            f.seek(offset)
            b = f.read(1)
            f.seek(offset)
            f.write(bytes([b[0] ^ 0xFF]))
        if keep_mtime:
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        else:
            # Make sure the mtime differs even on a coarse-grained file system.
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


if __name__ == "__main__":
    pwtest.main()
