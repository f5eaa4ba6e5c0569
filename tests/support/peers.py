"""Real BitTorrent peers on 127.0.0.1 for the interop tests, plus small fake peers.

Seeders (context managers; each starts a real client in a subprocess, waits -- polling, with a
deadline -- until it says it is seeding and its port is listening (read from /proc/net/tcp: no
test connection is made), and on exit stops it by PID (SIGTERM, then SIGKILL) and removes its
temporary directory; PR_SET_PDEATHSIG kills it if the test process dies first):

    sample = make_sample(tmpdir)                         # data + v1 .torrent (+ .info_hash,
                                                         #   .info_size, .magnet, .piece_count)
    with LibtorrentSeeder(sample.torrent, sample.save_path) as s:
        s.port, s.pid, s.address, s.log()                # log(): the client's output so far
    with TransmissionSeeder(sample.torrent, sample.save_path) as s: ...
    with Aria2Seeder(sample.torrent, sample.save_path) as s: ...
    s.wait_idle()   # between two connections to Transmission (it drops a second connection
                    # from 127.0.0.1 while it still holds the first); a no-op for the others

Startup on loopback (300 kB): libtorrent ~0.1 s, Transmission ~0.4 s, aria2 ~1 s.

Fake peers for failure cases (context managers, a thread serving one port):

    with FakePeer(reply=None) as f: f.port               # accepts, reads, never answers
    with FakePeer(reply=b"HTTP/1.1 400 ...") as f: ...   # answers with fixed bytes
    with FakePeer(close_after=0) as f: ...               # closes right after accepting

And `handshake_peer(port, info_hash)`: a plain-Python BitTorrent handshake + short watch, the
oracle the tests compare peerwire's report with.

Standard library only at import time: libtorrent is used in a /usr/bin/python3 subprocess (the
seeder) and, lazily, by make_sample when it is importable.
"""
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

LT_PYTHON = "/usr/bin/python3"  # Debian's python: the only one with the libtorrent module
TRANSMISSION_CLI = shutil.which("transmission-cli")
ARIA2C = shutil.which("aria2c")
STDBUF = [shutil.which("stdbuf"), "-o0"] if shutil.which("stdbuf") else []
START_TIMEOUT = 60  # seconds to wait for a seeder to be seeding and listening


def have_libtorrent():
    """True when LT_PYTHON can import libtorrent."""
    try:
        return subprocess.run([LT_PYTHON, "-c", "import libtorrent"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


# ---------------------------------------------------------------------------------------------
# Ports

def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Chosen below the kernel's ephemeral range (where no outgoing connection can take it before
    the client binds it), and >= 20000 (aria2 wants >= 1024). Falls back to a kernel-chosen one.
    """
    lo, _ = _ephemeral_range()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, max(20001, lo))
        if _bindable(port):
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def closed_port():
    """A port on 127.0.0.1 with no listener: connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_listening(port):
    """True when some socket LISTENs on TCP `port` (IPv4 or IPv6), read from /proc/net/tcp*:
    no connection is made, so the client sees nothing (Transmission drops a new connection from
    an address while an earlier one from it is still in its handshake list; a probe connection
    that closes at once lingers there for a moment). None when /proc is unreadable."""
    found = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        found = found or False
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return True
    return found


def port_accepts(port, host="127.0.0.1", timeout=0.5):
    """True when a TCP connection to host:port succeeds (it is closed at once)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# Bencode (enough to find the info dictionary's exact bytes)

def bdecode(data, i=0):
    """Decodes one bencoded value at data[i:]; returns (value, end). Keys and strings: bytes."""
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        i, out = i + 1, []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i, out = i + 1, {}
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            v, i = bdecode(data, i)
            out[k] = v
        return out, i + 1
    if c.isdigit():
        colon = data.index(b":", i)
        n = int(data[i:colon])
        return data[colon + 1:colon + 1 + n], colon + 1 + n
    raise ValueError(f"bad bencode at offset {i}: {data[i:i + 10]!r}")


def info_bytes(torrent_bytes):
    """The exact bytes of the top-level 'info' value of a .torrent (hash them for the info-hash;
    their length is the ut_metadata 'metadata_size')."""
    if torrent_bytes[:1] != b"d":
        raise ValueError("not a bencoded dictionary")
    i = 1
    while torrent_bytes[i:i + 1] != b"e":
        key, i = bdecode(torrent_bytes, i)
        _, end = bdecode(torrent_bytes, i)
        if key == b"info":
            return torrent_bytes[i:end]
        i = end
    raise ValueError("no info dictionary")


def bencode(value):
    if isinstance(value, bool):
        raise TypeError("bool is not bencodable")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return b"%d:%s" % (len(value), bytes(value))
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode("utf-8") if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


# ---------------------------------------------------------------------------------------------
# Sample data + torrent

class Sample:
    """A torrent and its data on disk: give `torrent` and `save_path` to a seeder."""

    def __init__(self, torrent, save_path, content):
        self.torrent = torrent            # path of the .torrent
        self.save_path = save_path        # directory that holds `name` (the seeder's data dir)
        self.content = content            # save_path/name: the file or the top directory
        with open(torrent, "rb") as f:
            self.torrent_bytes = f.read()
        info = info_bytes(self.torrent_bytes)
        self.info_size = len(info)        # bytes of the bencoded info dict (= metadata_size)
        self.info_hash = hashlib.sha1(info).hexdigest()
        meta, _ = bdecode(info)
        self.name = meta[b"name"].decode("utf-8")
        self.piece_length = meta[b"piece length"]
        self.piece_count = len(meta[b"pieces"]) // 20
        if b"length" in meta:
            self.total_size = meta[b"length"]
        else:
            self.total_size = sum(f[b"length"] for f in meta[b"files"])

    @property
    def magnet(self):
        return f"magnet:?xt=urn:btih:{self.info_hash}&dn={self.name}"

    def __repr__(self):
        return (f"Sample({self.name!r}, {self.total_size} bytes, {self.piece_count} x "
                f"{self.piece_length}, info-hash {self.info_hash})")


def make_sample(root, name="sample.bin", size=300_000, files=None, piece_length=16384, seed=1):
    """Writes deterministic pseudo-random data under root/data and a v1-only .torrent for it at
    root/<name>.torrent; returns a Sample.

    `files`: {relative path: size} makes a multi-file torrent (directory `name`); else a single
    file of `size` bytes. The torrent has no trackers. It is made with libtorrent's
    create_torrent (v1_only: Transmission 3.00 rejects libtorrent 2's hybrid torrents) when the
    module is importable, else by hashing in Python (same result for v1).
    """
    save_path = os.path.join(root, "data")
    content = os.path.join(save_path, name)
    rng = random.Random(seed)
    spec = {name: size} if files is None else {os.path.join(name, k): v for k, v in files.items()}
    for rel, n in sorted(spec.items()):
        full = os.path.join(save_path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(rng.randbytes(n))
    torrent = os.path.join(root, name + ".torrent")
    try:
        import libtorrent as lt
    except ImportError:
        lt = None
    if lt is not None:
        fs = lt.file_storage()
        lt.add_files(fs, content)
        ct = lt.create_torrent(fs, piece_length, flags=lt.create_torrent.v1_only)
        ct.set_creator("peerwire tests")
        lt.set_piece_hashes(ct, save_path)
        data = lt.bencode(ct.generate())
    else:
        data = bencode({"info": _py_info(save_path, name, files, piece_length),
                        "created by": "peerwire tests"})
    with open(torrent, "wb") as f:
        f.write(data)
    return Sample(torrent, save_path, content)


def _py_info(save_path, name, files, piece_length):
    if files is None:
        paths = [(os.path.join(save_path, name), None)]
    else:
        rels = sorted(files, key=lambda r: r.encode())
        paths = [(os.path.join(save_path, name, r), r) for r in rels]
    blob = b"".join(open(p, "rb").read() for p, _ in paths)
    pieces = b"".join(hashlib.sha1(blob[i:i + piece_length]).digest()
                      for i in range(0, len(blob), piece_length))
    info = {"name": name, "piece length": piece_length, "pieces": pieces}
    if files is None:
        info["length"] = len(blob)
    else:
        info["files"] = [{"length": os.path.getsize(p), "path": r.split(os.sep)} for p, r in paths]
    return info


# ---------------------------------------------------------------------------------------------
# Seeders

class SeederError(RuntimeError):
    pass


def _die_with_parent():
    """preexec_fn: the client gets SIGTERM if the test process dies (no orphans left seeding)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort
        pass


class _Seeder:
    """Common part: a subprocess with its output in a log file, readiness polling, stop by PID."""

    kind = "seeder"

    def __init__(self, torrent, save_path, *, port=None, start_timeout=START_TIMEOUT):
        self.torrent = os.path.abspath(torrent)
        self.save_path = os.path.abspath(save_path)
        self.port = port
        self.start_timeout = start_timeout
        self.proc = None
        self.tmp = None
        self.log_path = None
        self.startup_seconds = None  # how long it took to be ready

    # Subclasses: _prepare() -> argv (self.tmp exists, self.port is set unless they pick it);
    # _ready(output_text) -> bool.
    def _prepare(self):
        raise NotImplementedError

    def _ready(self, output):
        raise NotImplementedError

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def log(self):
        """The client's output so far (text)."""
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def log_tail(self, n=3000):
        text = self.log().replace("\r", "\n")
        lines, seen = [], set()
        for line in text.splitlines():  # transmission-cli repeats its status line 5x/s
            if line.strip() and line not in seen:
                seen.add(line)
                lines.append(line)
        return "\n".join(lines)[-n:]

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix=f"peerwire-{self.kind}-")
        if self.port is None and self._needs_port():
            self.port = free_port()
        argv = self._prepare()
        self.log_path = os.path.join(self.tmp, "output.log")
        t0 = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.tmp,
                                         preexec_fn=_die_with_parent)
        deadline = t0 + self.start_timeout
        try:
            while True:
                if self.proc.poll() is not None:
                    raise SeederError(f"{self.kind} exited with status {self.proc.returncode} "
                                      f"before seeding; argv {argv}\n{self.log_tail()}")
                if self._ready(self.log()) and self.port and self._listening():
                    break
                if time.monotonic() > deadline:
                    raise SeederError(f"{self.kind} not seeding on port {self.port} within "
                                      f"{self.start_timeout}s; argv {argv}\n{self.log_tail()}")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def _needs_port(self):
        return True

    def _listening(self):
        state = port_listening(self.port)
        return port_accepts(self.port) if state is None else state

    def stop(self):
        """SIGTERM to the PID, SIGKILL after 5 s; then removes the temporary directory."""
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
            self.tmp = None

    def wait_idle(self, timeout=10.0, settle=0.0):
        """Waits until the client can take a new connection from 127.0.0.1 (see
        TransmissionSeeder.wait_idle); other clients need no wait."""
        return True

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def __repr__(self):
        return f"<{type(self).__name__} pid {self.pid} on {self.address}>"


_LT_SCRIPT = r'''
import json, os, sys, time
import libtorrent as lt
cfg = json.loads(sys.argv[1])
ppid = os.getppid()
enc = {"disabled": lt.enc_policy.pe_disabled, "enabled": lt.enc_policy.pe_enabled,
       "forced": lt.enc_policy.pe_forced}[cfg["encryption"]]
settings = {
    "listen_interfaces": "127.0.0.1:%d" % cfg["port"],
    "outgoing_interfaces": "127.0.0.1",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "allow_multiple_connections_per_ip": True,
    "enable_incoming_utp": cfg["utp"], "enable_outgoing_utp": cfg["utp"],
    "enable_incoming_tcp": True, "enable_outgoing_tcp": True,
    "out_enc_policy": enc, "in_enc_policy": enc,
    "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
}
settings.update(cfg["settings"])
ses = lt.session(settings)
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(cfg["torrent"])
atp.save_path = cfg["save_path"]
atp.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
h = ses.add_torrent(atp)
for p in cfg["peers"]:
    h.connect_peer(("127.0.0.1", p))
deadline = time.monotonic() + cfg["timeout"]
ready = False
while True:
    ses.wait_for_alert(100)
    for a in ses.pop_alerts():
        if isinstance(a, lt.listen_failed_alert):
            print("FAILED", a.message(), flush=True)
            sys.exit(2)
        if a.category() & lt.alert.category_t.error_notification:
            print("ERROR", a.message(), flush=True)
    if not ready:
        st = h.status()
        if st.errc.value() != 0:
            print("FAILED", st.errc.message(), flush=True)
            sys.exit(3)
        if st.state == lt.torrent_status.states.seeding and ses.listen_port():
            print("READY", ses.listen_port(), flush=True)
            ready = True
        elif time.monotonic() > deadline:
            print("FAILED not seeding: state", st.state, "progress", st.progress, flush=True)
            sys.exit(4)
    if os.getppid() != ppid:
        sys.exit(0)
'''


class LibtorrentSeeder(_Seeder):
    """libtorrent 2.0 (python3-libtorrent) seeding one torrent on 127.0.0.1.

    port: None lets libtorrent bind port 0 and report the port it got (no race).
    utp: enable incoming/outgoing uTP (default off: TCP only).
    encryption: "enabled" (libtorrent's default: accepts plaintext and MSE), "disabled", or
      "forced" (in/out_enc_policy = pe_forced: plaintext handshakes are refused).
    settings: extra lt settings_pack entries (e.g. {"upload_rate_limit": 100000}).
    peers: ports on 127.0.0.1 to dial once the torrent is added.
    """

    kind = "libtorrent"

    def __init__(self, torrent, save_path, *, port=None, utp=False, encryption="enabled",
                 settings=None, peers=(), start_timeout=START_TIMEOUT):
        super().__init__(torrent, save_path, port=port, start_timeout=start_timeout)
        if encryption not in ("enabled", "disabled", "forced"):
            raise ValueError(f"encryption must be enabled, disabled or forced, not {encryption!r}")
        self.utp = utp
        self.encryption = encryption
        self.settings = dict(settings or {})
        self.peers = list(peers)

    def _needs_port(self):
        return False

    def _prepare(self):
        script = os.path.join(self.tmp, "lt_seeder.py")
        with open(script, "w") as f:
            f.write(_LT_SCRIPT)
        cfg = {"port": self.port or 0, "torrent": self.torrent, "save_path": self.save_path,
               "utp": self.utp, "encryption": self.encryption, "settings": self.settings,
               # Its own deadline comes first, so its "FAILED state ..." line makes the error.
               "peers": self.peers, "timeout": max(1.0, self.start_timeout - 1.5)}
        return [LT_PYTHON, "-u", script, json.dumps(cfg)]

    def _ready(self, output):
        for line in output.splitlines():
            if line.startswith("READY "):
                self.port = int(line.split()[1])
                return True
        return False


class TransmissionSeeder(_Seeder):
    """Transmission 3.00's transmission-cli seeding one torrent on 127.0.0.1:port.

    It verifies the data first; ready = its status line says "Seeding" and the port listens.
    Quirks: it replies to a handshake only after ~0.2-1 s; for an info-hash it does not serve
    it closes without a byte after ~0.25-0.5 s; call wait_idle() between connections.
    encryption: "preferred" (Transmission's default), "tolerated" or "required".
    settings: extra settings.json entries.
    """

    kind = "transmission"
    ENCRYPTION = {"tolerated": 0, "preferred": 1, "required": 2}

    def __init__(self, torrent, save_path, *, port=None, encryption="preferred", settings=None,
                 start_timeout=START_TIMEOUT):
        super().__init__(torrent, save_path, port=port, start_timeout=start_timeout)
        if encryption not in self.ENCRYPTION:
            raise ValueError(f"encryption must be one of {sorted(self.ENCRYPTION)}")
        self.encryption = encryption
        self.settings = dict(settings or {})

    def _prepare(self):
        if not TRANSMISSION_CLI:
            raise SeederError("transmission-cli is not installed")
        config = os.path.join(self.tmp, "config")
        os.makedirs(config)
        settings = {
            "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
            "utp-enabled": False, "port-forwarding-enabled": False,
            "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
            "peer-port": self.port, "peer-port-random-on-start": False,
            "encryption": self.ENCRYPTION[self.encryption],
            "ratio-limit-enabled": False, "idle-seeding-limit-enabled": False,
            "speed-limit-up-enabled": False, "speed-limit-down-enabled": False,
            "blocklist-enabled": False, "rpc-enabled": False,
            "message-level": 2,
        }
        settings.update(self.settings)
        with open(os.path.join(config, "settings.json"), "w") as f:
            json.dump(settings, f, indent=1)
        # Absolute paths: transmission-cli fails to open a relative torrent path.
        # stdbuf -o0: its status line ends in \r, not \n, so with stdout a file stdio would
        # hold it back ~10 s (4 KiB of status lines).
        return [*STDBUF, TRANSMISSION_CLI, "-g", config, "-p", str(self.port), "-w", self.save_path,
                self.torrent]

    def status_line(self):
        """Its latest status line: "Seeding, uploading to 0 of 1 peer(s), 0 kB/s [0.00]"."""
        lines = [l.strip() for l in self.log().replace("\r", "\n").splitlines() if l.strip()]
        for line in reversed(lines):
            if line.startswith(("Seeding", "Progress", "Verifying")):
                return line
        return ""

    def peer_count(self):
        """Peers connected now, from the status line ("... of N peer(s)"); None if unknown."""
        m = re.search(r" of (\d+) peer", self.status_line())
        return int(m.group(1)) if m else None

    def wait_idle(self, timeout=10.0, settle=0.3):
        """Waits until it has no peer connected (its status line is rewritten every 200 ms).

        Transmission keys peers by IP address: a new connection from 127.0.0.1 while it still
        holds an earlier one (closed by us, noticed ~0.6 s later) is dropped without a reply.
        So a test making one connection after another calls this in between. Returns False on
        timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.peer_count() == 0:
                time.sleep(settle)
                return True
            time.sleep(0.05)
        return False

    def _ready(self, output):
        # Its status line, rewritten with \r every 200 ms: "Verifying local files (...)", then
        # "Seeding, uploading to 0 of 0 peer(s), 0 kB/s [0.00]" once the data checked out
        # ("Progress: ..." means it found pieces missing).
        return "Seeding, uploading" in output


class Aria2Seeder(_Seeder):
    """aria2 1.36 (aria2c) seeding one torrent on 127.0.0.1:port, forever (--seed-ratio=0.0, no
    --seed-time). It hash-checks the data (--check-integrity); ready = its console readout says
    "SEED(" and the port listens. It works in 1 s ticks: its handshake reply, and its close of a
    connection for an info-hash it does not serve, come ~1 s after ours.
    require_crypto: --bt-require-crypto=true (MSE only).
    extra_args: more aria2c options.
    """

    kind = "aria2"

    def __init__(self, torrent, save_path, *, port=None, require_crypto=False, extra_args=(),
                 start_timeout=START_TIMEOUT):
        super().__init__(torrent, save_path, port=port, start_timeout=start_timeout)
        self.require_crypto = require_crypto
        self.extra_args = list(extra_args)

    def _prepare(self):
        if not ARIA2C:
            raise SeederError("aria2c is not installed")
        return [*STDBUF, ARIA2C, "--no-conf=true", "--enable-color=false",
                "--console-log-level=notice",
                "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
                "--enable-peer-exchange=false", "--disable-ipv6=true",
                "--interface=127.0.0.1", f"--listen-port={self.port}",
                "--seed-ratio=0.0", "--check-integrity=true", "--bt-hash-check-seed=true",
                "--file-allocation=none", "--auto-save-interval=0",
                f"--bt-require-crypto={'true' if self.require_crypto else 'false'}",
                f"--dir={self.save_path}", *self.extra_args, self.torrent]

    def _ready(self, output):
        # "[#5c3d40 SEED(0.0) CN:0 SD:0]" once the check found every piece.
        return "SEED(" in output


# ---------------------------------------------------------------------------------------------
# Fake peers

class FakePeer:
    """A TCP listener on 127.0.0.1 that plays a broken peer (each connection in a thread):
    reply=None: reads and never answers; reply=bytes: sends them after the first bytes arrive
    (`reply_after` bytes; or at once with reply_first=True), then keeps the connection open, or closes it with
    close_after_reply=True; close_after=N: closes after reading N bytes (0: right after
    accepting). `.received` collects what each connection read; `.connections` counts them."""

    def __init__(self, reply=None, reply_first=False, close_after=None, close_after_reply=False,
                 reply_after=1):
        self.reply = reply
        self.reply_after = reply_after
        self.reply_first = reply_first
        self.close_after = close_after
        self.close_after_reply = close_after_reply
        self.connections = 0
        self.received = []
        self._sock = None
        self._stop = threading.Event()
        self._conns = []

    def __enter__(self):
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._conns.append(conn)
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        got = b""
        conn.settimeout(0.1)
        try:
            if self.close_after == 0:
                conn.close()
                return
            if self.reply is not None and self.reply_first:
                conn.sendall(self.reply)
                if self.close_after_reply:
                    return
            sent = self.reply_first
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(4096)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                got += chunk
                if self.close_after is not None and len(got) >= self.close_after:
                    break
                if self.reply is not None and not sent and len(got) >= self.reply_after:
                    conn.sendall(self.reply)
                    sent = True
                    if self.close_after_reply:
                        break
        except OSError:
            pass
        finally:
            self.received.append(got)
            try:
                conn.close()
            except OSError:
                pass

    def __exit__(self, *exc):
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=2)
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass
        return False


# ---------------------------------------------------------------------------------------------
# A reference handshake in Python

MESSAGE_NAMES = {0: "choke", 1: "unchoke", 2: "interested", 3: "not_interested", 4: "have",
                 5: "bitfield", 6: "request", 7: "piece", 8: "cancel", 9: "port",
                 13: "suggest", 14: "have_all", 15: "have_none", 16: "reject",
                 17: "allowed_fast", 20: "extended"}

# Same reserved bits peerwire probe sends: extension protocol, DHT, fast extension.
DEFAULT_RESERVED = bytes([0, 0, 0, 0, 0, 0x10, 0, 0x05])


def handshake_peer(port, info_hash, *, reserved=DEFAULT_RESERVED, peer_id=b"-PW0000-pythontest00",
                   timeout=5.0, watch=2.0, host="127.0.0.1"):
    """Connects, sends a BitTorrent handshake (and our extension handshake when the peer sets
    the extension bit), reads the reply and watches messages for `watch` seconds (or until the
    extension handshake and a bitfield/have_all/have_none have come). Returns a dict:
    {"received": bytes (first up-to-68 bytes), "closed": bool (EOF or reset), "reset": bool,
     "reserved": bytes,
     "info_hash": hex, "peer_id": bytes, "messages": [(name, payload)], "ext": dict|None}.
    """
    if isinstance(info_hash, str):
        info_hash = bytes.fromhex(info_hash)
    out = {"received": b"", "closed": False, "reset": False, "reserved": None, "info_hash": None,
           "peer_id": None, "messages": [], "ext": None}
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(b"\x13BitTorrent protocol" + reserved + info_hash + peer_id)
        buf = b""
        deadline = time.monotonic() + timeout
        while len(buf) < 68:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(68 - len(buf))
            except socket.timeout:
                break
            except ConnectionResetError:
                out["reset"] = out["closed"] = True
                break
            if not chunk:
                out["closed"] = True
                break
            buf += chunk
        out["received"] = buf
        if len(buf) < 68:
            return out
        out["reserved"] = buf[20:28]
        out["info_hash"] = buf[28:48].hex()
        out["peer_id"] = buf[48:68]
        if out["reserved"][5] & 0x10 and reserved[5] & 0x10:
            ours = bencode({"m": {"ut_metadata": 3, "ut_pex": 1}, "v": "peerwire-test"})
            s.sendall(struct.pack(">IB", len(ours) + 2, 20) + b"\x00" + ours)
        rest = b""
        end = time.monotonic() + watch
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                out["reset"] = out["closed"] = True
                break
            if not chunk:
                out["closed"] = True
                break
            rest += chunk
            while len(rest) >= 4:
                n = struct.unpack(">I", rest[:4])[0]
                if len(rest) < 4 + n:
                    break
                body, rest = rest[4:4 + n], rest[4 + n:]
                if n == 0:
                    out["messages"].append(("keep_alive", b""))
                    continue
                name = MESSAGE_NAMES.get(body[0], f"id{body[0]}")
                out["messages"].append((name, body[1:]))
                if body[0] == 20 and body[1:2] == b"\x00":
                    try:
                        out["ext"], _ = bdecode(body[2:])
                    except (ValueError, IndexError):
                        out["ext"] = {"<malformed>": body[2:]}
            names = {m for m, _ in out["messages"]}
            wants_ext = out["reserved"][5] & 0x10 and reserved[5] & 0x10
            if (names & {"bitfield", "have_all", "have_none"}) and (out["ext"] or not wants_ext):
                break
    return out
