"""Transmission 3.00 and aria2 1.36 find each other through `peerwire tracker` and complete a
transfer on loopback, once with both announcing over HTTP and once over UDP (BEP 15).

Transmission never dials loopback peers, so it seeds and aria2 (which dials) downloads: aria2
can only learn the seeder's port from the tracker. aria2 sends UDP announces through its DHT
socket, so for UDP its DHT is on (empty routing table, loopback only). Each case: its own tracker, the seeder
listed by the tracker before aria2 starts, aria2 exits 0 (--seed-time=0) with byte-identical
data, and the tracker's log shows both clients' announces over the expected protocol.
"""
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import peers  # noqa: E402
import pwtest  # noqa: E402
import tracker_fixture as tf  # noqa: E402
import tracker_server_support as tss  # noqa: E402
from pwtest import note  # noqa: E402


@unittest.skipUnless(peers.TRANSMISSION_CLI, "transmission-cli is not installed")
@unittest.skipUnless(peers.ARIA2C, "aria2c is not installed")
class TrackerServerClientsTest(tf.SampleCase):

    def setUp(self):
        super().setUp()
        self.tracker = tss.PeerwireTracker(["--interval", "30"]).start()
        self.addCleanup(self.tracker.cleanup)

    def transmission_to_aria2(self, url, proto, leecher_cls):
        s = self.sample
        ih = bytes.fromhex(s.info_hash)
        torrent = tf.tracked_copy(s, url, os.path.join(self.case_dir, "t.torrent")).torrent
        data = os.path.join(self.case_dir, "data")
        shutil.copytree(s.save_path, data)
        with peers.TransmissionSeeder(torrent, data) as seeder:
            before = self.tracker.wait_swarm(ih, seeders=1, leechers=0, timeout=30)
            with leecher_cls(torrent) as leecher:
                seconds = leecher.wait_done(60)
                self.assertIsNotNone(seconds, f"aria2 did not complete\n{leecher.log_tail()}\n"
                                              f"transmission:\n{seeder.log_tail()}\n"
                                              f"{self.tracker.describe()}")
                got = os.path.join(leecher.download_dir, s.name)
                self.assertEqual(tf.tree_differences(s.content, got), [])
        log = self.tracker.output()
        announces = re.findall(rf"^{proto} 127\.0\.0\.1:\d+ announce {s.info_hash} \S+", log,
                               re.M)
        self.assertGreaterEqual(len(announces), 2, log[-4000:])
        self.assertEqual(self.tracker.stop(), 0, self.tracker.describe())
        note(f"Transmission seeds -> aria2 downloads via peerwire tracker over {proto.upper()}: "
             f"tracker before {before}, aria2 done in {seconds:.2f} s, {len(announces)} "
             f"{proto} announces logged")

    def test_transmission_to_aria2_over_http(self):
        self.transmission_to_aria2(self.tracker.http_url, "http", tf.Aria2TrackerLeecher)

    def test_transmission_to_aria2_over_udp(self):
        self.transmission_to_aria2(self.tracker.udp_url, "udp", tss.Aria2UdpLeecher)


if __name__ == "__main__":
    pwtest.main()
