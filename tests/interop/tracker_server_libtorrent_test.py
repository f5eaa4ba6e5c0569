"""Real clients find each other through `peerwire tracker` and complete a transfer (loopback).

libtorrent 2.0 seeds, another libtorrent session downloads: the downloader gets its only peer
from the tracker (no connect_peer), over HTTP in one case and over UDP (BEP 15) in the other;
once done it scrapes the tracker (HTTP scrape, BEP 48 / UDP scrape, BEP 15) and its scrape
must agree with the tracker's own counts (2 seeders, 0 leechers, 1 download). A third case mixes
protocols on one tracker: aria2 seeds announcing over UDP, libtorrent downloads announcing over
HTTP (aria2 sends UDP announces through its DHT socket, so its DHT is on: empty routing table,
loopback only). Each case: its own tracker, data byte-identical at the end, the tracker stops with exit 0.
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
import tracker_server_support as tss  # noqa: E402
from pwtest import note  # noqa: E402

HAVE_LT = peers.have_libtorrent()


@unittest.skipUnless(HAVE_LT, "python3-libtorrent is not installed")
class TrackerServerLibtorrentTest(tf.SampleCase):

    def setUp(self):
        super().setUp()
        self.tracker = tss.PeerwireTracker(["--interval", "30"]).start()
        self.addCleanup(self.tracker.cleanup)

    def torrent_for(self, url, name="t.torrent"):
        return tf.tracked_copy(self.sample, url, os.path.join(self.case_dir, name)).torrent

    def check_download(self, client, dl_dir, seconds):
        self.assertIsNotNone(seconds, f"download did not complete\n{client.log_tail()}\n"
                                      f"{self.tracker.describe()}")
        got = os.path.join(dl_dir, self.sample.name)
        self.assertEqual(tf.tree_differences(self.sample.content, got), [])

    def lt_to_lt(self, url, how):
        ih = bytes.fromhex(self.sample.info_hash)
        torrent = self.torrent_for(url)
        with peers.LibtorrentSeeder(torrent, self.sample.save_path):
            before = self.tracker.wait_swarm(ih, seeders=1, leechers=0, timeout=20)
            dl = os.path.join(self.case_dir, "dl")
            with tss.LtTrackedClient(torrent, dl, scrape=True) as client:
                seconds = client.wait_done(45)
                self.check_download(client, dl, seconds)
                # Its completed announce makes it a seeder; then its scrape must agree.
                counts = self.tracker.wait_swarm(ih, seeders=2, leechers=0, timeout=20)
                deadline = time.monotonic() + 20
                while (2, 0) not in client.scrapes() and time.monotonic() < deadline:
                    time.sleep(0.1)
                self.assertIn((2, 0), client.scrapes(),
                              f"libtorrent's scrape disagrees\n{client.log_tail()}")
                self.assertEqual(counts["downloaded"], 1, counts)
                scrapes = client.scrapes()
        self.assertEqual(self.tracker.stop(), 0, self.tracker.describe())
        note(f"libtorrent -> libtorrent via peerwire tracker over {how}: tracker before {before}, "
             f"done in {seconds:.2f} s, libtorrent scrape (complete, incomplete) "
             f"{scrapes[-1]} == tracker {counts}")

    def test_libtorrent_via_http_tracker(self):
        self.lt_to_lt(self.tracker.http_url, "HTTP")

    def test_libtorrent_via_udp_tracker(self):
        self.lt_to_lt(self.tracker.udp_url, "UDP")

    @unittest.skipUnless(peers.ARIA2C, "aria2c is not installed")
    def test_aria2_seeds_over_udp_libtorrent_downloads_over_http(self):
        ih = bytes.fromhex(self.sample.info_hash)
        udp_torrent = self.torrent_for(self.tracker.udp_url, "udp.torrent")
        http_torrent = self.torrent_for(self.tracker.http_url, "http.torrent")
        data = os.path.join(self.case_dir, "data")
        shutil.copytree(self.sample.save_path, data)  # aria2 writes control files next to it
        with peers.Aria2Seeder(udp_torrent, data,
                               extra_args=tss.aria2_udp_tracker_args(self.case_dir)):
            before = self.tracker.wait_swarm(ih, seeders=1, timeout=30)
            dl = os.path.join(self.case_dir, "dl")
            with tss.LtTrackedClient(http_torrent, dl) as client:
                seconds = client.wait_done(45)
                self.check_download(client, dl, seconds)
        out = self.tracker.output()
        self.assertIn("udp 127.0.0.1:", out)
        self.assertIn("http 127.0.0.1:", out)
        note(f"aria2 (UDP announce) -> libtorrent (HTTP announce), one swarm: before {before}, "
             f"done in {seconds:.2f} s")


if __name__ == "__main__":
    pwtest.main()
