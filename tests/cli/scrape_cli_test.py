"""`peerwire scrape` against scripted trackers on 127.0.0.1: a fake UDP tracker (BEP 15) that
answers, sends an error, uses the wrong transaction id, truncates its replies or stays silent,
and a small HTTP server answering BEP 48 scrapes with a bencoded "files" dictionary keyed by the
raw 20-byte info-hash. Also: refused URL schemes, trackers without a scrape URL, bad input and
the exit codes (0: a tracker answered, 4: none did, 2: bad input). Real trackers (opentracker)
are in tests/interop/udp_tracker_test.py.
"""
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import fake_udp_tracker as fut  # noqa: E402
import peers  # noqa: E402
import pwtest  # noqa: E402
import tracker_fixture as tf  # noqa: E402
from pwtest import note  # noqa: E402

HASH = "0123456789abcdef0123456789abcdef01234567"
QUICK = ["--timeout", "2", "--udp-retransmit", "0.2"]


class ScrapeHandler(http.server.BaseHTTPRequestHandler):
    """Answers /scrape with counts 4/5/6 for HASH; records the request paths."""
    paths = []

    def do_GET(self):
        ScrapeHandler.paths.append(self.path)
        parsed = urllib.parse.urlparse(self.path)
        if parsed.path != "/x/scrape":
            self.send_response(404)
            self.end_headers()
            return
        files = {}
        # parse_qs would decode to str: split the raw query to get the exact bytes.
        raw = [part.split("=", 1)[1] for part in parsed.query.split("&")
               if part.startswith("info_hash=")]
        for q in raw:
            h = urllib.parse.unquote_to_bytes(q)
            if h == bytes.fromhex(HASH):
                files[h] = {"complete": 4, "downloaded": 5, "incomplete": 6}
        body = pwtest.bencode({"files": files})
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class HttpScrapeServer:
    def __enter__(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ScrapeHandler)
        self.server.timeout = 0.1
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        ScrapeHandler.paths = []
        return self

    @property
    def port(self):
        return self.server.server_address[1]

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        return False


def scrape(*args, check=None, timeout=30):
    started = time.monotonic()
    proc = pwtest.run(["scrape", *args], check=check, timeout=timeout)
    return proc, time.monotonic() - started


def scrape_json(*args, check=None):
    proc, took = scrape(*args, "--json", check=check)
    return json.loads(proc.stdout), proc, took


class ScrapeCliTest(pwtest.TempDirCase):

    def test_udp_counts(self):
        with fut.FakeUdpTracker("ok", counts=(7, 8, 9)) as t:
            out, _, took = scrape_json("--tracker", t.url, "--info-hash", HASH, *QUICK, check=0)
        tr = out["trackers"][0]
        self.assertTrue(tr["ok"], out)
        self.assertEqual((tr["seeders"], tr["completed"], tr["leechers"]), (7, 8, 9))
        self.assertEqual(out["answered"], 1)
        self.assertEqual((t.count(0), t.count(2)), (1, 1), t.requests)
        self.assertIn((2, 36), t.requests, "one 36-byte scrape request (16 + 20)")
        note(f"fake UDP tracker: seeders 7 completed 8 leechers 9 in {took:.2f} s; "
             f"requests {t.requests}")

    def test_udp_text_output(self):
        with fut.FakeUdpTracker("ok", counts=(1, 2, 3)) as t:
            proc, _ = scrape("--tracker", t.url, "--info-hash", HASH, *QUICK, check=0)
        text = proc.stdout.decode()
        self.assertIn(f"Info-hash {HASH}", text)
        self.assertIn("seeders 1  leechers 3  completed 2", text)
        note(f"text output: {text.strip()!r}")

    def test_udp_error_action(self):
        with fut.FakeUdpTracker("error", message="info-hash not allowed") as t:
            out, proc, _ = scrape_json("--tracker", t.url, "--info-hash", HASH, *QUICK, check=4)
        self.assertFalse(out["trackers"][0]["ok"])
        self.assertEqual(out["trackers"][0]["error"], "tracker says: info-hash not allowed")
        self.assertEqual(out["answered"], 0)
        note(f"error action (3): exit 4, {out['trackers'][0]['error']!r}")

    def test_udp_wrong_transaction_id_is_not_accepted(self):
        with fut.FakeUdpTracker("wrong_tid", counts=(7, 8, 9)) as t:
            out, _, took = scrape_json("--tracker", t.url, "--info-hash", HASH, *QUICK, check=4)
        err = out["trackers"][0]["error"]
        self.assertIn("no reply", err)
        self.assertGreaterEqual(t.count(0), 3, f"retransmitted connects: {t.requests}")
        self.assertEqual(t.count(2), 0, "never got as far as the scrape")
        self.assertLess(took, 10)
        note(f"wrong transaction ids ignored: {err!r} after {took:.2f} s, "
             f"{t.count(0)} connect requests (retransmitted at 0.2, 0.4, 0.8 s ...)")

    def test_udp_truncated_reply(self):
        with fut.FakeUdpTracker("truncated", counts=(7, 8, 9)) as t:
            out, _, _ = scrape_json("--tracker", t.url, "--info-hash", HASH, *QUICK, check=4)
        err = out["trackers"][0]["error"]
        self.assertIn("bad reply", err)
        self.assertIn("not a multiple of 12", err)
        note(f"truncated scrape reply: {err!r}")

    def test_udp_silent_tracker_is_bounded(self):
        with fut.FakeUdpTracker("silent") as t:
            out, _, took = scrape_json("--tracker", t.url, "--info-hash", HASH,
                                       "--timeout", "1.5", "--udp-retransmit", "0.2", check=4)
        self.assertIn("no reply", out["trackers"][0]["error"])
        self.assertLess(took, 6)
        self.assertGreaterEqual(t.count(0), 3)
        note(f"silent tracker: exit 4 after {took:.2f} s, {t.count(0)} tries")

    def test_http_scrape_bep48(self):
        with HttpScrapeServer() as srv:
            url = f"http://127.0.0.1:{srv.port}/x/announce"
            out, _, _ = scrape_json("--tracker", url, "--info-hash", HASH, *QUICK, check=0)
            paths = list(ScrapeHandler.paths)
        tr = out["trackers"][0]
        self.assertTrue(tr["ok"], out)
        self.assertEqual((tr["seeders"], tr["completed"], tr["leechers"]), (4, 5, 6))
        self.assertEqual(len(paths), 1)
        self.assertTrue(paths[0].startswith("/x/scrape?info_hash=%01%23Eg%89%AB%CD%EF"), paths)
        note(f"HTTP scrape: announce -> {paths[0]}, counts 4/5/6")

    def test_http_not_listed(self):
        with HttpScrapeServer() as srv:
            url = f"http://127.0.0.1:{srv.port}/x/announce"
            out, _, _ = scrape_json("--tracker", url, "--info-hash", "ff" * 20, *QUICK, check=0)
        self.assertTrue(out["trackers"][0]["ok"])
        self.assertFalse(out["trackers"][0]["listed"])
        note("a hash the tracker does not list: ok, listed false")

    def test_http_without_scrape_url(self):
        out, _, _ = scrape_json("--tracker", "http://127.0.0.1:9/tracker.php", "--info-hash", HASH,
                                *QUICK, check=4)
        err = out["trackers"][0]["error"]
        self.assertIn("does not support scrape", err)
        note(f"no /announce in the URL: {err!r}")

    def test_refused_schemes(self):
        for url in ("file:///etc/passwd", "gopher://127.0.0.1:70/1", "ftp://127.0.0.1/announce"):
            proc, _ = scrape("--tracker", url, "--info-hash", HASH, check=2)
            err = proc.stderr.decode()
            self.assertIn("refused: only http, https and udp", err)
            note(f"--tracker {url}: exit 2, {err.strip()!r}")

    def test_refused_schemes_inside_a_torrent_are_reported_per_tracker(self):
        data = pwtest.single_file(self.tmp)
        with fut.FakeUdpTracker("ok", counts=(1, 1, 1)) as t:
            torrent = self.path("t.torrent")
            pwtest.create(data, torrent, "-t", "gopher://127.0.0.1:70/announce", "-t",
                          "file:///etc/passwd", "-t", t.url, "-t", "http://127.0.0.1:9/announce")
            out, _, _ = scrape_json(torrent, *QUICK, check=0)
        by_url = {tr["url"]: tr for tr in out["trackers"]}
        self.assertEqual(len(by_url), 4)
        self.assertIn("refused", by_url["gopher://127.0.0.1:70/announce"]["error"])
        self.assertIn("refused", by_url["file:///etc/passwd"]["error"])
        self.assertTrue(by_url[t.url]["ok"])
        self.assertFalse(by_url["http://127.0.0.1:9/announce"]["ok"])
        self.assertEqual(out["answered"], 1)
        note(f"torrent with 4 trackers: one answered (exit 0); errors "
             f"{[tr.get('error') for tr in out['trackers'] if not tr['ok']]}")

    def test_magnet_trackers(self):
        with fut.FakeUdpTracker("ok", counts=(2, 0, 1)) as t:
            magnet = f"magnet:?xt=urn:btih:{HASH}&dn=x&tr={urllib.parse.quote(t.url, safe='')}"
            out, _, _ = scrape_json(magnet, *QUICK, check=0)
        self.assertEqual(out["trackers"][0]["url"], t.url)
        self.assertEqual(out["trackers"][0]["seeders"], 2)
        note("magnet link: scraped its tr= tracker")

    def test_bad_input(self):
        proc, _ = scrape("--tracker", "udp://127.0.0.1:9", "--info-hash", "xyz", check=2)
        self.assertIn("--info-hash", proc.stderr.decode())
        proc, _ = scrape("--info-hash", HASH, check=2)
        self.assertIn("no tracker to scrape", proc.stderr.decode())
        data = pwtest.single_file(self.tmp)
        torrent = self.path("none.torrent")
        pwtest.create(data, torrent)
        proc, _ = scrape(torrent, check=2)
        self.assertIn("no tracker to scrape", proc.stderr.decode())
        proc, _ = scrape(check=1)
        note("bad info-hash, no tracker: exit 2; nothing to scrape: exit 1")

    def test_download_status_names_refused_and_failing_trackers(self):
        """The same policy in `peerwire download`: a gopher:// tier is refused, a UDP tracker
        that answers with an error is named with its message; the status says so."""
        data = pwtest.single_file(self.tmp)
        torrent = self.path("t.torrent")
        with fut.FakeUdpTracker("error", message="unregistered torrent") as t:
            pwtest.create(data, torrent, "-t", "gopher://127.0.0.1:70/announce", "-t", t.url)
            out = self.path("out")
            os.makedirs(out)
            pw = tf.PeerwireRun(["download", torrent, "-d", out, "--bind", "127.0.0.1", "--port",
                                 peers.free_port(), "--json", "--status-interval", "0.2",
                                 "--udp-tracker-timeout", "0.2"], peerwire=pwtest.PEERWIRE)
            self.addCleanup(pw.cleanup)
            pw.start()
            status = pw.wait_status(lambda st: "unregistered" in st["tracker_message"], 15)
            pw.stop()
        self.assertIsNotNone(status, pw.describe())
        self.assertEqual(status["tracker_message"],
                         f"{t.url}: tracker says: unregistered torrent")
        log = pw.stderr()
        self.assertIn('gopher://127.0.0.1:70/announce: tracker URL scheme "gopher" refused', log)
        note(f"download status: {status['tracker_message']!r}; log names the refused gopher:// "
             f"tier")


if __name__ == "__main__":
    pwtest.main()
