"""`peerwire download` from real seeders found through a real tracker: libtorrent 2.0,
Transmission 3.00 and aria2 1.36, each seeding alone, each announced to opentracker before
peerwire starts.

The torrent (made once for the script) is multi-file, ~3.7 MiB in 120 pieces of 32 KiB: files
that cross piece boundaries, one two pieces long but unaligned, a 777-byte file inside a
piece, two empty files (one at the top, one in a subdirectory) and a short last piece. Each case
starts its own opentracker (so no stale peer of an earlier case is handed out), whitelists the
info-hash, starts the seeder with a copy of the torrent announcing to it, waits until the
tracker lists one seeder, then runs

    peerwire download T -d DIR --no-seed --bind 127.0.0.1 --port P --json --status-interval 1

and checks: exit 0 within the time limit, a summary line with state "finished", every piece
verified, no hash failure, and the download directory byte-identical to the seeder's data
(empty files included, nothing missing, nothing extra inside the torrent's directory). The
time is printed ("compared: ... in S s").

PEERWIRE_TEST_TRACE=1 in the environment adds --trace (every peer message on stdout, shown in
the failure message) for diagnosis.
"""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import peers  # noqa: E402
import pwtest  # noqa: E402
import tracker_fixture as tf  # noqa: E402
from pwtest import note  # noqa: E402

TRACE = os.environ.get("PEERWIRE_TEST_TRACE") == "1"
HAVE_LT = peers.have_libtorrent()


class DownloadFromClientsTest(tf.SampleCase):

    def setUp(self):
        if not tf.OPENTRACKER:
            self.skipTest("opentracker is not installed")
        super().setUp()

    def test_sample_shape(self):
        s = self.sample
        sizes = s.file_sizes
        self.assertEqual(sorted(p for p, n in sizes.items() if n == 0),
                         ["docs/deeper/empty-in-dir", "empty.txt"], "two empty files")
        self.assertNotEqual(s.total_size % s.piece_length, 0, "short last piece")
        self.assertGreaterEqual(s.piece_count, 100)
        note(f"{s}: files {sizes}")

    def download_from(self, seeder_cls, timeout, **seeder_kw):
        s = self.sample
        with tf.OpenTracker([s.info_hash]) as tracker:
            t = tf.tracked_copy(s, tracker.url, os.path.join(self.case_dir, "tracked.torrent"))
            with seeder_cls(t.torrent, s.save_path, **seeder_kw) as seeder:
                swarm = tracker.wait_swarm(s.info_hash, seeders=1, timeout=30)
                out = os.path.join(self.case_dir, "download")
                os.makedirs(out)
                args = ["download", t.torrent, "-d", out, "--no-seed", "--bind", "127.0.0.1",
                        "--port", peers.free_port(), "--json", "--status-interval", "1"]
                if TRACE:
                    args.append("--trace")
                with tf.PeerwireRun(args) as pw:
                    code = pw.wait(timeout)
                    if code is None:
                        self.fail(f"peerwire download from {seeder.kind} ({seeder.address}) "
                                  f"not done after {timeout}s; tracker {swarm}; last status "
                                  f"{pw.last_status()}\n{pw.stop_and_describe()}\n"
                                  f"{seeder.kind} log:\n{seeder.log_tail()}")
                    elapsed = pw.elapsed
                    self.assertEqual(code, 0, f"exit code\n{pw.describe()}\n"
                                              f"{seeder.kind} log:\n{seeder.log_tail()}")
                    summary = pw.summary()
                    self.assertIsNotNone(summary, f"no summary line\n{pw.describe()}")
                    self.assertEqual(summary["state"], "finished", pw.describe())
                    self.assertEqual(summary["info_hash"], s.info_hash)
                    self.assertEqual(summary["total_size"], s.total_size)
                    self.assertEqual(summary["verified_bytes"], s.total_size)
                    self.assertEqual(summary["pieces_have"], s.piece_count)
                    self.assertEqual(summary["piece_count"], s.piece_count)
                    self.assertEqual(summary["hash_failures"], 0)
                    self.assertGreaterEqual(summary["downloaded"], s.total_size)
                    self.assertEqual(summary["error"], "")
                    diffs = tf.tree_differences(s.content, os.path.join(out, s.name))
                    self.assertEqual(diffs, [], f"download differs from the seeder's data\n"
                                                f"{pw.describe()}")
                    extra = sorted(set(os.listdir(out)) - {s.name})
        rate = s.total_size / elapsed / 2**20
        note(f"{seeder_cls.kind} seeder on {seeder.address} via opentracker -> peerwire: exit 0, "
             f"state finished, {s.piece_count}/{s.piece_count} pieces, downloaded "
             f"{summary['downloaded']} B, {len(s.file_sizes)} files byte-identical (2 empty) in "
             f"{elapsed:.2f} s ({rate:.1f} MiB/s); other entries in -d: {extra}")
        return elapsed

    @unittest.skipUnless(HAVE_LT, "python3-libtorrent is not installed")
    def test_download_from_libtorrent(self):
        self.download_from(peers.LibtorrentSeeder, timeout=45)

    @unittest.skipUnless(peers.TRANSMISSION_CLI, "transmission-cli is not installed")
    def test_download_from_transmission(self):
        # peerwire dials it (Transmission never dials loopback peers); it unchokes on its 10 s
        # rechoke tick.
        self.download_from(peers.TransmissionSeeder, timeout=75)

    @unittest.skipUnless(peers.ARIA2C, "aria2c is not installed")
    def test_download_from_aria2(self):
        self.download_from(peers.Aria2Seeder, timeout=45)


if __name__ == "__main__":
    pwtest.main()
