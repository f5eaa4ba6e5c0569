"""Magnet links (BEP 9 metadata exchange over BEP 10) and peer exchange (BEP 11), with real
clients on 127.0.0.1.

The sample is the multi-file torrent of download_from_clients_test.py (~3.7 MiB, 120 pieces
of 32 KiB, empty files, a short last piece). Cases:
  - peerwire downloads "magnet:?xt=urn:btih:H&dn=N&x.pe=127.0.0.1:P" whose only source is a
    libtorrent seeder on P, with --save-torrent: the download is byte-identical and the saved
    .torrent has the same info-hash and files as the original;
  - the same with the libtorrent seeder found through opentracker (the magnet's "tr");
  - libtorrent downloads a magnet link whose only metadata (and data) source is `peerwire
    seed` (libtorrent dials it with connect_peer);
  - Transmission 3.00 downloads a magnet link through opentracker, peerwire seeding (peerwire
    dials it: Transmission never dials loopback peers);
  - three peerwire peers learn each other through PEX: a seeder S and two leechers A and B
    that each know only S (--peer); S is capped at 256 KiB/s so the leechers need each other,
    and the PEX interval is shortened to 1 s (--pex-interval, a test hook). A and B must
    connect to each other (seen in A's --trace) and both finish byte-identical;
  - `peerwire probe` of a peerwire seeder shows the extension handshake: ut_metadata,
    ut_pex, metadata_size = the info dict's size, reqq.

PEERWIRE_TEST_TRACE=1 adds --trace to the peerwire downloads (shown on failure).
"""
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import peers  # noqa: E402
import pwtest  # noqa: E402
import tracker_fixture as tf  # noqa: E402
from pwtest import note  # noqa: E402

TRACE = os.environ.get("PEERWIRE_TEST_TRACE") == "1"
HAVE_LT = peers.have_libtorrent()


def magnet(sample, *, trackers=(), peer_ports=()):
    from urllib.parse import quote
    uri = f"magnet:?xt=urn:btih:{sample.info_hash}&dn={quote(sample.name)}"
    for t in trackers:
        uri += "&tr=" + quote(t, safe="")
    for p in peer_ports:
        uri += f"&x.pe=127.0.0.1:{p}"
    return uri


class MagnetPexTest(tf.SampleCase):

    def setUp(self):
        super().setUp()

    # -- helpers ------------------------------------------------------------------------------
    def download(self, uri, out, *extra, timeout=45, what="magnet download"):
        """`peerwire download URI` to completion; returns (summary, run)."""
        args = ["download", uri, "-d", out, "--no-seed", "--bind", "127.0.0.1",
                "--port", peers.free_port(), "--json", "--status-interval", "0.5", *extra]
        if TRACE:
            args.append("--trace")
        with tf.PeerwireRun(args) as pw:
            code = pw.wait(timeout)
            if code is None:
                self.fail(f"{what} not done after {timeout}s; last status {pw.last_status()}\n"
                          f"{pw.stop_and_describe()}")
            self.assertEqual(code, 0, f"{what}: exit code\n{pw.describe()}")
            summary = pw.summary()
            self.assertIsNotNone(summary, f"no summary line\n{pw.describe()}")
            self.check_finished(summary, out, pw)
            states = [e["torrent"]["state"] for e in pw.events() if e.get("event") == "status"]
            return summary, pw.stderr(), states, pw.elapsed

    def check_finished(self, summary, out, pw):
        s = self.sample
        self.assertEqual(summary["state"], "finished", pw.describe())
        self.assertEqual(summary["info_hash"], s.info_hash)
        self.assertEqual(summary["name"], s.name)
        self.assertEqual(summary["verified_bytes"], s.total_size)
        self.assertEqual(summary["piece_count"], s.piece_count)
        self.assertEqual(summary["hash_failures"], 0)
        diffs = tf.tree_differences(s.content, os.path.join(out, s.name))
        self.assertEqual(diffs, [], f"download differs from the seeder's data\n{pw.describe()}")

    def start_seed(self, torrent, data, *extra):
        args = ["seed", torrent, "-d", data, "--bind", "127.0.0.1", "--port", peers.free_port(),
                "--json", "--status-interval", "0.25", *extra]
        pw = tf.PeerwireRun(args).start()
        self.addCleanup(pw.cleanup)
        st = pw.wait_status(lambda t: t["state"] in ("seeding", "error"), timeout=30)
        self.assertIsNotNone(st, f"peerwire seed never said 'seeding'\n{pw.describe()}")
        self.assertEqual(st["state"], "seeding", f"{st}\n{pw.describe()}")
        return pw, int(args[args.index("--port") + 1])

    def copy_data(self, name="data"):
        data = os.path.join(self.case_dir, name)
        shutil.copytree(self.sample.save_path, data)
        return data

    # -- peerwire fetches metadata from libtorrent --------------------------------------------
    @unittest.skipUnless(HAVE_LT, "python3-libtorrent is not installed")
    def test_magnet_from_libtorrent_via_x_pe(self):
        s = self.sample
        with peers.LibtorrentSeeder(s.torrent, s.save_path) as seeder:
            out = os.path.join(self.case_dir, "download")
            os.makedirs(out)
            saved = os.path.join(self.case_dir, "saved.torrent")
            summary, log, states, secs = self.download(
                magnet(s, peer_ports=[seeder.port]), out, "--save-torrent", saved)
        self.assertEqual(states[0] if states else None, "metadata",
                         f"first status should be 'metadata': {states[:5]}")
        with open(s.torrent, "rb") as f:
            self.assertEqual(summary["metadata_size"], len(peers.info_bytes(f.read())))
        info = pwtest.info_json(saved)
        self.assertEqual(info["info_hash"], s.info_hash)
        original = pwtest.info_json(s.torrent)
        self.assertEqual(pwtest.content_files(info), pwtest.content_files(original),
                         "saved torrent lists the same files")
        self.assertIn("metadata received", log)
        self.assertIn("saved the torrent", log)
        # Run again with no source at all: the metadata kept in DIR/.peerwire and the data
        # already there are enough.
        summary2, log2, states2, secs2 = self.download(magnet(s), out, timeout=20,
                                                       what="magnet again, no peers")
        self.assertIn("fetched earlier", log2)
        self.assertEqual(summary2["downloaded"], 0, log2)
        note(f"magnet (x.pe only) from libtorrent -> peerwire: metadata {summary['metadata_size']}"
             f" B, {len(s.file_sizes)} files byte-identical, saved .torrent has info-hash "
             f"{info['info_hash']}, {secs:.2f} s")

    @unittest.skipUnless(HAVE_LT, "python3-libtorrent is not installed")
    @unittest.skipUnless(tf.OPENTRACKER, "opentracker is not installed")
    def test_magnet_from_libtorrent_via_tracker(self):
        s = self.sample
        with tf.OpenTracker([s.info_hash]) as tracker:
            t = tf.tracked_copy(s, tracker.url, os.path.join(self.case_dir, "tracked.torrent"))
            with peers.LibtorrentSeeder(t.torrent, s.save_path):
                swarm = tracker.wait_swarm(s.info_hash, seeders=1, timeout=30)
                out = os.path.join(self.case_dir, "download")
                os.makedirs(out)
                summary, log, states, secs = self.download(magnet(s, trackers=[tracker.url]), out)
        note(f"magnet (tr only: opentracker {swarm}) from libtorrent -> peerwire: byte-identical "
             f"in {secs:.2f} s")

    # -- others fetch metadata from peerwire --------------------------------------------------
    @unittest.skipUnless(HAVE_LT, "python3-libtorrent is not installed")
    def test_libtorrent_magnet_from_peerwire(self):
        s = self.sample
        pw, port = self.start_seed(s.torrent, self.copy_data())
        with tf.LibtorrentLeecher(magnet(s), peers=[port]) as leecher:
            seconds = leecher.wait_done(45)
            self.assertIsNotNone(seconds, f"libtorrent magnet download from peerwire not done\n"
                                          f"{leecher.log_tail()}\n{pw.stop_and_describe()}")
            diffs = tf.tree_differences(s.content, os.path.join(leecher.download_dir, s.name))
            self.assertEqual(diffs, [], leecher.log_tail())
        code = pw.interrupt()
        self.assertEqual(code, 0, pw.describe())
        self.assertGreaterEqual(pw.summary()["uploaded"], s.total_size)
        note(f"libtorrent magnet download, peerwire the only metadata and data source: "
             f"byte-identical in {seconds:.2f} s")

    @unittest.skipUnless(peers.TRANSMISSION_CLI, "transmission-cli is not installed")
    @unittest.skipUnless(tf.OPENTRACKER, "opentracker is not installed")
    def test_transmission_magnet_from_peerwire(self):
        s = self.sample
        with tf.OpenTracker([s.info_hash]) as tracker:
            t = tf.tracked_copy(s, tracker.url, os.path.join(self.case_dir, "t.torrent"))
            with tf.TransmissionLeecher(magnet(s, trackers=[tracker.url])) as leecher:
                swarm = tracker.wait_swarm(s.info_hash, leechers=1, timeout=30)
                pw, port = self.start_seed(t.torrent, self.copy_data())
                seconds = leecher.wait_done(90)
                self.assertIsNotNone(seconds, f"Transmission magnet download not done "
                                              f"({swarm})\n{leecher.log_tail()}\n"
                                              f"{pw.stop_and_describe()}")
                got = os.path.join(leecher.download_dir, s.name)
                diffs = tf.tree_differences(s.content, got, ignore_missing_empty=True)
                self.assertEqual(diffs, [], leecher.log_tail())
        note(f"Transmission magnet download through opentracker, peerwire the only source: "
             f"byte-identical (empty files aside) in {seconds:.2f} s")

    # -- PEX ----------------------------------------------------------------------------------
    def test_pex_introduces_two_leechers(self):
        s = self.sample
        seed_pw, seed_port = self.start_seed(s.torrent, self.copy_data(), "--upload-limit",
                                             "256K", "--pex-interval", "1")
        runs = []
        ports = [peers.free_port(), peers.free_port()]
        for i, port in enumerate(ports):
            out = os.path.join(self.case_dir, f"leecher{i}")
            os.makedirs(out)
            args = ["download", s.torrent, "-d", out, "--no-seed", "--bind", "127.0.0.1",
                    "--port", port, "--peer", f"127.0.0.1:{seed_port}", "--json",
                    "--status-interval", "0.5", "--pex-interval", "1", "--trace"]
            pw = tf.PeerwireRun(args).start()
            self.addCleanup(pw.cleanup)
            runs.append((pw, out))
        for pw, out in runs:
            code = pw.wait(60)
            self.assertIsNotNone(code, f"leecher not done\n{pw.stop_and_describe()}")
            self.assertEqual(code, 0, pw.describe())
            self.check_finished(pw.summary(), out, pw)
        # A dialled B or B dialled A: either trace shows the other's listening port.
        a, b = runs[0][0], runs[1][0]
        a_to_b = any(f"127.0.0.1:{ports[1]}" in l for l in a.trace_lines())
        b_to_a = any(f"127.0.0.1:{ports[0]}" in l for l in b.trace_lines())
        self.assertTrue(a_to_b or b_to_a,
                        f"the leechers never connected to each other\nA:\n{a.describe()}\n"
                        f"B:\n{b.describe()}")
        learnt = [("through PEX" in pw.stderr()) for pw, _ in runs]
        self.assertTrue(any(learnt), "no leecher logged peers learnt through PEX")
        traded = [pw.summary()["uploaded"] for pw, _ in runs]
        note(f"PEX: seeder at 256 KiB/s, leechers knowing only the seeder found each other "
             f"(A->B {a_to_b}, B->A {b_to_a}); uploaded among themselves {traded} B")

    # -- probe shows our extension handshake --------------------------------------------------
    def test_probe_shows_extension_handshake(self):
        s = self.sample
        pw, port = self.start_seed(s.torrent, self.copy_data())
        r = pwtest.run(["probe", f"127.0.0.1:{port}", s.torrent, "--json"], check=0)
        import json
        text = r.stdout.decode()
        rep = json.loads(text)
        for key in ("ut_metadata", "ut_pex", "metadata_size", "reqq"):
            self.assertIn(key, text, f"probe output lacks {key}\n{text}")
        with open(s.torrent, "rb") as f:
            size = len(peers.info_bytes(f.read()))
        self.assertIn(str(size), text, f"metadata_size {size} not shown\n{text}")
        note(f"probe of peerwire seed shows ut_metadata, ut_pex, metadata_size {size}, reqq; "
             f"verdict keys {sorted(rep)[:6]}")

    def test_private_torrent_offers_no_pex(self):
        # BEP 27: a private torrent's peers come from its tracker only.
        src = os.path.join(self.case_dir, "private-data")
        os.makedirs(src)
        with open(os.path.join(src, "p.bin"), "wb") as f:
            f.write(os.urandom(200_000))
        torrent = os.path.join(self.case_dir, "private.torrent")
        pwtest.create(os.path.join(src, "p.bin"), torrent, "--private")
        pw, port = self.start_seed(torrent, src)
        r = pwtest.run(["probe", f"127.0.0.1:{port}", torrent, "--json"], check=0)
        import json
        m = json.loads(r.stdout.decode())["extension_handshake"]["m"]
        self.assertNotEqual(m.get("ut_metadata", 0), 0, m)
        self.assertEqual(m.get("ut_pex", 0), 0, f"ut_pex offered for a private torrent: {m}")
        note(f"private torrent: the extension handshake offers ut_metadata, not ut_pex: m = {m}")


if __name__ == "__main__":
    pwtest.main()
