"""`peerwire tracker` in the background, and small HTTP / UDP (BEP 15) clients to talk to it,
for tests/cli/tracker_cli_test.py and tests/interop/tracker_server_*_test.py.

    with PeerwireTracker(["--interval", "5"]) as tr:   # HTTP + UDP on free ports, loopback only
        tr.http_url, tr.udp_url                        # announce URLs for torrents
        tr.announce(ih, pid, port)                     # HTTP announce -> decoded dict
        tr.scrape([ih])                                # {ih: {complete, incomplete, downloaded}}
        tr.wait_swarm(ih, seeders=1)                   # until the tracker lists one seeder
        u = UdpTrackerClient(tr.udp_port); cid = u.connect(); u.announce(cid, ih, pid, port)
    LtTrackedClient(torrent, save_path, seed=False)    # libtorrent via the torrent's tracker,
                                                       # prints DONE and its scrape replies

Every process is started with PR_SET_PDEATHSIG and stopped by its PID; every wait has a deadline.
Standard library only at import time (libtorrent runs in /usr/bin/python3 subprocesses).
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
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
import pwtest  # noqa: E402
import tracker_fixture as tf  # noqa: E402

PROTOCOL_ID = 0x41727101980


def q(b):
    return urllib.parse.quote_from_bytes(b, safe="")


class TrackerError(RuntimeError):
    pass


class PeerwireTracker:
    """`peerwire tracker --bind 127.0.0.1 [--bind ::1] --http 0 --udp 0 -v EXTRA...`; reads the
    ports it chose from its "listening:" lines."""

    def __init__(self, extra=(), *, ipv6=False, start_timeout=15, peerwire=None):
        self.extra = [str(a) for a in extra]
        self.ipv6 = ipv6
        self.start_timeout = start_timeout
        self.peerwire = peerwire or pwtest.PEERWIRE
        self.proc = None
        self.tmp = None
        self.http_port = None
        self.udp_port = None

    @property
    def argv(self):
        binds = ["--bind", "127.0.0.1"] + (["--bind", "::1"] if self.ipv6 else [])
        return [self.peerwire, "tracker", *binds, "--http", "0", "--udp", "0", "-v", *self.extra]

    @property
    def http_url(self):
        return f"http://127.0.0.1:{self.http_port}/announce"

    @property
    def udp_url(self):
        return f"udp://127.0.0.1:{self.udp_port}/announce"

    def output(self):
        try:
            with open(os.path.join(self.tmp, "stdout"), "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except (OSError, TypeError):
            return ""

    def stderr(self):
        try:
            with open(os.path.join(self.tmp, "stderr"), "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except (OSError, TypeError):
            return ""

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="peerwire-tracker-")
        with open(os.path.join(self.tmp, "stdout"), "wb") as out, \
                open(os.path.join(self.tmp, "stderr"), "wb") as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, preexec_fn=peers._die_with_parent)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            text = self.output()
            m_http = re.search(r"listening: http 127\.0\.0\.1:(\d+)", text)
            m_udp = re.search(r"listening: udp 127\.0\.0\.1:(\d+)", text)
            want_http = "--no-http" not in self.extra
            want_udp = "--no-udp" not in self.extra
            if (m_http or not want_http) and (m_udp or not want_udp):
                self.http_port = int(m_http.group(1)) if m_http else None
                self.udp_port = int(m_udp.group(1)) if m_udp else None
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise TrackerError(f"peerwire tracker did not start: {self.describe()}")

    def describe(self):
        code = self.proc.poll() if self.proc else None
        return (f"$ {' '.join(self.argv)} (exit {code})\nstdout:\n{self.output()[-6000:]}\n"
                f"stderr:\n{self.stderr()[-3000:]}")

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, timeout=10):
        """SIGTERM by PID; returns the exit code (SIGKILL and None if it did not stop)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
                return None
            except ProcessLookupError:
                pass
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # --- HTTP -----------------------------------------------------------------------------

    def http_raw(self, request_bytes, timeout=5, host="127.0.0.1"):
        """Sends raw bytes, returns (status, body bytes) of the reply read until close (or
        Content-Length), or (None, b"") when the server closed without a reply."""
        with socket.create_connection((host, self.http_port), timeout=timeout) as s:
            s.sendall(request_bytes)
            data = b""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    chunk = s.recv(65536)
                except (ConnectionResetError, socket.timeout):
                    break
                if not chunk:
                    break
                data += chunk
                head, sep, body = data.partition(b"\r\n\r\n")
                m = re.search(rb"(?i)content-length: *(\d+)", head)
                if sep and m and len(body) >= int(m.group(1)):
                    break
        if not data:
            return None, b""
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        return status, body

    def get(self, target, host="127.0.0.1"):
        """GET target over a new connection; (status, decoded bencode or raw body)."""
        status, body = self.http_raw(
            f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(), host=host)
        try:
            return status, peers.bdecode(body)[0]
        except Exception:  # noqa: BLE001 - the caller asserts on the raw body
            return status, body

    def announce(self, info_hash, peer_id, port, *, left=0, event=None, extra="", host="127.0.0.1"):
        query = (f"info_hash={q(info_hash)}&peer_id={q(peer_id)}&port={port}&uploaded=0"
                 f"&downloaded=0&left={left}" + (f"&event={event}" if event else "") + extra)
        return self.get("/announce?" + query, host=host)[1]

    def scrape(self, info_hashes):
        query = "&".join(f"info_hash={q(h)}" for h in info_hashes)
        status, reply = self.get("/scrape?" + query)
        if status != 200 or not isinstance(reply, dict) or b"files" not in reply:
            raise TrackerError(f"scrape failed: {status} {reply!r}")
        return {h: {k.decode(): v for k, v in d.items()} for h, d in reply[b"files"].items()}

    def wait_swarm(self, info_hash, *, seeders=None, leechers=None, timeout=30):
        """Polls /scrape until the counts match; returns them (raises on timeout)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.scrape([info_hash]).get(info_hash, {})
            if ((seeders is None or last.get("complete") == seeders)
                    and (leechers is None or last.get("incomplete") == leechers)):
                return last
            time.sleep(0.1)
        raise TrackerError(f"swarm never reached seeders={seeders} leechers={leechers}: "
                           f"last {last}\n{self.describe()}")


class UdpTrackerClient:
    """A BEP 15 client on one UDP socket (127.0.0.1 or ::1)."""

    def __init__(self, port, host="127.0.0.1", timeout=2.0):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self.addr = (host, port)
        self.tid = 1000

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def exchange(self, packet):
        """Sends, returns the reply bytes or None when nothing came back within the timeout."""
        self.sock.sendto(packet, self.addr)
        try:
            data, _ = self.sock.recvfrom(65536)
            return data
        except socket.timeout:
            return None

    def next_tid(self):
        self.tid += 1
        return self.tid

    def connect(self):
        tid = self.next_tid()
        reply = self.exchange(struct.pack(">QII", PROTOCOL_ID, 0, tid))
        if not reply or len(reply) < 16:
            raise TrackerError(f"no connect reply: {reply!r}")
        action, rtid, cid = struct.unpack(">IIQ", reply[:16])
        assert action == 0 and rtid == tid, (action, rtid, tid)
        return cid

    def announce_packet(self, cid, info_hash, peer_id, port, *, left=0, event=0, numwant=-1,
                        tid=None):
        tid = self.next_tid() if tid is None else tid
        return struct.pack(">QII20s20sqqqIIIiH", cid, 1, tid, info_hash, peer_id, 0, left, 0,
                           event, 0, 0x5eed, numwant, port)

    def announce(self, cid, info_hash, peer_id, port, **kw):
        """Returns (interval, leechers, seeders, [(ip bytes, port)]) or raises with the error."""
        reply = self.exchange(self.announce_packet(cid, info_hash, peer_id, port, **kw))
        if reply is None:
            raise TrackerError("no announce reply")
        action = struct.unpack(">I", reply[:4])[0]
        if action == 3:
            raise TrackerError("error: " + reply[8:].decode(errors="replace"))
        interval, leechers, seeders = struct.unpack(">III", reply[8:20])
        size = 18 if self.sock.family == socket.AF_INET6 else 6
        body = reply[20:]
        addrs = [(body[i:i + size - 2], struct.unpack(">H", body[i + size - 2:i + size])[0])
                 for i in range(0, len(body), size)]
        return interval, leechers, seeders, addrs

    def scrape(self, cid, info_hashes):
        tid = self.next_tid()
        reply = self.exchange(struct.pack(">QII", cid, 2, tid) + b"".join(info_hashes))
        if reply is None or struct.unpack(">I", reply[:4])[0] != 2:
            raise TrackerError(f"bad scrape reply {reply!r}")
        return [struct.unpack(">III", reply[8 + 12 * i:20 + 12 * i])
                for i in range(len(info_hashes))]


def aria2_udp_tracker_args(state_dir):
    """aria2c options that make it announce to udp:// trackers: it sends them through its DHT
    socket and says "udp is not supported yet" with DHT off. The DHT starts with an empty
    routing table (a fresh file, no entry point) and listens on the loopback interface only
    (the fixtures pass --interface=127.0.0.1), so it contacts nobody."""
    return ["--enable-dht=true", f"--dht-listen-port={peers.free_port()}",
            f"--dht-file-path={os.path.join(state_dir, 'dht.dat')}"]


class Aria2UdpLeecher(tf.Aria2TrackerLeecher):
    """tracker_fixture's aria2 leecher, able to announce to udp:// trackers."""

    def _argv(self):
        argv = super()._argv()
        return argv[:-1] + aria2_udp_tracker_args(self.tmp) + argv[-1:]


_LT_CLIENT = r'''
import json, os, sys, time
import libtorrent as lt
cfg = json.loads(sys.argv[1])
ppid = os.getppid()
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0",
    "outgoing_interfaces": "127.0.0.1",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "allow_multiple_connections_per_ip": True,
    "enable_incoming_utp": False, "enable_outgoing_utp": False,
    "announce_to_all_trackers": True,
    # Its SSRF mitigation refuses localhost tracker URLs whose path is not /announce, which
    # includes every HTTP scrape (/scrape) of a tracker on 127.0.0.1.
    "ssrf_mitigation": False,
    "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
                  | lt.alert.category_t.tracker_notification,
})
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(cfg["torrent"])
atp.save_path = cfg["save_path"]
atp.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
h = ses.add_torrent(atp)
t0 = time.monotonic()
print("STARTED", flush=True)
done = False
last_scrape = 0
while True:
    ses.wait_for_alert(100)
    for a in ses.pop_alerts():
        if isinstance(a, lt.scrape_reply_alert):
            print("SCRAPE complete=%d incomplete=%d" % (a.complete, a.incomplete), flush=True)
        elif isinstance(a, lt.scrape_failed_alert):
            print("SCRAPE_FAILED", a.error.value(), a.error.message(), a.error_message(),
                  flush=True)
        elif isinstance(a, lt.tracker_reply_alert):
            print("TRACKER_REPLY peers=%d" % a.num_peers, flush=True)
        else:
            print("ALERT", type(a).__name__, a.message(), flush=True)
    st = h.status()
    now = time.monotonic()
    if not done and st.is_seeding:
        done = True
        print("DONE %.3f" % (now - t0), flush=True)
    if done and cfg.get("scrape") and now - last_scrape >= 1:
        last_scrape = now
        h.scrape_tracker()
    if os.getppid() != ppid:
        sys.exit(0)
'''


class LtTrackedClient(peers._Seeder):
    """libtorrent announcing to the torrent's tracker only (no connect_peer): it must find its
    peers through the tracker. Ready at once (STARTED); done() once it is seeding. With
    scrape=True it scrapes the tracker every second once done and prints SCRAPE lines."""

    kind = "libtorrent-tracked"

    def __init__(self, torrent, save_path, *, scrape=False, start_timeout=30):
        super().__init__(torrent, save_path, start_timeout=start_timeout)
        self.scrape = scrape

    def _needs_port(self):
        return False

    def _listening(self):
        return True

    def _prepare(self):
        os.makedirs(self.save_path, exist_ok=True)
        script = os.path.join(self.tmp, "lt_client.py")
        with open(script, "w") as f:
            f.write(_LT_CLIENT)
        cfg = {"torrent": self.torrent, "save_path": self.save_path, "scrape": self.scrape}
        self.port = -1
        return [peers.LT_PYTHON, "-u", script, json.dumps(cfg)]

    def _ready(self, output):
        return "STARTED" in output

    def wait_done(self, timeout):
        """Seconds until DONE, or None on timeout / exit."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if "\nDONE " in "\n" + self.log():
                return time.monotonic() - t0
            if not self.alive():
                return None
            time.sleep(0.05)
        return None

    def scrapes(self):
        return [(int(c), int(i)) for c, i in
                re.findall(r"SCRAPE complete=(\d+) incomplete=(\d+)", self.log())]
