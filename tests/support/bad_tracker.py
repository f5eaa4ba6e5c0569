"""An HTTP tracker on 127.0.0.1 that misbehaves in a different way on each path, for
tests/interop/bad_trackers_test.py. Standard library only.

    with BadTracker(seed_port) as bt:
        bt.url("failure")       # http://127.0.0.1:P/failure/announce
        bt.announces["good"]    # queries received on that path, in order

Every announce to /MODE/announce gets MODE's answer (MODES below). "good" and the interval
modes hand out the seeder (127.0.0.1:seed_port) as their only peer. Each request is served in a
daemon thread; the never-ending answer stops after NEVER_ENDS_LIMIT seconds, when the client
goes away, or when the tracker is closed.
"""
import socket
import struct
import sys
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

MODES = {
    "good": "a correct answer listing the seeder",
    "failure": "a 'failure reason'",
    "not_bencoded": "an HTML error page with status 200",
    "truncated": "a bencoded answer cut off in the middle",
    "peers_not_6": "a compact 'peers' string of 6*N+1 bytes",
    "many_peers": "100 000 compact peers (the seeder first, then ports nothing listens on)",
    "redirect_loop": "302 to itself, forever",
    "never_ends": "200 without a length (ends at EOF), then one byte a second, never closing",
    "interval_zero": "a correct answer with interval 0 (and min interval 0)",
    "interval_negative": "a correct answer with interval -30",
}
FAILURE_TEXT = "go away: this torrent is not registered here"
MANY = 100_000
NEVER_ENDS_LIMIT = 60.0


def _compact(port):
    return socket.inet_aton("127.0.0.1") + struct.pack(">H", port)


class BadTracker:

    def __init__(self, seed_port, *, dead_ports=()):
        self.seed_port = seed_port
        # Ports for the 100 000-peer list: a few ports nothing listens on (repeated), so the
        # client's de-duplication is exercised and no unrelated local process is dialled.
        self.dead_ports = list(dead_ports) or [peers.closed_port() for _ in range(20)]
        self.announces = {m: [] for m in MODES}
        self._closing = threading.Event()

    def url(self, mode):
        return f"http://127.0.0.1:{self.port}/{mode}/announce"

    def __enter__(self):
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                mode = parts.path.strip("/").split("/")[0]
                if mode not in MODES:
                    self.send_error(404)
                    return
                tracker.announces[mode].append(
                    parse_qs(parts.query, keep_blank_values=True, encoding="latin-1"))
                getattr(tracker, "_" + mode)(self)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        return False

    # -- answers -----------------------------------------------------------------------------

    @staticmethod
    def _send(h, body, status=200, headers=()):
        h.send_response(status)
        h.send_header("Content-Type", "text/plain")
        for k, v in headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _good(self, h):
        self._send(h, peers.bencode({"interval": 1800, "peers": _compact(self.seed_port)}))

    def _failure(self, h):
        self._send(h, peers.bencode({"failure reason": FAILURE_TEXT}))

    def _not_bencoded(self, h):
        self._send(h, b"<html><body><h1>502 Bad Gateway</h1></body></html>")

    def _truncated(self, h):
        body = peers.bencode({"interval": 1800, "peers": _compact(self.seed_port) * 3})
        self._send(h, body[:len(body) - 9])

    def _peers_not_6(self, h):
        self._send(h, peers.bencode({"interval": 1800,
                                     "peers": _compact(self.seed_port) * 2 + b"\x01"}))

    def _many_peers(self, h):
        rest = [_compact(self.dead_ports[i % len(self.dead_ports)]) for i in range(MANY - 1)]
        body = peers.bencode({"interval": 1800,
                              "peers": _compact(self.seed_port) + b"".join(rest)})
        self._send(h, body)

    def _redirect_loop(self, h):
        self._send(h, b"", status=302, headers=[("Location", self.url("redirect_loop"))])

    def _never_ends(self, h):
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Connection", "close")  # no length: the body ends when we close
        h.end_headers()
        h.wfile.write(b"d8:intervali1800e5:peers")
        h.wfile.flush()
        end = time.monotonic() + NEVER_ENDS_LIMIT
        try:
            while time.monotonic() < end and not self._closing.is_set():
                h.wfile.write(b"9")
                h.wfile.flush()
                self._closing.wait(1.0)
        except OSError:
            pass  # the client gave up: what we want
        h.close_connection = True

    def _interval_zero(self, h):
        self._send(h, peers.bencode({"interval": 0, "min interval": 0,
                                     "peers": _compact(self.seed_port)}))

    def _interval_negative(self, h):
        self._send(h, peers.bencode({"interval": -30, "peers": _compact(self.seed_port)}))
