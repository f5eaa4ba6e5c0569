"""`peerwire trace` without real clients: usage errors (exit 1), a busy --port, the default
listening port, SIGINT/SIGTERM while listening (exit 130, connections closed with "closed:
interrupted"), fake peers that fail in known ways (each failure ends with one "closed: <reason>"
line and the command exits as soon as its dialled connections have ended), the handshake it
logs against the bytes it really sent, and the text-mode line format.
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import peers  # noqa: E402
import pwtest  # noqa: E402
import trace_support as ts  # noqa: E402
from pwtest import note  # noqa: E402

IH = "1111111111111111111111111111111111111111"
OTHER = "2222222222222222222222222222222222222222"
# A plausible remote peer id (libtorrent 2.0.8) for the fake peers' handshakes.
LT_ID = b"-LT2080-abcdefghijkl"


def fake_handshake(info_hash=IH, peer_id=LT_ID, reserved=ts.RESERVED_EXT_FAST):
    return ts.handshake_bytes(info_hash, peer_id, reserved)


def run_trace(args, timeout=30):
    """`peerwire trace ARGS` to completion: (exit code, stdout text, stderr text, seconds)."""
    t0 = time.monotonic()
    proc = pwtest.run(["trace", *args], timeout=timeout)
    return (proc.returncode, proc.stdout.decode("utf-8", errors="replace"),
            proc.stderr.decode("utf-8", errors="replace"), time.monotonic() - t0)


def json_events(stdout, context=""):
    out = []
    for line in stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise AssertionError(f"not a JSON line ({e}): {line!r}\n{context}") from None
    return out


class _Case(pwtest.TempDirCase):
    @classmethod
    def setUpClass(cls):
        cls.stmp = tempfile.mkdtemp(prefix="peerwire-trace-cli-")
        cls.sample = peers.make_sample(cls.stmp, size=100_000, piece_length=16384)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.stmp, ignore_errors=True)

    def assert_usage_error(self, args, stderr_pattern=None):
        code, out, err, took = run_trace(args)
        context = f"peerwire trace {' '.join(map(str, args))}: exit {code}\nstdout: {out}\n" \
                  f"stderr: {err}"
        self.assertEqual(code, 1, f"usage error: exit 1\n{context}")
        self.assertEqual(out, "", f"nothing on stdout\n{context}")
        self.assertTrue(err.strip(), f"a message on stderr\n{context}")
        if stderr_pattern:
            self.assertRegex(err, stderr_pattern, context)
        self.assertLess(took, 5, "a usage error is immediate")
        return err.strip().splitlines()[0]

    def dial_fake(self, fake, *extra, duration=10, json_mode=True):
        """Runs trace --info-hash IH --peer FAKE; returns (code, events or lines, stderr, took)."""
        args = ["--info-hash", IH, "--peer", fake.address, "--duration", duration, *extra]
        if json_mode:
            args.append("--json")
        code, out, err, took = run_trace(args)
        context = f"peerwire trace {' '.join(map(str, args))}: exit {code}\nstdout:\n{out}\n" \
                  f"stderr: {err}"
        return code, (json_events(out, context) if json_mode else out.splitlines()), err, took, \
            context


# ---------------------------------------------------------------------------------------------

class UsageErrors(_Case):

    def test_no_torrent(self):
        msg = self.assert_usage_error(["--peer", "127.0.0.1:6881"], r"exactly one")
        note(f"no torrent: exit 1, {msg!r}")

    def test_torrent_and_info_hash(self):
        msg = self.assert_usage_error([self.sample.torrent, "--info-hash", IH, "--peer",
                                       "127.0.0.1:6881"], r"exactly one")
        note(f"torrent and --info-hash: exit 1, {msg!r}")

    def test_magnet_and_info_hash(self):
        msg = self.assert_usage_error([self.sample.magnet, "--info-hash", IH, "--listen"],
                                      r"exactly one")
        note(f"magnet and --info-hash: exit 1, {msg!r}")

    def test_neither_peer_nor_listen(self):
        for source in ([self.sample.torrent], ["--info-hash", IH], [self.sample.magnet]):
            with self.subTest(source=source[-1][:40]):
                msg = self.assert_usage_error(source, r"--peer.*--listen|--listen.*--peer")
        note(f"no --peer, no --listen: exit 1, {msg!r}")

    def test_bad_info_hash(self):
        for bad in ("xyz", IH[:-1], IH + "1", "zz" * 20, "", IH[:-1] + "g"):
            with self.subTest(info_hash=bad):
                msg = self.assert_usage_error(["--info-hash", bad, "--peer", "127.0.0.1:6881"],
                                              r"info-hash" if bad else None)
        note(f"bad --info-hash (short, long, non-hex, empty): exit 1, e.g. {msg!r}")

    def test_peer_without_port(self):
        for bad in ("127.0.0.1", "localhost", "example"):
            with self.subTest(peer=bad):
                msg = self.assert_usage_error(["--info-hash", IH, "--peer", bad],
                                              re.escape(bad))
        note(f"--peer without ':PORT': exit 1, {msg!r}")

    def test_peer_with_bad_port(self):
        # "HOST:" (empty port) and out-of-range ports are not HOST:PORT either.
        for bad in ("127.0.0.1:x", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:65536",
                    "127.0.0.1:-1"):
            with self.subTest(peer=bad):
                self.assert_usage_error(["--info-hash", IH, "--peer", bad, "--duration", 2],
                                        re.escape(bad))
        note("--peer with an empty, non-numeric or out-of-range port: exit 1")

    def test_bad_bind(self):
        msg = self.assert_usage_error(["--info-hash", IH, "--listen", "--bind", "not-an-ip"],
                                      r"not-an-ip")
        note(f"--bind not an address: exit 1, {msg!r}")

    def test_missing_torrent_file(self):
        code, out, err, _ = run_trace([self.path("missing.torrent"), "--listen"])
        self.assertNotIn(code, (0, 1, 130), f"exit {code}: {err}")
        self.assertIn("missing.torrent", err)
        self.assertEqual(out, "")
        note(f"missing .torrent: exit {code}, {err.strip()!r}")


# ---------------------------------------------------------------------------------------------

class Listening(_Case):

    def test_port_in_use(self):
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen(1)
            port = holder.getsockname()[1]
            code, out, err, took = run_trace(["--info-hash", IH, "--listen", "--port", port,
                                              "--duration", 5])
        self.assertNotEqual(code, 0, f"a busy --port fails: {out}{err}")
        self.assertNotEqual(code, 130)
        self.assertIn(str(port), err, "the message names the port")
        self.assertNotIn("listening for", out)
        self.assertLess(took, 4, "fails at once, without waiting for --duration")
        note(f"--port {port} in use: exit {code}, {err.strip()!r}")

    def test_default_port(self):
        with ts.TraceRun(["--info-hash", IH, "--listen", "--json", "--duration", 20]) as tr:
            port = tr.wait_listening(timeout=10)
            first = tr.events()[0]
            self.assertEqual(first["text"], f"listening for info-hash {IH}")
            self.assertEqual(first["peer"], f"127.0.0.1:{port}")
            self.assertEqual(first["dir"], "in")
            self.assertTrue(6881 <= port <= 6889 or 1024 <= port <= 65535, port)
            # Something really listens there and answers a handshake for IH.
            ref = peers.handshake_peer(port, IH, watch=0.5)
            self.assertEqual(len(ref["received"]), 68, f"handshake reply: {ref}")
            self.assertEqual(ref["info_hash"], IH)
            self.assertEqual(ref["peer_id"][:3], b"-PW")
            tr.signal(signal.SIGTERM)
            self.assertEqual(tr.wait(timeout=10), 130, tr.describe())
        where = "in 6881-6889" if 6881 <= port <= 6889 else "outside 6881-6889 (all busy)"
        note(f"--listen without --port: {first['peer']} ({where}); a handshake there is answered")

    def test_default_port_skips_busy_6881(self):
        # With 6881 taken by another listener, the next free port of 6882-6889 (or any) is used.
        holder = socket.socket()
        try:
            holder.bind(("127.0.0.1", 6881))
            holder.listen(1)
        except OSError:
            holder.close()
            self.skipTest("6881 is in use already")
        with holder:
            with ts.TraceRun(["--info-hash", IH, "--listen", "--json", "--duration", 20]) as tr:
                port = tr.wait_listening(timeout=10)
                tr.signal(signal.SIGTERM)
                tr.wait(timeout=10)
        self.assertNotEqual(port, 6881)
        note(f"6881 busy: listened on {port}")

    def test_listen_only_exits_after_duration(self):
        with ts.TraceRun(["--info-hash", IH, "--listen", "--port", peers.free_port(),
                          "--duration", 1.5]) as tr:
            code = tr.wait(timeout=20)
        self.assertEqual(code, 0, tr.describe())
        self.assertGreaterEqual(tr.elapsed, 1.4)
        self.assertLess(tr.elapsed, 5)
        self.assertEqual(len(tr.lines()), 1, f"only the listening line:\n{tr.describe()}")
        note(f"--listen --duration 1.5, nobody dials: exit 0 after {tr.elapsed:.2f}s")

    def _interrupt(self, sig):
        port = peers.free_port()
        with ts.TraceRun([self.sample.torrent, "--listen", "--port", port, "--json",
                          "--duration", 60]) as tr:
            tr.wait_listening(timeout=10)
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                local = f"127.0.0.1:{s.getsockname()[1]}"
                s.sendall(ts.handshake_bytes(self.sample.info_hash, LT_ID))
                reply = ts.recv_exact(s, 68, timeout=5)
                self.assertEqual(reply[28:48].hex(), self.sample.info_hash, tr.describe())
                got = tr.wait_for_event(lambda e: e["peer"] == local and e["dir"] == "in" and
                                        e["text"].startswith("handshake "), timeout=5)
                self.assertTrue(got, f"<- handshake from {local} logged:\n{tr.describe()}")
                t0 = time.monotonic()
                tr.signal(sig)
                code = tr.wait(timeout=10)
                took = time.monotonic() - t0
                rest, how = ts.recv_until_eof(s, timeout=5)
            events = tr.events()
        self.assertEqual(code, 130, tr.describe())
        self.assertLess(took, 3, "stops promptly")
        self.assertIn(how, ("eof", "reset"), "the connection is closed")
        closed = ts.closed_lines(events, local)
        self.assertEqual([e["text"] for e in closed], ["closed: interrupted"], tr.describe())
        self.assertIs(events[-1], closed[0], "closed is the last line")
        return local, took, how

    def test_sigint_while_listening(self):
        local, took, how = self._interrupt(signal.SIGINT)
        note(f"SIGINT with a connection from {local} open: exit 130 after {took:.2f}s, "
             f"'closed: interrupted' logged, socket saw {how}")

    def test_sigterm_while_listening(self):
        local, took, how = self._interrupt(signal.SIGTERM)
        note(f"SIGTERM: exit 130 after {took:.2f}s, 'closed: interrupted', socket saw {how}")

    def test_sigint_while_dialling(self):
        with peers.FakePeer(reply=None) as f:
            with ts.TraceRun(["--info-hash", IH, "--peer", f.address, "--json",
                              "--duration", 60, "--timeout", 30]) as tr:
                tr.wait_for_event(lambda e: e["text"].startswith("handshake "), timeout=10)
                tr.signal(signal.SIGINT)
                code = tr.wait(timeout=10)
        events = tr.events()
        self.assertEqual(code, 130, tr.describe())
        self.assertEqual([e["text"] for e in ts.closed_lines(events)], ["closed: interrupted"],
                         f"the half-open connection is closed and logged:\n{tr.describe()}")
        note("SIGINT while waiting for a handshake reply: exit 130, 'closed: interrupted'")


# ---------------------------------------------------------------------------------------------

class FailingPeers(_Case):
    """Each connection that fails ends the log with one "closed: <reason>" line, and trace (not
    listening) exits 0 as soon as its last dialled connection has ended."""

    def assert_closed(self, events, context, pattern, took, duration=10):
        closed = ts.closed_lines(events)
        self.assertEqual(len(closed), 1, f"one closed line\n{context}")
        self.assertRegex(closed[0]["text"], pattern, context)
        self.assertIs(events[-1], closed[0], "closed is the last line")
        self.assertLess(took, duration - 3, "exits when its only connection ended")
        return closed[0]["text"]

    def test_garbage_reply(self):
        with peers.FakePeer(reply=b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" +
                            b"x" * 40) as f:
            code, events, err, took, context = self.dial_fake(f)
        self.assertEqual(code, 0, context)
        texts = [e["text"] for e in events]
        self.assertEqual(texts[:1], ["connecting"], context)
        self.assertTrue(texts[1].startswith("handshake "), context)
        self.assertNotIn("have none", texts, "no greeting without a handshake")
        text = self.assert_closed(events, context, r"^closed: bad handshake: .+", took)
        note(f"HTTP reply: exit {code} after {took:.2f}s, {text!r}")

    def test_connection_refused(self):
        address = f"127.0.0.1:{peers.closed_port()}"
        args = ["--info-hash", IH, "--peer", address, "--duration", 10, "--json"]
        code, out, err, took = run_trace(args)
        context = f"trace {' '.join(map(str, args))}: exit {code}\n{out}\n{err}"
        events = json_events(out, context)
        self.assertEqual(code, 0, context)
        self.assertEqual([e["text"] for e in events][:1], ["connecting"], context)
        text = self.assert_closed(events, context, r"^closed: connect failed: .*refused", took)
        note(f"refused port: exit {code} after {took:.2f}s, {text!r}")

    def test_handshake_timeout(self):
        with peers.FakePeer(reply=None) as f:
            code, events, err, took, context = self.dial_fake(f, "--timeout", 1)
        self.assertEqual(code, 0, context)
        text = self.assert_closed(events, context, r"^closed: handshake timed out after 1000 ms",
                                  took)
        self.assertGreaterEqual(took, 0.9)
        note(f"silent peer, --timeout 1: exit {code} after {took:.2f}s, {text!r}")

    def test_closed_without_answer(self):
        with peers.FakePeer(close_after=68) as f:
            code, events, err, took, context = self.dial_fake(f)
        self.assertEqual(code, 0, context)
        text = self.assert_closed(events, context, r"^closed: peer closed the connection", took)
        note(f"peer reads our handshake and closes: exit {code}, {text!r}")

    def test_handshake_for_other_torrent(self):
        with peers.FakePeer(reply=fake_handshake(OTHER), reply_after=68) as f:
            code, events, err, took, context = self.dial_fake(f)
        self.assertEqual(code, 0, context)
        theirs = [e for e in events if e["dir"] == "in" and e["text"].startswith("handshake ")]
        self.assertEqual(len(theirs), 1, context)
        self.assertIn(f"info-hash {OTHER}", theirs[0]["text"])
        text = self.assert_closed(events, context, r"^closed: handshake rejected: .+", took)
        note(f"reply for another info-hash: exit {code}, {text!r}")

    def test_protocol_error_after_handshake(self):
        reply = fake_handshake() + struct.pack(">IB", 0x7FFFFFFF, 7)
        with peers.FakePeer(reply=reply, reply_after=68) as f:
            code, events, err, took, context = self.dial_fake(f)
        self.assertEqual(code, 0, context)
        texts = [e["text"] for e in events]
        self.assertIn("have none", texts, "greeting sent after a good handshake")
        text = self.assert_closed(events, context, r"^closed: protocol error: .+", took)
        note(f"handshake then a 2 GiB length prefix: exit {code}, {text!r}")

    def test_peer_closes_after_handshake(self):
        with peers.FakePeer(reply=fake_handshake() + b"\x00\x00\x00\x01\x0e", reply_after=68,
                            close_after_reply=True) as f:
            code, events, err, took, context = self.dial_fake(f)
        self.assertEqual(code, 0, context)
        self.assertIn("have all", [e["text"] for e in events if e["dir"] == "in"], context)
        # The fake closes while our greeting may still be arriving: with unread bytes in its
        # receive buffer the kernel sends a reset instead of a FIN. Either way the peer ended it.
        text = self.assert_closed(
            events, context,
            r"^closed: (peer closed the connection|read failed: Connection reset by peer)$", took)
        note(f"handshake + have all, then EOF: exit {code} after {took:.2f}s, {text!r}")

    def test_two_peers_exit_when_both_ended(self):
        with peers.FakePeer(reply=None) as silent, peers.FakePeer(close_after=0) as closing:
            args = ["--info-hash", IH, "--peer", silent.address, "--peer", closing.address,
                    "--timeout", 2, "--duration", 20, "--json"]
            code, out, err, took = run_trace(args)
        context = f"trace {' '.join(map(str, args))}: exit {code}\n{out}\n{err}"
        events = json_events(out, context)
        self.assertEqual(code, 0, context)
        self.assertEqual({e["peer"] for e in events}, {silent.address, closing.address})
        for address in (silent.address, closing.address):
            self.assertEqual(len(ts.closed_lines(events, address)), 1,
                             f"one closed line for {address}\n{context}")
        self.assertGreaterEqual(took, 1.9, "waits for the slower connection")
        self.assertLess(took, 10, "does not wait for --duration")
        note(f"two peers (silent, closing): exit 0 after {took:.2f}s, "
             f"{[e['text'] for e in ts.closed_lines(events)]}")


# ---------------------------------------------------------------------------------------------

class Output(_Case):

    def test_logged_handshake_is_what_was_sent(self):
        sources = {"torrent": [self.sample.torrent], "magnet": [self.sample.magnet],
                   "hex": ["--info-hash", self.sample.info_hash.upper()]}
        import base64
        sources["base32"] = ["--info-hash",
                             base64.b32encode(bytes.fromhex(self.sample.info_hash)).decode()]
        for name, source in sources.items():
            with self.subTest(source=name):
                with peers.FakePeer(reply=None) as f:
                    args = [*source, "--peer", f.address, "--timeout", 0.5, "--duration", 10,
                            "--json"]
                    code, out, err, took = run_trace(args)
                    deadline = time.monotonic() + 3
                    while not f.received and time.monotonic() < deadline:
                        time.sleep(0.05)
                    sent = f.received[0] if f.received else b""
                context = f"trace {' '.join(map(str, args))}: exit {code}\n{out}\n{err}"
                self.assertEqual(code, 0, context)
                events = json_events(out, context)
                lines = [e for e in events if e["dir"] == "out" and
                         e["text"].startswith("handshake ")]
                self.assertEqual(len(lines), 1, context)
                h = ts.parse_handshake_text(lines[0]["text"])
                self.assertIsNotNone(h, lines[0]["text"])
                self.assertEqual(len(sent), 68, f"the fake peer got our 68-byte handshake: {sent!r}")
                self.assertEqual(sent[:20], ts.PROTOCOL)
                self.assertEqual(h["info_hash"], sent[28:48].hex())
                self.assertEqual(h["info_hash"], self.sample.info_hash)
                self.assertEqual(h["peer_id"], sent[48:68], "logged peer id = sent peer id")
                self.assertEqual(h["reserved"], ", ".join(ts.reserved_names(sent[20:28])),
                                 "logged reserved bits = sent reserved bytes")
        note(f"logged '-> handshake' = the 68 bytes received (info-hash, peer id {sent[48:56]!r}..., "
             f"reserved {sent[20:28].hex()}) for torrent, magnet, hex and base32 --info-hash")

    def test_text_mode(self):
        with peers.FakePeer(reply=fake_handshake() + b"\x00\x00\x00\x01\x0e", reply_after=68) as f:
            code, lines, err, took, context = self.dial_fake(f, duration=1.5, json_mode=False)
        self.assertEqual(code, 0, context)
        self.assertEqual(err, "", context)
        parsed = [ts.TEXT_LINE_RE.match(l) for l in lines]
        self.assertTrue(all(parsed), f"every line is 'T  PEER  -> TEXT'\n{context}")
        self.assertRegex(lines[0], rf"^ {{3}}0\.\d{{3}}  127\.0\.0\.1:{f.port} +-> connecting$")
        # %-21s: the arrow is in the same column on every line.
        self.assertEqual(len({l.index("->" if m.group(3) == "->" else "<-")
                              for l, m in zip(lines, parsed)}), 1, context)
        self.assertEqual({m.group(2) for m in parsed}, {f.address})
        flow = [(m.group(3), m.group(4)) for m in parsed]
        self.assertTrue(flow[1][1].startswith("handshake info-hash " + IH), context)
        self.assertEqual(flow[1][0], "->")
        self.assertEqual(flow[2][0], "<-")
        self.assertIn("peer id libtorrent (rasterbar) 2.0.8 (" + LT_ID.hex() + ")", flow[2][1])
        self.assertIn(("->", "have none"), flow)
        self.assertIn(("<-", "have all"), flow)
        self.assertEqual(flow[-1][1], "closed: trace time is over")
        times = [float(m.group(1)) for m in parsed]
        self.assertEqual(times, sorted(times))
        self.assertGreaterEqual(times[-1], 1.4)
        note(f"text lines, e.g. {lines[0]!r} ... {lines[-1]!r}")

    def test_text_mode_listening_line(self):
        port = peers.free_port()
        with ts.TraceRun(["--info-hash", IH, "--listen", "--port", port, "--duration", 0.5]) as tr:
            self.assertEqual(tr.wait(timeout=10), 0, tr.describe())
        lines = tr.lines()
        self.assertEqual(len(lines), 1, tr.describe())
        self.assertRegex(lines[0], rf"^ +0\.\d{{3}}  127\.0\.0\.1:{port} +<- listening for "
                                   rf"info-hash {IH}$")
        note(f"text listening line: {lines[0]!r}")

    def test_interested_with_fake_seeder(self):
        reply = fake_handshake() + b"\x00\x00\x00\x01\x0e" + b"\x00\x00\x00\x01\x01"
        with peers.FakePeer(reply=reply, reply_after=68) as f:
            code, events, err, took, context = self.dial_fake(f, "--interested", duration=1.5)
            deadline = time.monotonic() + 3
            while not f.received and time.monotonic() < deadline:
                time.sleep(0.05)
            received = f.received[0] if f.received else b""
        self.assertEqual(code, 0, context)
        out = [e["text"] for e in events if e["dir"] == "out"]
        self.assertEqual(out.count("interested"), 1, context)
        # What went over the wire after the handshake: have none, extended handshake, interested.
        msgs, rest = [], received[68:]
        while len(rest) >= 4:
            n = struct.unpack(">I", rest[:4])[0]
            msgs.append(rest[4] if n else None)
            rest = rest[4 + n:]
        self.assertEqual(msgs, [15, 20, 2], f"message ids on the wire: {msgs}")
        note(f"--interested after have all: logged {out[-3:]}, on the wire ids {msgs}")


if __name__ == "__main__":
    pwtest.main()
