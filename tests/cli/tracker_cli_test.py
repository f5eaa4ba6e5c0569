"""`peerwire tracker` over real sockets on loopback: HTTP announces (compact, dictionary,
peers6, numwant, stopped), scrape and full scrape, UDP (BEP 15) connect/announce/scrape over
IPv4 and IPv6, bad requests of every kind (each an error reply or a silent drop, and the
tracker keeps serving), keep-alive, the allow-list with SIGHUP reload, peer expiry, the
torrent/peer bounds, the --verbose log, and exit codes (port busy 3, bad allow-list 2/3, bad
options 1, SIGTERM/SIGINT 0).
"""
import os
import signal
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
import tracker_server_support as tss  # noqa: E402
from pwtest import note  # noqa: E402

IH_A = bytes(range(1, 21))
IH_B = b"\xff" * 10 + b"+&=%?#\x00 \x7f\x80"  # bytes that need escaping
PID = [b"-XX0001-" + bytes([65 + i]) * 12 for i in range(10)]


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class TrackerCliTest(pwtest.TempDirCase):

    def tracker(self, *extra, ipv6=False):
        tr = tss.PeerwireTracker(extra, ipv6=ipv6)
        tr.start()
        self.addCleanup(tr.cleanup)
        return tr

    def test_http_announce_compact_dict_numwant_stopped(self):
        tr = self.tracker()
        r1 = tr.announce(IH_B, PID[1], 6001, left=0, event="started")
        self.assertEqual((r1[b"complete"], r1[b"incomplete"], r1[b"peers"]), (1, 0, b""))
        self.assertEqual(r1[b"interval"], 1800)
        tr.announce(IH_B, PID[2], 6002, left=5)
        r3 = tr.announce(IH_B, PID[3], 6003, left=5)
        self.assertEqual((r3[b"complete"], r3[b"incomplete"]), (1, 2))
        got = {struct.unpack(">H", r3[b"peers"][i + 4:i + 6])[0]
               for i in range(0, len(r3[b"peers"]), 6)}
        self.assertEqual(got, {6001, 6002})
        d = tr.announce(IH_B, PID[3], 6003, left=5, extra="&compact=0")
        self.assertEqual({(p[b"ip"], p[b"port"], p[b"peer id"]) for p in d[b"peers"]},
                         {(b"127.0.0.1", 6001, PID[1]), (b"127.0.0.1", 6002, PID[2])})
        d = tr.announce(IH_B, PID[3], 6003, left=5, extra="&compact=0&no_peer_id=1")
        self.assertTrue(all(b"peer id" not in p for p in d[b"peers"]))
        one = tr.announce(IH_B, PID[3], 6003, left=5, extra="&numwant=1")
        self.assertEqual(len(one[b"peers"]), 6)
        stop = tr.announce(IH_B, PID[1], 6001, left=0, event="stopped")
        self.assertEqual(stop[b"complete"], 0)
        self.assertEqual(tr.scrape([IH_B])[IH_B],
                         {"complete": 0, "incomplete": 2, "downloaded": 0})
        note("compact and dictionary peers, numwant=1, no_peer_id, stopped, scrape counts")

    @unittest.skipUnless(have_ipv6_loopback(), "no IPv6 loopback")
    def test_ipv6_peers6_http_and_udp(self):
        tr = self.tracker(ipv6=True)
        self.assertIn(f"listening: http [::1]:{tr.http_port}", tr.output())
        six = tr.announce(IH_A, PID[1], 7001, left=3, host="::1")
        self.assertEqual(six[b"incomplete"], 1)
        four = tr.announce(IH_A, PID[2], 7002, left=3)
        self.assertEqual(four[b"peers6"], socket.inet_pton(socket.AF_INET6, "::1") +
                         struct.pack(">H", 7001))
        with tss.UdpTrackerClient(tr.udp_port, host="::1") as u:
            cid = u.connect()
            _, leechers, _, addrs = u.announce(cid, IH_A, PID[3], 7003, left=1)
            self.assertEqual(leechers, 3)
            self.assertEqual(addrs, [(socket.inet_pton(socket.AF_INET6, "::1"), 7001)],
                             "18-byte peers, IPv6 only, over an IPv6 socket")
        note("peers6 over HTTP for an IPv4 client; 18-byte peers over UDP/IPv6")

    def test_bad_http_requests_get_failure_replies(self):
        tr = self.tracker()
        ok = f"info_hash={tss.q(IH_A)}&peer_id={tss.q(PID[1])}&port=1"
        cases = [
            ("/announce", b"missing info_hash"),
            ("/announce?info_hash=abc&peer_id=x&port=1", b"info_hash must be 20 bytes"),
            (f"/announce?info_hash={tss.q(IH_A)}&peer_id=short&port=1", b"peer_id must be"),
            (f"/announce?info_hash={tss.q(IH_A)}&peer_id={tss.q(PID[1])}", b"missing port"),
            (f"/announce?info_hash={tss.q(IH_A)}&peer_id={tss.q(PID[1])}&port=0", b"port"),
            (f"/announce?info_hash={tss.q(IH_A)}&peer_id={tss.q(PID[1])}&port=70000", b"port"),
            (f"/announce?{ok}&left=-1", b"left"),
            (f"/announce?{ok}&event=exploded", b"unknown event"),
            ("/announce?info_hash=%GG%" + "a" * 17 + f"&peer_id={tss.q(PID[1])}&port=1",
             b"escape"),
            (f"/announce?{ok}&{ok}", b"repeated parameter"),
            ("/announce?" + "&".join(f"x{i}=1" for i in range(100)), b"too many"),
            ("/scrape?info_hash=tooshort", b"info_hash must be 20 bytes"),
            ("/scrape", b"full scrape is disabled"),
        ]
        for target, reason in cases:
            status, reply = tr.get(target)
            self.assertEqual(status, 200, target)
            self.assertIsInstance(reply, dict, target)
            self.assertIn(reason, reply.get(b"failure reason", b""), target)
        status, reply = tr.get("/nothing-here")
        self.assertEqual(status, 404)
        self.assertIn(b"failure reason", reply)
        # HTTP-level problems: an answer (or a close), never a crash.
        status, _ = tr.http_raw(b"POST /announce HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        self.assertEqual(status, 405)
        status, _ = tr.http_raw(b"GET /announce?" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status, 431)
        status, _ = tr.http_raw(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n")
        self.assertEqual(status, 413)
        status, _ = tr.http_raw(b"\x16\x03\x01\x00\xa5garbage\r\n\r\n")
        self.assertEqual(status, 400)
        status, _ = tr.http_raw(b"GET /announce HTTP/1.1\r\nHost: x\r\n")  # never finished
        self.assertIsNone(status)
        self.assertEqual(tr.announce(IH_A, PID[1], 1, left=1)[b"incomplete"], 1, "still serving")
        self.assertIsNone(tr.proc.poll())
        note(f"{len(cases)} bad queries -> failure reason; 404, 405, 431, 413, 400; still up")

    def test_keep_alive(self):
        tr = self.tracker()
        target = f"/announce?info_hash={tss.q(IH_A)}&peer_id={tss.q(PID[1])}&port=9&left=1"
        req = f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        with socket.create_connection(("127.0.0.1", tr.http_port), timeout=5) as s:
            s.sendall(req + req)  # pipelined
            data = b""
            deadline = time.monotonic() + 5
            while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b"e"):
                self.assertLess(time.monotonic(), deadline, data)
                chunk = s.recv(65536)
                self.assertTrue(chunk, data)
                data += chunk
        self.assertEqual(data.count(b"HTTP/1.1 200"), 2)
        note("two pipelined requests answered on one connection")

    def test_udp_connect_announce_scrape(self):
        tr = self.tracker()
        with tss.UdpTrackerClient(tr.udp_port) as u1, tss.UdpTrackerClient(tr.udp_port) as u2:
            c1, c2 = u1.connect(), u2.connect()
            self.assertNotEqual(c1, c2, "one id per client address")
            interval, leechers, seeders, addrs = u1.announce(c1, IH_A, PID[1], 8001, left=0,
                                                             event=2)
            self.assertEqual((interval, leechers, seeders, addrs), (1800, 0, 1, []))
            _, leechers, seeders, addrs = u2.announce(c2, IH_A, PID[2], 8002, left=9, event=2)
            self.assertEqual((leechers, seeders), (1, 1))
            self.assertEqual(addrs, [(bytes([127, 0, 0, 1]), 8001)])
            u2.announce(c2, IH_A, PID[2], 8002, left=0, event=1)  # completed
            self.assertEqual(u1.scrape(c1, [IH_A, IH_B]), [(2, 1, 0), (0, 0, 0)])
            self.assertEqual(tr.scrape([IH_A])[IH_A],
                             {"complete": 2, "incomplete": 0, "downloaded": 1})
        note("UDP connect, announce (6-byte peers), completed, scrape == HTTP scrape")

    def test_udp_garbage_dropped_bad_requests_answered(self):
        tr = self.tracker()
        with tss.UdpTrackerClient(tr.udp_port, timeout=0.3) as u:
            for garbage in [b"", b"x" * 15, b"\x00" * 16, b"\xff" * 98, os.urandom(3000)]:
                self.assertIsNone(u.exchange(garbage), garbage[:20])
            cid = u.connect()
            forged = u.announce_packet(cid ^ 0x5555, IH_A, PID[1], 1)
            self.assertIsNone(u.exchange(forged), "unknown connection id: silent drop")
            short = u.announce_packet(cid, IH_A, PID[1], 1, tid=77)[:60]
            reply = u.exchange(short)
            self.assertIsNotNone(reply)
            self.assertEqual(struct.unpack(">II", reply[:8]), (3, 77))
            self.assertIn(b"too short", reply[8:])
            zero_port = u.announce_packet(cid, IH_A, PID[1], 0, tid=78)
            self.assertEqual(struct.unpack(">II", u.exchange(zero_port)[:8]), (3, 78))
            bad_scrape = struct.pack(">QII", cid, 2, 79) + b"x" * 21
            self.assertEqual(struct.unpack(">II", u.exchange(bad_scrape)[:8]), (3, 79))
            unknown = struct.pack(">QII", cid, 9, 80)
            self.assertEqual(struct.unpack(">II", u.exchange(unknown)[:8]), (3, 80))
            self.assertEqual(u.announce(cid, IH_A, PID[1], 1, left=1)[1], 1, "still serving")
        self.assertIsNone(tr.proc.poll())
        note("garbage and forged ids dropped; short/zero-port/odd scrape/unknown action -> error")

    def test_allow_list_and_sighup_reload(self):
        allow = self.path("allow.txt")
        with open(allow, "w") as f:
            f.write(f"# test list\n{IH_A.hex()}\n")
        tr = self.tracker("--allow", allow)
        self.assertIn("allow-list: 1 info-hashes", tr.output())
        self.assertEqual(tr.announce(IH_A, PID[1], 1, left=1)[b"incomplete"], 1)
        refused = tr.announce(IH_B, PID[1], 1)
        self.assertIn(b"not served", refused[b"failure reason"])
        self.assertEqual(tr.scrape([IH_A, IH_B]).keys(), {IH_A})
        with tss.UdpTrackerClient(tr.udp_port) as u:
            cid = u.connect()
            with self.assertRaisesRegex(tss.TrackerError, "not served"):
                u.announce(cid, IH_B, PID[2], 2)
        with open(allow + ".new", "w") as f:
            f.write(f"{IH_B.hex().upper()}\n")
        os.replace(allow + ".new", allow)
        tr.signal(signal.SIGHUP)
        wait_for(lambda: "allow-list reloaded: 1" in tr.output(), 10, "the reload")
        self.assertEqual(tr.announce(IH_B, PID[1], 1, left=1)[b"incomplete"], 1)
        self.assertIn(b"not served", tr.announce(IH_A, PID[1], 1)[b"failure reason"])
        with open(allow, "w") as f:
            f.write("not a hash\n")
        tr.signal(signal.SIGHUP)
        wait_for(lambda: "not reloaded" in tr.output(), 10, "the refused reload")
        self.assertEqual(tr.announce(IH_B, PID[2], 2, left=1)[b"incomplete"], 2,
                         "previous list kept")
        note("allow-list over HTTP and UDP, SIGHUP reload, broken file keeps the old list")

    def test_full_scrape_expiry_and_bounds(self):
        tr = self.tracker("--full-scrape", "--interval", "1", "--max-torrents", "2",
                          "--max-peers", "3")
        tr.announce(IH_A, PID[1], 1, left=1)
        tr.announce(IH_B, PID[1], 1, left=1)
        status, full = tr.get("/scrape")
        self.assertEqual(set(full[b"files"]), {IH_A, IH_B})
        third = tr.announce(b"c" * 20, PID[1], 1)
        self.assertIn(b"too many torrents", third[b"failure reason"])
        tr.announce(IH_A, PID[2], 2, left=1)
        fourth = tr.announce(IH_A, PID[3], 3, left=1)
        self.assertIn(b"too many peers", fourth[b"failure reason"])
        # interval 1 s: peers not heard from for 2 s are forgotten (the sweep runs every 1 s).
        wait_for(lambda: tr.get("/scrape")[1].get(b"files") == {}, 10, "peers to expire")
        self.assertEqual(tr.announce(b"c" * 20, PID[1], 1)[b"incomplete"], 0)
        note("full scrape; max torrents/peers refusals; expiry after two 1 s intervals")

    def test_verbose_log_and_clean_stop(self):
        tr = self.tracker()
        tr.announce(IH_A, PID[1], 6881, left=0, event="started")
        wait_for(lambda: f"127.0.0.1:6881 announce {IH_A.hex()} started" in tr.output(), 5,
                 "the announce log line")
        self.assertEqual(tr.stop(), 0, tr.describe())
        self.assertIn("stopped after", tr.output())
        tr2 = self.tracker()
        tr2.signal(signal.SIGINT)
        tr2.proc.wait(timeout=10)
        self.assertEqual(tr2.proc.returncode, 0, tr2.describe())
        note("--verbose announce line; SIGTERM and SIGINT exit 0")

    def test_exit_codes(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            p = pwtest.run(["tracker", "--bind", "127.0.0.1", "--http", port, "--no-udp"],
                           check=3)
            self.assertIn(b"cannot listen", p.stderr)
        bad = self.path("bad.txt")
        with open(bad, "w") as f:
            f.write(f"{IH_A.hex()}\nzzz\n")
        p = pwtest.run(["tracker", "--allow", bad, "--http", "0", "--udp", "0"], check=2)
        self.assertIn(b"line 2", p.stderr)
        pwtest.run(["tracker", "--allow", self.path("missing.txt")], check=3)
        pwtest.run(["tracker", "--interval", "0"], check=1)
        pwtest.run(["tracker", "--bind", "not-an-ip"], check=1)
        pwtest.run(["tracker", "--no-http", "--no-udp"], check=1)
        pwtest.run(["tracker", "--http", "70000"], check=1)
        note("port busy 3, bad allow-list 2, missing allow-list 3, bad options 1")


if __name__ == "__main__":
    pwtest.main()
