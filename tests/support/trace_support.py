"""Helpers for the `peerwire trace` script tests (tests/cli/trace_cli_test.py and
tests/interop/trace_test.py). Standard library only.

    with TraceRun([T, "--listen", "--port", P, "--json", "--duration", 8]) as tr:
        tr.wait_listening()                  # -> the port from the "listening for ..." line
        ...
        tr.wait()                            # exit code (kills it and fails on timeout)
        tr.events()                          # parsed JSON lines [{t, peer, dir, text}]

TraceRun runs `peerwire trace ARGS` in a subprocess whose stdout/stderr are collected line by
line by reader threads; on exit it stops the process by PID (SIGTERM, then SIGKILL).

Also: MiniTracker (an HTTP tracker on 127.0.0.1 that hands out fixed peers, so a client that
only finds peers through a tracker -- aria2 -- dials peerwire), torrent_with_announce(),
Aria2Leecher (aria2c downloading a torrent into an empty directory), raw handshake helpers,
and parse_handshake_text() for the "handshake info-hash ... peer id ... reserved: ..." lines.
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
import pwtest  # noqa: E402

PROTOCOL = b"\x13BitTorrent protocol"
RESERVED_EXT_FAST = bytes([0, 0, 0, 0, 0, 0x10, 0, 0x05])

# "handshake info-hash <40 hex> peer id <client> (<40 hex>) reserved: <bits>"
HANDSHAKE_RE = re.compile(r"^handshake info-hash ([0-9a-f]{40}) peer id (.+) \(([0-9a-f]{40})\) "
                          r"reserved: (.+)$")
# Text mode: "%8.3f  %-21s %s %s"
TEXT_LINE_RE = re.compile(r"^ *(\d+\.\d{3})  (\S+) +(->|<-) (.*)$")


def parse_handshake_text(text):
    """{"info_hash", "client", "peer_id" (bytes), "reserved" (str)} or None."""
    m = HANDSHAKE_RE.match(text)
    if not m:
        return None
    return {"info_hash": m.group(1), "client": m.group(2), "peer_id": bytes.fromhex(m.group(3)),
            "reserved": m.group(4)}


def reserved_names(reserved):
    """The names peerwire gives the known bits of 8 reserved bytes, in its order."""
    names = []
    if reserved[5] & 0x10:
        names.append("extension protocol (BEP 10)")
    if reserved[7] & 0x04:
        names.append("fast extension (BEP 6)")
    if reserved[7] & 0x01:
        names.append("DHT (BEP 5)")
    if reserved[7] & 0x10:
        names.append("v2 upgrade (BEP 52)")
    return names


def handshake_bytes(info_hash, peer_id=b"-XX0000-pythontest00", reserved=RESERVED_EXT_FAST):
    if isinstance(info_hash, str):
        info_hash = bytes.fromhex(info_hash)
    return PROTOCOL + reserved + info_hash + peer_id


def recv_until_eof(sock, timeout):
    """Reads until EOF/reset or `timeout`. Returns (bytes, how): how is "eof", "reset" or
    "timeout"."""
    got = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return got, "timeout"
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return got, "timeout"
        except ConnectionResetError:
            return got, "reset"
        if not chunk:
            return got, "eof"
        got += chunk


def recv_exact(sock, n, timeout):
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(got))
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        got += chunk
    return got


# ---------------------------------------------------------------------------------------------
# peerwire trace in a subprocess

class TraceRun:
    """`peerwire trace ARGS` running in the background (a context manager)."""

    def __init__(self, args, *, peerwire=None):
        self.args = [str(a) for a in args]
        self.peerwire = peerwire or pwtest.PEERWIRE
        self.proc = None
        self.started = None
        self.ended = None
        self._out = []
        self._err = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._threads = []

    @property
    def argv(self):
        return [self.peerwire, "trace", *self.args]

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=peers._die_with_parent)
        for stream, sink in ((self.proc.stdout, self._out), (self.proc.stderr, self._err)):
            t = threading.Thread(target=self._read, args=(stream, sink), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _read(self, stream, sink):
        for raw in iter(stream.readline, b""):
            with self._changed:
                sink.append(raw.decode("utf-8", errors="replace").rstrip("\n"))
                self._changed.notify_all()
        stream.close()

    # -- output ---------------------------------------------------------------------------
    def lines(self):
        with self._lock:
            return list(self._out)

    def stderr(self):
        with self._lock:
            return "\n".join(self._err)

    def events(self):
        """stdout parsed as one JSON object per line; AssertionError on a line that is not."""
        out = []
        for i, line in enumerate(self.lines()):
            try:
                out.append(json.loads(line))
            except ValueError as e:
                raise AssertionError(f"stdout line {i + 1} is not JSON ({e}): {line!r}\n"
                                     f"{self.describe()}") from None
        return out

    def describe(self, limit=12000):
        """The command, exit status and output, for failure messages."""
        status = "running" if self.proc and self.proc.poll() is None else \
            f"exit {self.proc.returncode if self.proc else None}"
        text = "\n".join(self.lines())
        if len(text) > limit:
            text = text[:limit // 2] + "\n...\n" + text[-limit // 2:]
        return (f"$ {' '.join(self.argv)}  ({status})\nstdout:\n{text}\n"
                f"stderr:\n{self.stderr()}")

    def wait_for(self, predicate, timeout):
        """Waits until predicate(list of stdout lines) is true; returns its value or None."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate(list(self._out))
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and
                                 not any(t.is_alive() for t in self._threads)):
                    return predicate(list(self._out)) or None
                self._changed.wait(min(left, 0.1))

    def wait_for_event(self, predicate, timeout):
        """Waits for a JSON line (dict) for which predicate(event) is true; returns it."""
        def find(lines):
            for line in lines:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if predicate(e):
                    return e
            return None
        return self.wait_for(find, timeout)

    def wait_listening(self, timeout=10):
        """The port from the "listening for info-hash ..." line (JSON or text mode)."""
        def find(lines):
            for line in lines:
                if "listening for info-hash" not in line:
                    continue
                try:
                    peer = json.loads(line)["peer"]
                except ValueError:
                    m = TEXT_LINE_RE.match(line)
                    peer = m.group(2) if m else ""
                m = re.search(r":(\d+)$", peer)
                if m:
                    return int(m.group(1))
            return None
        port = self.wait_for(find, timeout)
        if port is None:
            raise AssertionError(f"no 'listening for info-hash' line within {timeout}s\n"
                                 f"{self.describe()}")
        return port

    # -- process --------------------------------------------------------------------------
    def signal(self, sig):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        """Waits for the exit (and the end of its output); returns the exit code. On timeout
        it kills the process and raises AssertionError."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"peerwire trace still running after {timeout}s: killed\n"
                                 f"{self.describe()}") from None
        if self.ended is None:
            self.ended = time.monotonic()
        for t in self._threads:
            t.join(timeout=5)
        return code

    @property
    def elapsed(self):
        return (self.ended or time.monotonic()) - self.started

    def stop(self):
        """SIGTERM to its PID, SIGKILL after 5 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass
        if self.ended is None:
            self.ended = time.monotonic()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        for t in self._threads:
            t.join(timeout=5)
        return False


# ---------------------------------------------------------------------------------------------
# Event helpers

def texts(events, direction=None, peer=None):
    return [e["text"] for e in events
            if (direction is None or e["dir"] == direction) and (peer is None or e["peer"] == peer)]


def index_of(events, predicate, start=0):
    """Index of the first event at or after `start` matching predicate(event), or -1."""
    for i in range(start, len(events)):
        if predicate(events[i]):
            return i
    return -1


def is_(direction, prefix):
    """Predicate: an event in `direction` whose text starts with `prefix`."""
    return lambda e: e["dir"] == direction and e["text"].startswith(prefix)


def closed_lines(events, peer=None):
    return [e for e in events if e["text"].startswith("closed") and
            (peer is None or e["peer"] == peer)]


def format_events(events, limit=80):
    rows = [f"{e['t']:8.3f} {e['peer']:<21} {'->' if e['dir'] == 'out' else '<-'} {e['text']}"
            for e in events[:limit]]
    if len(events) > limit:
        rows.append(f"... ({len(events) - limit} more)")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------
# A minimal HTTP tracker and a leecher that uses it

class MiniTracker:
    """An HTTP tracker on 127.0.0.1 (a thread) answering every announce with `peer_ports`
    (compact peers on 127.0.0.1). `.announces` records the query of each announce."""

    def __init__(self, peer_ports, interval=60):
        self.peer_ports = list(peer_ports)
        self.interval = interval
        self.announces = []

    def __enter__(self):
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                query = parse_qs(urlsplit(self.path).query, keep_blank_values=True,
                                 encoding="latin-1")
                tracker.announces.append(query)
                compact = b"".join(socket.inet_aton("127.0.0.1") + struct.pack(">H", p)
                                   for p in tracker.peer_ports)
                body = peers.bencode({"interval": tracker.interval, "peers": compact})
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/announce"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def announced_info_hashes(self):
        return [q["info_hash"][0].encode("latin-1").hex() for q in self.announces
                if "info_hash" in q]

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        return False


def torrent_with_announce(torrent_bytes, url, out_path):
    """Writes a copy of a .torrent with `announce` = url (the info dict, hence the info-hash,
    is unchanged: the key is spliced in first, as the torrents made by make_sample have no key
    that sorts before "announce")."""
    if torrent_bytes[:1] != b"d":
        raise ValueError("not a bencoded dictionary")
    first_key, _ = peers.bdecode(torrent_bytes, 1)
    if first_key <= b"announce":
        raise ValueError(f"the torrent already starts with key {first_key!r}")
    with open(out_path, "wb") as f:
        f.write(b"d8:announce" + peers.bencode(url) + torrent_bytes[1:])
    return out_path


class Aria2Leecher:
    """aria2c downloading `torrent` into an empty temporary directory on 127.0.0.1 (a context
    manager; stopped by PID on exit). It finds peers only through the torrent's tracker."""

    def __init__(self, torrent):
        self.torrent = os.path.abspath(torrent)
        self.proc = None
        self.tmp = None

    def __enter__(self):
        if not peers.ARIA2C:
            raise peers.SeederError("aria2c is not installed")
        self.tmp = tempfile.mkdtemp(prefix="peerwire-aria2-leecher-")
        self.port = peers.free_port()
        self.log_path = os.path.join(self.tmp, "output.log")
        argv = [*peers.STDBUF, peers.ARIA2C, "--no-conf=true", "--enable-color=false",
                "--console-log-level=notice", "--enable-dht=false", "--enable-dht6=false",
                "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--disable-ipv6=true",
                "--interface=127.0.0.1", f"--listen-port={self.port}",
                "--file-allocation=none", "--auto-save-interval=0", "--bt-require-crypto=false",
                f"--dir={os.path.join(self.tmp, 'download')}", self.torrent]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.tmp,
                                         preexec_fn=peers._die_with_parent)
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False
