"""UDP trackers (BEP 15), scrape (BEP 48/15) and multitracker behaviour (BEP 12) against a real
tracker: opentracker on 127.0.0.1, which serves HTTP and UDP on the same port.

- peerwire downloads from a libtorrent seeder that it finds through opentracker's UDP side
  (both announce over UDP);
- `peerwire scrape` over HTTP and over UDP reports the counts opentracker itself reports (one
  seeder: the libtorrent seeder), and the same as libtorrent's own scrape;
- failover: a torrent whose first tier is a silent UDP tracker and a refused HTTP one, second
  tier opentracker, still downloads quickly with `--udp-tracker-timeout 0.2`, and the status
  says which tracker failed and why;
- `--announce-all-tiers`: a seeder announces to both tiers' trackers; without it only to the
  first tier that answers;
- IPv6 (BEP 15 over an IPv6 socket, 18-byte peers): opentracker is built IPv4-only, so
  `peerwire tracker` on ::1 serves a `peerwire seed` and a `peerwire download` both bound to ::1
  (skipped when ::1 or the tracker command is unavailable).
Each case starts its own opentracker (stale peers of another case are never handed out).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import peers  # noqa: E402
import pwtest  # noqa: E402
import tracker_fixture as tf  # noqa: E402
from pwtest import note  # noqa: E402

HAVE_LT = peers.have_libtorrent()

FILES = {"a.bin": 20 * tf.PIECE + 77, "dir/b.bin": 9 * tf.PIECE, "c.txt": 4321}


def tiered_copy(sample, tiers, out_path):
    """A copy of sample's torrent with announce = tiers[0][0] and announce-list = tiers (the info
    dict, hence the info-hash, unchanged)."""
    first_key, _ = peers.bdecode(sample.torrent_bytes, 1)
    if first_key <= b"announce-list":
        raise ValueError(f"torrent starts with key {first_key!r}: cannot splice announce keys")
    with open(out_path, "wb") as f:
        f.write(b"d8:announce" + peers.bencode(tiers[0][0]) + b"13:announce-list" +
                peers.bencode(tiers) + sample.torrent_bytes[1:])
    out = peers.Sample(out_path, sample.save_path, sample.content)
    assert out.info_hash == sample.info_hash
    return out


_LT_SCRAPE = r'''
import json, sys, time
import libtorrent as lt
cfg = json.loads(sys.argv[1])
ses = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False,
                  "alert_mask": lt.alert.category_t.all_categories})
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(cfg["torrent"])
atp.save_path = cfg["save_path"]
atp.flags |= lt.torrent_flags.upload_mode
atp.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
h = ses.add_torrent(atp)
deadline = time.monotonic() + 20
asked = False
while time.monotonic() < deadline:
    if not asked and h.status().state in (lt.torrent_status.downloading, lt.torrent_status.seeding):
        h.scrape_tracker(0)
        asked = True
    ses.wait_for_alert(100)
    for a in ses.pop_alerts():
        if isinstance(a, lt.scrape_reply_alert):
            print(json.dumps({"complete": a.complete, "incomplete": a.incomplete}), flush=True)
            sys.exit(0)
        if isinstance(a, lt.scrape_failed_alert):
            print(json.dumps({"error": a.message()}), flush=True)
            sys.exit(1)
print(json.dumps({"error": "no scrape reply in 20 s"}), flush=True)
sys.exit(1)
'''


def libtorrent_scrape(torrent, tmp):
    """libtorrent's own scrape of the torrent's first tracker: {"complete", "incomplete"}."""
    script = os.path.join(tmp, "lt_scrape.py")
    with open(script, "w") as f:
        f.write(_LT_SCRAPE)
    save = tempfile.mkdtemp(dir=tmp)
    proc = subprocess.run([peers.LT_PYTHON, "-u", script,
                           json.dumps({"torrent": torrent, "save_path": save})],
                          capture_output=True, text=True, timeout=40,
                          preexec_fn=peers._die_with_parent)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": proc.stderr[-2000:]}


class UdpTrackerTest(tf.SampleCase):
    sample_kw = {"files": FILES, "name": "udpt"}

    def setUp(self):
        if not tf.OPENTRACKER:
            self.skipTest("opentracker is not installed")
        super().setUp()

    def path(self, name):
        return os.path.join(self.case_dir, name)

    def download(self, torrent, timeout, *extra):
        """Runs peerwire download to completion; returns (PeerwireRun, elapsed) after checking
        the result is complete and byte-identical."""
        s = self.sample
        out = self.path("download")
        os.makedirs(out)
        args = ["download", torrent, "-d", out, "--no-seed", "--bind", "127.0.0.1",
                "--port", peers.free_port(), "--json", "--status-interval", "0.5", *extra]
        pw = tf.PeerwireRun(args)
        self.addCleanup(pw.cleanup)
        pw.start()
        code = pw.wait(timeout)
        if code is None:
            self.fail(f"not done after {timeout}s; last status {pw.last_status()}\n"
                      f"{pw.stop_and_describe()}")
        self.assertEqual(code, 0, pw.describe())
        summary = pw.summary()
        self.assertIsNotNone(summary, pw.describe())
        self.assertEqual(summary["state"], "finished", pw.describe())
        self.assertEqual(summary["verified_bytes"], s.total_size)
        self.assertEqual(tf.tree_differences(s.content, os.path.join(out, s.name)), [],
                         pw.describe())
        return pw, pw.elapsed

    def scrape_json(self, *args):
        proc = pwtest.run(["scrape", "--json", "--timeout", "5", *args], timeout=30)
        self.assertIn(proc.returncode, (0, 4), proc.stderr.decode())
        return json.loads(proc.stdout), proc.returncode

    @unittest.skipUnless(HAVE_LT, "python3-libtorrent is not installed")
    def test_download_through_udp_tracker(self):
        s = self.sample
        with tf.OpenTracker([s.info_hash]) as tracker:
            udp_url = f"udp://127.0.0.1:{tracker.port}/announce"
            t = tf.tracked_copy(s, udp_url, self.path("udp.torrent"))
            with peers.LibtorrentSeeder(t.torrent, s.save_path) as seeder:
                swarm = tracker.wait_swarm(s.info_hash, seeders=1, timeout=30)
                pw, elapsed = self.download(t.torrent, 45)
                # peerwire announced over UDP only: its peer came from the UDP reply.
                self.assertEqual(pw.summary()["tracker_message"], "", pw.describe())
        note(f"libtorrent seeder {seeder.address} announced over UDP (tracker: {swarm}); "
             f"peerwire found it through {udp_url} and downloaded {s.total_size} B "
             f"byte-identical in {elapsed:.2f} s")

    @unittest.skipUnless(HAVE_LT, "python3-libtorrent is not installed")
    def test_scrape_http_and_udp(self):
        s = self.sample
        with tf.OpenTracker([s.info_hash]) as tracker:
            udp_url = f"udp://127.0.0.1:{tracker.port}/announce"
            t = tf.tracked_copy(s, tracker.url, self.path("http.torrent"))
            with peers.LibtorrentSeeder(t.torrent, s.save_path):
                expected = tracker.wait_swarm(s.info_hash, seeders=1, timeout=30)
                out, code = self.scrape_json("--tracker", tracker.url, "--tracker", udp_url,
                                             "--info-hash", s.info_hash)
                self.assertEqual(code, 0, out)
                got = [(tr["seeders"], tr["leechers"], tr["completed"]) for tr in out["trackers"]]
                want = (expected["complete"], expected["incomplete"], expected["downloaded"])
                self.assertEqual(got, [want, want], out)
                self.assertEqual(want[0], 1)
                # The torrent's own tracker list (here the HTTP announce URL).
                from_torrent, code = self.scrape_json(t.torrent)
                self.assertEqual(code, 0)
                self.assertEqual(from_torrent["trackers"][0]["seeders"], 1)
                lt_view = libtorrent_scrape(tf.tracked_copy(s, udp_url, self.path("u.torrent"))
                                            .torrent, self.case_dir)
        note(f"opentracker says {expected}; peerwire scrape over HTTP and UDP: {got}")
        if "error" in lt_view:
            note(f"libtorrent's own scrape did not answer ({lt_view['error'][:200]}); not compared")
        else:
            self.assertEqual(lt_view["complete"], want[0], lt_view)
            note(f"libtorrent's own UDP scrape: {lt_view} (its own announce may add a leecher)")

    @unittest.skipUnless(HAVE_LT, "python3-libtorrent is not installed")
    def test_failover_to_second_tier(self):
        s = self.sample
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        self.addCleanup(silent.close)
        dead_udp = f"udp://127.0.0.1:{silent.getsockname()[1]}/announce"
        dead_http = f"http://127.0.0.1:{peers.closed_port()}/announce"
        with tf.OpenTracker([s.info_hash]) as tracker:
            seeder_t = tf.tracked_copy(s, tracker.url, self.path("seeder.torrent"))
            t = tiered_copy(s, [[dead_udp, dead_http], [tracker.url]], self.path("tiers.torrent"))
            with peers.LibtorrentSeeder(seeder_t.torrent, s.save_path):
                tracker.wait_swarm(s.info_hash, seeders=1, timeout=30)
                pw, elapsed = self.download(t.torrent, 40, "--udp-tracker-timeout", "0.2")
        message = pw.summary()["tracker_message"]
        self.assertLess(elapsed, 20, pw.describe())
        self.assertTrue(dead_udp in message or dead_http in message, pw.describe())
        log = pw.stderr()
        self.assertIn(f"{dead_udp}: no reply from {dead_udp} after 3 tries", log)
        self.assertIn(f"{dead_http}: could not connect", log)
        note(f"tier 1 dead (silent UDP, refused HTTP), tier 2 opentracker: downloaded in "
             f"{elapsed:.2f} s; status tracker message {message!r}")

    def seed_until_listed(self, torrent, trackers, *extra):
        """`peerwire seed` of the sample; waits until trackers[0] lists it; returns the run."""
        s = self.sample
        pw = tf.PeerwireRun(["seed", torrent, "-d", s.save_path, "--bind", "127.0.0.1",
                             "--port", peers.free_port(), "--json", "--status-interval", "0.5",
                             *extra])
        self.addCleanup(pw.cleanup)
        pw.start()
        trackers[0].wait_swarm(s.info_hash, seeders=1, timeout=30)
        return pw

    def test_announce_all_tiers(self):
        s = self.sample
        with tf.OpenTracker([s.info_hash]) as one, tf.OpenTracker([s.info_hash]) as two:
            udp_one = f"udp://127.0.0.1:{one.port}/announce"
            t = tiered_copy(s, [[udp_one], [two.url]], self.path("two-tiers.torrent"))
            pw = self.seed_until_listed(t.torrent, [one])
            # Tier by tier: tier 1 answered, so tier 2 is never asked.
            time.sleep(1.0)
            self.assertEqual(two.scrape(s.info_hash)["complete"], 0, pw.describe())
            pw.stop()
        with tf.OpenTracker([s.info_hash]) as one, tf.OpenTracker([s.info_hash]) as two:
            udp_one = f"udp://127.0.0.1:{one.port}/announce"
            t = tiered_copy(s, [[udp_one], [two.url]], self.path("two-tiers-2.torrent"))
            pw = self.seed_until_listed(t.torrent, [one], "--announce-all-tiers")
            listed = two.wait_swarm(s.info_hash, seeders=1, timeout=15)
            self.assertEqual(listed["complete"], 1)
            pw.stop()
        note("seed of a two-tier torrent: without --announce-all-tiers only tier 1 (UDP) lists "
             "it; with it, both tiers (UDP and HTTP) list it as a seeder")

    def test_ipv6_udp_tracker(self):
        if not socket.has_ipv6:
            self.skipTest("no IPv6")
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
                probe.bind(("::1", 0))
        except OSError:
            self.skipTest("cannot bind ::1")
        s = self.sample
        log_path = self.path("tracker.log")
        with open(log_path, "wb") as log:
            tracker = subprocess.Popen([pwtest.PEERWIRE, "tracker", "--http", "0", "--udp", "0",
                                        "--bind", "::1"], stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, preexec_fn=peers._die_with_parent)
        self.addCleanup(lambda: (tracker.poll() is None and tracker.kill(), tracker.wait(5)))
        port = None
        deadline = time.monotonic() + 10
        while port is None and time.monotonic() < deadline and tracker.poll() is None:
            with open(log_path) as f:
                for line in f:
                    if line.startswith("listening: udp [::1]:"):
                        port = int(line.rsplit(":", 1)[1])
            time.sleep(0.05)
        if port is None:
            self.skipTest(f"`peerwire tracker` did not start on ::1: {open(log_path).read()[-500:]}")
        url = f"udp://[::1]:{port}/announce"
        t = tf.tracked_copy(s, url, self.path("v6.torrent"))
        seed = tf.PeerwireRun(["seed", t.torrent, "-d", s.save_path, "--bind", "::1", "--port",
                               peers.free_port(), "--json", "--status-interval", "0.5"])
        self.addCleanup(seed.cleanup)
        seed.start()
        listed = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            out, _ = self.scrape_json("--tracker", url, "--info-hash", s.info_hash)
            if out["trackers"][0].get("seeders") == 1:
                listed = out
                break
            time.sleep(0.2)
        self.assertIsNotNone(listed, f"the seed never showed up at {url}\n{seed.describe()}")
        out = self.path("download")
        os.makedirs(out)
        pw = tf.PeerwireRun(["download", t.torrent, "-d", out, "--no-seed", "--bind", "::1",
                             "--port", peers.free_port(), "--json", "--status-interval", "0.5"])
        self.addCleanup(pw.cleanup)
        pw.start()
        code = pw.wait(40)
        self.assertEqual(code, 0, pw.stop_and_describe())
        self.assertEqual(pw.summary()["state"], "finished", pw.describe())
        self.assertEqual(tf.tree_differences(s.content, os.path.join(out, s.name)), [])
        note(f"IPv6: peerwire seed and download on ::1 met through {url} (18-byte peers); "
             f"scrape over IPv6 said {listed['trackers'][0]['seeders']} seeder; "
             f"download byte-identical in {pw.elapsed:.2f} s")


if __name__ == "__main__":
    pwtest.main()
