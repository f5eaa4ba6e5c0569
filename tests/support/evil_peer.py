"""A BitTorrent peer that misbehaves on purpose, one behaviour per mode, for
tests/interop/malicious_peers_test.py. Standard library only.

    with EvilPeer("corrupt_all", sample) as e:    # listens on 127.0.0.1:e.port (a thread)
        ... peerwire download --peer 127.0.0.1:<e.port> ...
        e.connections, e.log                       # how often it was dialled, what it did

It only answers: peerwire dials it (--peer), the evil peer reads the 68-byte handshake and then
misbehaves according to MODES below. Every connection runs in its own daemon thread with a hard
lifetime (LIFETIME seconds) and every socket operation has a timeout, so nothing outlives the
test. The peers that serve data announce themselves as seeds (have-all, fast extension), so the
client asks them for blocks.
"""
import hashlib
import random
import socket
import struct
import threading
import time

PROTOCOL = b"\x13BitTorrent protocol"
RESERVED_FAST = bytes([0, 0, 0, 0, 0, 0, 0, 0x04])  # BEP 6 only: no extension handshake to fake
BLOCK = 16384
LIFETIME = 150.0  # seconds one connection may live, whatever happens

# mode -> what it does (after reading the client's handshake)
MODES = {
    "wrong_info_hash": "answers with the handshake of another torrent",
    "wrong_protocol": "answers with a protocol string that is not 'BitTorrent protocol'",
    "cut_handshake": "sends the first 30 bytes of a handshake, then nothing",
    "huge_length": "valid handshake, then a message whose length prefix is 2^31",
    "bitfield_size": "valid handshake, then a bitfield one byte too long",
    "bitfield_spare": "valid handshake, then a bitfield of the right size with the spare bits set",
    "have_out_of_range": "valid handshake, have-none, then 'have' for piece #piece_count",
    "request_out_of_range": "have-none, interested, then a request for piece #piece_count",
    "request_too_long": "have-none, interested, then a request for a 1 MiB block",
    "request_flood": "have-none, interested; once unchoked (or after 15 s) 10 000 requests",
    "unrequested_blocks": "have-none, unchoke, then blocks nobody asked for",
    "corrupt_all": "have-all, unchoke, answers every request with random bytes",
    "corrupt_half": "have-all, unchoke, answers requests for even pieces with random bytes",
    "keepalive_only": "valid handshake, then only keep-alives, one a second, forever",
    "garbage": "valid handshake, then 64 KiB of random bytes",
}
FLOOD_REQUESTS = 10_000
UNREQUESTED_BLOCKS = 4_000  # 62.5 MiB at most: far above what the client should tolerate


def _msg(msg_id, payload=b""):
    return struct.pack(">IB", len(payload) + 1, msg_id) + payload


class EvilPeer:
    """One listening socket on 127.0.0.1 playing `mode` on every connection.

    sample: a peers.Sample (info_hash, piece_length, total_size, piece_count; content read for
    corrupt_half, which serves the real bytes of odd pieces)."""

    def __init__(self, mode, sample, *, seed=0):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.info_hash = bytes.fromhex(sample.info_hash)
        self.piece_length = sample.piece_length
        self.total_size = sample.total_size
        self.piece_count = sample.piece_count
        self.content_path = sample.content
        self.peer_id = ("-EV0001-" + hashlib.sha1(mode.encode()).hexdigest()[:12]).encode()
        self.rng_seed = seed
        self.connections = 0
        self.log = []          # (connection number, text)
        self.sent_blocks = 0   # piece messages sent, over all connections
        self.requests_seen = 0
        self._data = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conns = []

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        if self.mode == "corrupt_half":
            with open(self.content_path, "rb") as f:
                self._data = f.read()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name=f"evil-{self.mode}")
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        try:
            self._sock.close()
        except OSError:
            pass
        self._thread.join(timeout=2)
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.close()
            except OSError:
                pass
        return False

    def _note(self, n, text):
        with self._lock:
            self.log.append((n, text))

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                n = self.connections
                self._conns.append(conn)
            threading.Thread(target=self._handle, args=(conn, n), daemon=True).start()

    # -- one connection ----------------------------------------------------------------------

    def _handle(self, conn, n):
        deadline = time.monotonic() + LIFETIME
        rng = random.Random(self.rng_seed * 1000 + n)
        try:
            conn.settimeout(0.2)
            theirs = self._recv_exact(conn, 68, deadline=time.monotonic() + 10)
            if len(theirs) < 68:
                self._note(n, f"short handshake from the client ({len(theirs)} bytes)")
                return
            handler = getattr(self, "_mode_" + self.mode)
            handler(conn, n, rng, deadline)
        except (OSError, ValueError) as e:
            self._note(n, f"connection ended: {e.__class__.__name__}: {e}")
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _handshake(self, info_hash=None, protocol=PROTOCOL):
        return protocol + RESERVED_FAST + (info_hash or self.info_hash) + self.peer_id

    def _recv_exact(self, conn, size, deadline):
        got = b""
        while len(got) < size and time.monotonic() < deadline and not self._stop.is_set():
            try:
                chunk = conn.recv(size - len(got))
            except socket.timeout:
                continue
            if not chunk:
                break
            got += chunk
        return got

    def _hold(self, conn, n, deadline):
        """Reads and discards until the client closes (or the deadline): the 'silence' part."""
        while time.monotonic() < deadline and not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                self._note(n, "closed by the client")
                return True
        return False

    def _messages(self, conn, deadline, on_idle=None, idle_every=0.2):
        """Yields (id, payload) for each message the client sends (keep-alives skipped) until it
        closes or the deadline passes; calls on_idle() at most every idle_every seconds."""
        buf = b""
        last_idle = 0.0
        while time.monotonic() < deadline and not self._stop.is_set():
            if on_idle and time.monotonic() - last_idle >= idle_every:
                last_idle = time.monotonic()
                on_idle()
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 4:
                length = struct.unpack(">I", buf[:4])[0]
                if len(buf) < 4 + length:
                    break
                body, buf = buf[4:4 + length], buf[4 + length:]
                if length:
                    yield body[0], body[1:]

    def _piece_size(self, index):
        return min(self.piece_length, self.total_size - index * self.piece_length)

    def _bitfield_bytes(self):
        return (self.piece_count + 7) // 8

    # -- the modes ---------------------------------------------------------------------------

    def _mode_wrong_info_hash(self, conn, n, rng, deadline):
        other = hashlib.sha1(b"another torrent" + self.info_hash).digest()
        conn.sendall(self._handshake(info_hash=other))
        self._hold(conn, n, deadline)

    def _mode_wrong_protocol(self, conn, n, rng, deadline):
        conn.sendall(self._handshake(protocol=b"\x13BitTorrent protocoX"))
        self._hold(conn, n, deadline)

    def _mode_cut_handshake(self, conn, n, rng, deadline):
        conn.sendall(self._handshake()[:30])
        self._hold(conn, n, deadline)

    def _mode_huge_length(self, conn, n, rng, deadline):
        conn.sendall(self._handshake() + struct.pack(">IB", 1 << 31, 7) + b"\0" * 4096)
        self._hold(conn, n, deadline)

    def _mode_bitfield_size(self, conn, n, rng, deadline):
        conn.sendall(self._handshake() + _msg(5, b"\xff" * (self._bitfield_bytes() + 1)))
        self._hold(conn, n, deadline)

    def _mode_bitfield_spare(self, conn, n, rng, deadline):
        if self.piece_count % 8 == 0:
            raise ValueError("bitfield_spare needs a piece count that is not a multiple of 8")
        conn.sendall(self._handshake() + _msg(5, b"\xff" * self._bitfield_bytes()))
        self._hold(conn, n, deadline)

    def _mode_have_out_of_range(self, conn, n, rng, deadline):
        conn.sendall(self._handshake() + _msg(15) + _msg(4, struct.pack(">I", self.piece_count)))
        self._hold(conn, n, deadline)

    def _mode_request_out_of_range(self, conn, n, rng, deadline):
        conn.sendall(self._handshake() + _msg(15) + _msg(2) +
                     _msg(6, struct.pack(">III", self.piece_count, 0, BLOCK)))
        self._hold(conn, n, deadline)

    def _mode_request_too_long(self, conn, n, rng, deadline):
        conn.sendall(self._handshake() + _msg(15) + _msg(2) +
                     _msg(6, struct.pack(">III", 0, 0, 1 << 20)))
        self._hold(conn, n, deadline)

    def _mode_request_flood(self, conn, n, rng, deadline):
        conn.sendall(self._handshake() + _msg(15) + _msg(2))
        # Flood once unchoked and the client has announced pieces, so it really serves (and
        # must bound) what it accepts; after 15 s the flood goes out whatever the state.
        st = {"have": set(), "unchoked": False, "flooded": False}
        flood_at = time.monotonic() + 15

        def maybe_flood():
            if st["flooded"]:
                return
            if not ((st["unchoked"] and st["have"]) or time.monotonic() > flood_at):
                return
            st["flooded"] = True
            pieces = sorted(st["have"]) or [0]
            reqs = []
            for k in range(FLOOD_REQUESTS):
                index = pieces[k % len(pieces)]
                blocks = max(1, -(-self._piece_size(index) // BLOCK))
                offset = (k // len(pieces)) % blocks * BLOCK
                length = min(BLOCK, self._piece_size(index) - offset)
                reqs.append(_msg(6, struct.pack(">III", index, offset, length)))
            conn.sendall(b"".join(reqs))
            self._note(n, f"sent {FLOOD_REQUESTS} requests (unchoked: {st['unchoked']}, client "
                          f"had announced {len(st['have'])} pieces)")

        for msg_id, payload in self._messages(conn, deadline, on_idle=maybe_flood):
            if msg_id == 4 and len(payload) == 4:
                st["have"].add(struct.unpack(">I", payload)[0])
            elif msg_id == 5:
                st["have"] |= {i for i in range(self.piece_count)
                               if payload[i // 8] & (0x80 >> (i % 8))}
            elif msg_id == 14:
                st["have"] |= set(range(self.piece_count))
            elif msg_id == 1:
                st["unchoked"] = True
            elif msg_id == 0:
                st["unchoked"] = False
            maybe_flood()
        self._note(n, "closed by the client")

    def _mode_unrequested_blocks(self, conn, n, rng, deadline):
        # Have-none: the client never asks it for anything, so every block is unrequested (as
        # a seed, random blocks would sometimes match a request and get it banned for
        # corrupt data instead).
        conn.sendall(self._handshake() + _msg(15) + _msg(1))
        sent = 0
        conn.settimeout(2.0)
        try:
            while sent < UNREQUESTED_BLOCKS and time.monotonic() < deadline:
                index = rng.randrange(self.piece_count)
                size = self._piece_size(index)
                offset = rng.randrange(max(1, size // BLOCK)) * BLOCK
                length = min(BLOCK, size - offset)
                conn.sendall(_msg(7, struct.pack(">II", index, offset) + rng.randbytes(length)))
                sent += 1
                with self._lock:
                    self.sent_blocks += 1
        except OSError as e:
            self._note(n, f"stopped after {sent} unrequested blocks: {e.__class__.__name__}")
            return
        self._note(n, f"sent {sent} unrequested blocks")
        conn.settimeout(0.2)
        self._hold(conn, n, deadline)

    def _serve_requests(self, conn, n, rng, deadline, corrupt):
        conn.sendall(self._handshake() + _msg(14) + _msg(1))
        for msg_id, payload in self._messages(conn, deadline):
            if msg_id != 6 or len(payload) != 12:
                continue
            index, offset, length = struct.unpack(">III", payload)
            with self._lock:
                self.requests_seen += 1
            if corrupt(index):
                block = rng.randbytes(length)
            else:
                start = index * self.piece_length + offset
                block = self._data[start:start + length]
            conn.sendall(_msg(7, struct.pack(">II", index, offset) + block))
            with self._lock:
                self.sent_blocks += 1
        self._note(n, "closed by the client")

    def _mode_corrupt_all(self, conn, n, rng, deadline):
        self._serve_requests(conn, n, rng, deadline, lambda index: True)

    def _mode_corrupt_half(self, conn, n, rng, deadline):
        self._serve_requests(conn, n, rng, deadline, lambda index: index % 2 == 0)

    def _mode_keepalive_only(self, conn, n, rng, deadline):
        conn.sendall(self._handshake())
        for _ in self._messages(conn, deadline, on_idle=lambda: conn.sendall(b"\0\0\0\0"),
                                idle_every=1.0):
            pass  # everything the client says is ignored
        self._note(n, "closed by the client")

    def _mode_garbage(self, conn, n, rng, deadline):
        junk = bytearray(rng.randbytes(64 * 1024))
        junk[0] = max(junk[0], 1)  # a length prefix >= 2^24: no accidental valid message
        conn.sendall(self._handshake() + bytes(junk))
        self._hold(conn, n, deadline)
