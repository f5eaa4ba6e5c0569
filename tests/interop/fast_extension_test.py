"""The Fast extension (BEP 6) as `peerwire seed` speaks it, checked byte by byte from a
plain-Python peer on 127.0.0.1 (the torrent: ~3.7 MiB, 120 pieces of 32 KiB).

  - the greeting is have-all (we are a seed and both sides set the fast bit), and the
    allowed-fast messages name exactly the set BEP 6's algorithm gives for 127.0.0.1 (computed
    here in Python, and the algorithm itself checked against the BEP's published example);
  - while we are choked (never interested): a request in the allowed-fast set is served, one
    outside it is rejected;
  - after interested/unchoke: every request gets exactly one answer -- a piece or a reject --
    including requests cancelled at once (BEP 6 makes a cancel answerable by either);
  - without the fast bit, none of the fast messages is ever sent (have-all / allowed-fast /
    reject are protocol errors for such a peer).
"""
import hashlib
import os
import shutil
import socket
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import peers  # noqa: E402
import pwtest  # noqa: E402
import tracker_fixture as tf  # noqa: E402
from pwtest import note  # noqa: E402

FAST_EXT = bytes([0, 0, 0, 0, 0, 0x10, 0, 0x04])
EXT_ONLY = bytes([0, 0, 0, 0, 0, 0x10, 0, 0x00])
BLOCK = 16384


def allowed_fast_set(ip, info_hash, num_pieces, k):
    """BEP 6's reference algorithm, written from the BEP's pseudocode."""
    a = []
    x = bytes(int(p) for p in ip.split(".")[:3]) + b"\x00" + info_hash
    while len(a) < k and len(a) < num_pieces:
        x = hashlib.sha1(x).digest()
        for i in range(0, 20, 4):
            if len(a) >= k:
                break
            index = struct.unpack(">I", x[i:i + 4])[0] % num_pieces
            if index not in a:
                a.append(index)
    return a


def torrent_content(sample):
    """The torrent's bytes, its files concatenated in the info dict's order."""
    meta, _ = peers.bdecode(peers.info_bytes(sample.torrent_bytes))
    root = os.path.join(sample.save_path, sample.name)
    paths = ([os.path.join(root, *(c.decode() for c in f[b"path"])) for f in meta[b"files"]]
             if b"files" in meta else [root])
    out = b""
    for path in paths:
        with open(path, "rb") as f:
            out += f.read()
    return out


class Wire:
    def __init__(self, port, info_hash, reserved):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.sendall(b"\x13BitTorrent protocol" + reserved + info_hash +
                       b"-XX0000-fastexttest0")
        hs = self.recv(68)
        assert hs[28:48] == info_hash, hs
        self.reserved = hs[20:28]

    def recv(self, n, timeout=10):
        buf = b""
        deadline = time.monotonic() + timeout
        while len(buf) < n:
            self.s.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError(f"closed after {len(buf)} of {n} bytes")
            buf += chunk
        return buf

    def message(self, timeout=10):
        """(id, payload); keep-alives skipped."""
        while True:
            (length,) = struct.unpack(">I", self.recv(4, timeout))
            if length == 0:
                continue
            body = self.recv(length, timeout)
            return body[0], body[1:]

    def send(self, mid, payload=b""):
        self.s.sendall(struct.pack(">IB", 1 + len(payload), mid) + payload)

    def messages_for(self, seconds):
        out = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                out.append(self.message(timeout=max(0.05, deadline - time.monotonic())))
            except (socket.timeout, TimeoutError):
                break
        return out

    def close(self):
        self.s.close()


class FastExtensionTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="peerwire-fast-")
        try:
            cls.sample = tf.make_multi_sample(cls.tmp)
            args = ["seed", cls.sample.torrent, "-d", cls.sample.save_path, "--bind", "127.0.0.1",
                    "--port", peers.free_port(), "--json", "--status-interval", "0.25"]
            cls.port = int(args[args.index("--port") + 1])
            cls.pw = tf.PeerwireRun(args).start()
            st = cls.pw.wait_status(lambda t: t["state"] in ("seeding", "error"), timeout=30)
            assert st and st["state"] == "seeding", cls.pw.describe()
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.pw.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def connect(self, reserved=FAST_EXT):
        w = Wire(self.port, bytes.fromhex(self.sample.info_hash), reserved)
        self.addCleanup(w.close)
        return w

    def test_bep6_example(self):
        ih = b"\xaa" * 20
        self.assertEqual(allowed_fast_set("80.4.4.200", ih, 1313, 7),
                         [1059, 431, 808, 1217, 287, 376, 1188])
        self.assertEqual(allowed_fast_set("80.4.4.200", ih, 1313, 9),
                         [1059, 431, 808, 1217, 287, 376, 1188, 353, 508])

    def greet(self, w):
        msgs = w.messages_for(1.0)
        ids = [m for m, _ in msgs]
        return msgs, ids

    def test_have_all_and_allowed_fast_set(self):
        w = self.connect()
        self.assertTrue(w.reserved[7] & 0x04, "peerwire sets the fast bit")
        msgs, ids = self.greet(w)
        self.assertEqual(ids[0], 14, f"first message is have-all, got {ids}")
        got = [struct.unpack(">I", p)[0] for m, p in msgs if m == 17]
        want = allowed_fast_set("127.0.0.1", bytes.fromhex(self.sample.info_hash),
                                self.sample.piece_count, 10)
        self.assertEqual(got, want, "allowed-fast set")
        note(f"greeting ids {ids[:4]}...; allowed-fast {got} = BEP 6 algorithm for 127.0.0.1")

    def test_choked_requests_allowed_fast_served_others_rejected(self):
        w = self.connect()
        msgs, ids = self.greet(w)
        allowed = [struct.unpack(">I", p)[0] for m, p in msgs if m == 17]
        self.assertTrue(allowed)
        other = next(i for i in range(self.sample.piece_count) if i not in allowed)
        w.send(6, struct.pack(">III", allowed[0], 0, BLOCK))
        w.send(6, struct.pack(">III", other, 0, BLOCK))
        answers = {}
        deadline = time.monotonic() + 10
        while len(answers) < 2 and time.monotonic() < deadline:
            mid, p = w.message()
            if mid in (7, 16):
                answers[struct.unpack(">I", p[:4])[0]] = mid
        self.assertEqual(answers, {allowed[0]: 7, other: 16},
                         "allowed-fast piece served while choked, the other rejected")
        note(f"choked: piece {allowed[0]} (allowed fast) served, piece {other} rejected")

    def test_every_request_answered_exactly_once(self):
        w = self.connect()
        self.greet(w)
        w.send(2)  # interested
        deadline = time.monotonic() + 10
        while True:
            mid, _ = w.message()
            if mid == 1:
                break
            self.assertLess(time.monotonic(), deadline, "no unchoke")
        requests = [(i, o) for i in range(20, 30) for o in (0, BLOCK)]
        for i, o in requests:
            w.send(6, struct.pack(">III", i, o, BLOCK))
        cancelled = requests[::3]
        for i, o in cancelled:
            w.send(8, struct.pack(">III", i, o, BLOCK))
        answers = {}
        while len(answers) < len(requests):
            mid, p = w.message()
            if mid in (7, 16):
                i, o = struct.unpack(">II", p[:8])
                self.assertNotIn((i, o), answers, f"request {(i, o)} answered twice")
                answers[(i, o)] = "piece" if mid == 7 else "reject"
                if mid == 7:
                    self.assertEqual(len(p) - 8, BLOCK)
        extra = [m for m, _ in w.messages_for(0.5) if m in (7, 16)]
        self.assertEqual(extra, [], "no answer beyond one per request")
        for r in requests:
            if r not in cancelled:
                self.assertEqual(answers[r], "piece", r)
        rejected = sum(1 for r in cancelled if answers[r] == "reject")
        note(f"{len(requests)} requests, {len(cancelled)} cancelled at once: every request "
             f"answered exactly once ({rejected} cancels answered by reject, "
             f"{len(cancelled) - rejected} by the piece already on its way)")

    def test_a_queue_longer_than_the_read_window_is_served_in_order(self):
        # 479 requests, 5.6 MiB: more than the seeder looks ahead (1 MiB) and queues on the
        # socket (1 MiB), so requests are taken into its window as blocks leave. The first
        # pass asks every 16 KiB block, the second every 8 KiB block of pieces 0-59 (other
        # lengths: other requests); the last 40 of the second pass are cancelled at once.
        content = torrent_content(self.sample)
        plen = self.sample.piece_length
        w = self.connect()
        self.greet(w)
        w.send(2)  # interested
        deadline = time.monotonic() + 10
        while w.message()[0] != 1:
            self.assertLess(time.monotonic(), deadline, "no unchoke")
        def blocks(i, size):
            psize = min(plen, len(content) - i * plen)
            return [(i, o, min(size, psize - o)) for o in range(0, psize, size)]
        first = [b for i in range(self.sample.piece_count) for b in blocks(i, BLOCK)]
        second = [b for i in range(60) for b in blocks(i, BLOCK // 2)]
        requests = first + second
        self.assertLessEqual(len(requests), 500, "within the queue the seeder promises (reqq)")
        self.assertGreater(sum(r[2] for r in requests), 4 << 20)
        cancelled = second[-40:]
        # One send: the seeder takes requests and cancels in one read, before any block of
        # the last 1.3 MiB can have left, so those cancels are answered by rejects.
        w.s.sendall(b"".join(struct.pack(">IBIII", 13, 6, *r) for r in requests) +
                    b"".join(struct.pack(">IBIII", 13, 8, *r) for r in cancelled))
        answers, pieces_in_order = {}, []
        while len(answers) < len(requests):
            try:
                mid, p = w.message()
            except EOFError:
                self.fail(f"closed after {len(answers)} answers\n{self.pw.describe()}")
            if mid == 7:
                i, o = struct.unpack(">II", p[:8])
                r = (i, o, len(p) - 8)
                start = i * plen + o
                self.assertEqual(p[8:], content[start:start + r[2]], f"data of {r}")
                pieces_in_order.append(r)
            elif mid == 16:
                r = struct.unpack(">III", p)
            else:
                continue
            self.assertIn(r, requests, f"an answer to {r}, never asked")
            self.assertNotIn(r, answers, f"request {r} answered twice")
            answers[r] = mid
        self.assertEqual([m for m, _ in w.messages_for(0.5) if m in (7, 16)], [],
                         "no answer beyond one per request")
        for r in requests:
            if r not in cancelled:
                self.assertEqual(answers[r], 7, f"{r} was not cancelled: served")
        self.assertEqual(pieces_in_order, [r for r in requests if r in pieces_in_order],
                         "blocks go out in the order asked")
        rejected = sum(1 for r in cancelled if answers[r] == 16)
        self.assertGreater(rejected, 0, "cancels of requests not yet sent are rejected")
        note(f"{len(requests)} requests ({sum(r[2] for r in requests) >> 10} KiB): all served in "
             f"order with the right bytes; {rejected} of {len(cancelled)} late cancels rejected")

    def test_no_fast_messages_without_the_fast_bit(self):
        w = self.connect(EXT_ONLY)
        msgs, ids = self.greet(w)
        self.assertEqual(ids[0], 5, f"a bitfield first without the fast bit, got {ids}")
        self.assertFalse(set(ids) & {13, 14, 15, 16, 17}, f"fast messages sent: {ids}")
        # Choked, not interested: a request is silently ignored (no reject without BEP 6).
        w.send(6, struct.pack(">III", 0, 0, BLOCK))
        later = [m for m, _ in w.messages_for(1.0)]
        self.assertFalse(set(later) & {7, 16}, f"answered a choked request: {later}")
        note("without the fast bit: bitfield first, no have-all/allowed-fast/reject at all")


if __name__ == "__main__":
    pwtest.main()
