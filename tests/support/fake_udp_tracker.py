"""A scripted UDP tracker (BEP 15) on 127.0.0.1 for the client's error paths, run in a thread.

    with FakeUdpTracker(mode="ok", counts=(7, 8, 9)) as t:   # t.url, t.requests
        ...

Modes: "ok" (connect, announce with `peers`, scrape with `counts` = seeders, completed,
leechers), "error" (an error reply, action 3, with `message`, to every request),
"wrong_tid" (correct replies with the transaction id changed), "truncated" (the connect works,
the announce/scrape reply loses its last byte), "silent" (never answers). Every request is
recorded as (action, length). The thread stops on exit, or after `lifetime` seconds at most.
Standard library only.
"""
import socket
import struct
import threading
import time

PROTOCOL_ID = 0x41727101980


class FakeUdpTracker:
    def __init__(self, mode="ok", *, counts=(0, 0, 0), peers=(), message="go away",
                 interval=1800, lifetime=120):
        self.mode = mode
        self.counts = counts
        self.peers = list(peers)  # (ip, port) IPv4 pairs for announce replies
        self.message = message
        self.interval = interval
        self.lifetime = lifetime
        self.requests = []  # (action, length)
        self.sock = None
        self.thread = None
        self._stop = threading.Event()
        self.connection_id = 0x0123456789ABCDEF

    @property
    def port(self):
        return self._port

    @property
    def url(self):
        return f"udp://127.0.0.1:{self.port}/announce"

    def count(self, action):
        return sum(1 for a, _ in self.requests if a == action)

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self._port = self.sock.getsockname()[1]
        self.sock.settimeout(0.1)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self.thread:
            self.thread.join(timeout=5)
        if self.sock:
            self.sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def _reply(self, req):
        if len(req) < 16:
            return None
        conn, action, tid = struct.unpack(">QII", req[:16])
        if self.mode == "silent":
            return None
        if self.mode == "wrong_tid":
            tid ^= 0x5A5A5A5A
        if self.mode == "error":
            return struct.pack(">II", 3, tid) + self.message.encode()
        if action == 0:
            if conn != PROTOCOL_ID:
                return None
            return struct.pack(">IIQ", 0, tid, self.connection_id)
        if conn != self.connection_id:
            return None  # like real trackers: a request with an unknown connection id is ignored
        if action == 1:
            seeders, _, leechers = self.counts
            out = struct.pack(">IIIII", 1, tid, self.interval, leechers, seeders)
            for ip, port in self.peers:
                out += socket.inet_aton(ip) + struct.pack(">H", port)
        elif action == 2:
            n = (len(req) - 16) // 20
            out = struct.pack(">II", 2, tid) + struct.pack(">III", *self.counts) * n
        else:
            return None
        if self.mode == "truncated":
            out = out[:-1]
        return out

    def _loop(self):
        deadline = time.monotonic() + self.lifetime
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            action = struct.unpack(">I", data[8:12])[0] if len(data) >= 12 else -1
            self.requests.append((action, len(data)))
            reply = self._reply(data)
            if reply is not None:
                try:
                    self.sock.sendto(reply, addr)
                except OSError:
                    pass
