"""Helpers for bench/transfer_bench.py: processes measured through wait4(), libtorrent driver
scripts, data and torrent generation, and small statistics.

Only the standard library: libtorrent runs in Debian's /usr/bin/python3 (the only python with
the module) as a child process, so its CPU time and peak RSS are that child's rusage.

Processes are stopped by PID only (SIGINT/SIGTERM, then SIGKILL), and get PR_SET_PDEATHSIG so
nothing keeps running if the benchmark dies.
"""
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time

LT_PYTHON = "/usr/bin/python3"
MIB = 1 << 20
GIB = 1 << 30
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# Processes

def _die_with_parent():
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort
        pass


class Proc:
    """A child process whose rusage (ru_utime, ru_stime) is collected by a thread blocked in
    os.wait4(pid) -- so the exit time is exact and nothing else reaps it.

    Peak RSS is NOT taken from ru_maxrss: Linux carries the forking parent's high-water mark
    into the child (fork copies the mm's hiwater_rss and exec keeps the larger of the old and
    new), so every child of this benchmark would report at least the benchmark's own peak (a
    1 GiB file written from Python showed up as 1 GiB "peak RSS" of a 25 MiB downloader).
    Instead a thread reads VmHWM from /proc/PID/status every 20 ms while the child runs: the
    child's own peak, missing at most growth in its last 20 ms.

    stdout and stderr go to files in `logdir`. `t_spawn` / `t_exit` are time.monotonic()
    (CLOCK_MONOTONIC, comparable with the stamps the libtorrent scripts print)."""

    def __init__(self, argv, name, logdir, cwd=None):
        self.argv = [str(a) for a in argv]
        self.name = name
        self.logdir = logdir
        self.cwd = cwd
        self.popen = None
        self.status = None
        self.rusage = None
        self.t_spawn = None
        self.t_exit = None
        self._done = threading.Event()
        self.hwm_kib = None

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def start(self):
        os.makedirs(self.logdir, exist_ok=True)
        self.out_path = os.path.join(self.logdir, f"{self.name}.out")
        self.err_path = os.path.join(self.logdir, f"{self.name}.err")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.t_spawn = time.monotonic()
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=err, cwd=self.cwd,
                                          preexec_fn=_die_with_parent)
        threading.Thread(target=self._reap, daemon=True).start()
        threading.Thread(target=self._watch_hwm, daemon=True).start()
        return self

    def _watch_hwm(self):
        while not self._done.wait(0.02):
            kib = self.mem_kib("VmHWM")
            if kib is not None:
                self.hwm_kib = max(self.hwm_kib or 0, kib)

    def _reap(self):
        while True:
            try:
                _, status, ru = os.wait4(self.popen.pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                status, ru = 0, None
                break
        self.t_exit = time.monotonic()
        self.status = os.waitstatus_to_exitcode(status)
        self.rusage = ru
        self.popen.returncode = self.status  # so Popen never waits for it itself
        self._done.set()

    def running(self):
        return self.popen is not None and not self._done.is_set()

    def wait(self, timeout):
        """The exit code, or None if still running after `timeout` seconds."""
        if self._done.wait(timeout):
            return self.status
        return None

    def send(self, sig):
        if self.running():
            try:
                os.kill(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, sig=signal.SIGTERM, grace=15):
        """Signal by PID, SIGKILL after `grace` s; returns the exit code."""
        if self.popen is None:
            return None
        if self.running():
            self.send(sig)
            if self.wait(grace) is None:
                self.send(signal.SIGKILL)
                self.wait(10)
        return self.status

    # Live figures from /proc (for long-running seeders)
    def cpu_now(self):
        """user+sys CPU seconds so far (from /proc/PID/stat), None if gone."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / CLK_TCK
        except (OSError, IndexError, ValueError):
            return None

    def mem_kib(self, key="VmHWM"):
        """VmHWM (peak RSS) or VmRSS in KiB from /proc/PID/status, None if gone."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return None

    # rusage after exit
    @property
    def cpu_seconds(self):
        return self.rusage.ru_utime + self.rusage.ru_stime if self.rusage else None

    @property
    def maxrss_mib(self):
        """The child's own peak RSS (VmHWM, see the class comment)."""
        return self.hwm_kib / 1024 if self.hwm_kib is not None else None

    def stdout(self):
        return _read(self.out_path)

    def stderr(self):
        return _read(self.err_path)

    def describe(self, n=3000):
        return (f"$ {' '.join(self.argv)}  (pid {self.pid}, status {self.status})\n"
                f"stdout: ...{self.stdout()[-n:]}\nstderr: ...{self.stderr()[-n:]}")


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")
    except (OSError, AttributeError, TypeError):
        return ""


def wait_until(pred, timeout, interval=0.02, alive=None):
    """Polls pred() until true (returns True), `timeout` s pass, or alive() turns false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        if alive is not None and not alive():
            return bool(pred())
        time.sleep(interval)
    return False


# ---------------------------------------------------------------------------------------------
# Ports

def free_port():
    """A TCP port on 127.0.0.1 below the ephemeral range that nothing is bound to."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo = int(f.read().split()[0])
    except (OSError, ValueError):
        lo = 32768
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, max(20001, lo))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_listening(port):
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                for line in f.read().splitlines()[1:]:
                    fields = line.split()
                    if len(fields) > 3 and fields[3] == "0A" and \
                            int(fields[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            continue
    return False


# ---------------------------------------------------------------------------------------------
# Bencode + torrents

def bencode(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, (bytes, bytearray)):
        return b"%d:%s" % (len(value), bytes(value))
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value).__name__)


def write_torrent(path, info):
    data = bencode({"info": info, "created by": "peerwire bench"})
    with open(path, "wb") as f:
        f.write(data)
    return hashlib.sha1(bencode(info)).hexdigest()


def small_torrent(path, data_path, name, piece_length=16384):
    """v1 single-file torrent for a small file, hashed in Python."""
    with open(data_path, "rb") as f:
        blob = f.read()
    pieces = b"".join(hashlib.sha1(blob[i:i + piece_length]).digest()
                      for i in range(0, len(blob), piece_length))
    return write_torrent(path, {"name": name, "piece length": piece_length, "pieces": pieces,
                                "length": len(blob)})


def zero_torrent(path, name, size, piece_length):
    """Torrent for a file of `size` zero bytes: every full piece has the same hash."""
    full, rest = divmod(size, piece_length)
    h = hashlib.sha1(bytes(piece_length)).digest()
    pieces = h * full + (hashlib.sha1(bytes(rest)).digest() if rest else b"")
    return write_torrent(path, {"name": name, "piece length": piece_length, "pieces": pieces,
                                "length": size})


def _default_signals():
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _marked_piece_hash(job):
    index, length = job
    h = hashlib.sha1(index.to_bytes(8, "big"))
    left = length - 8
    zeros = bytes(min(left, 4 * MIB))
    while left > 0:
        n = min(left, len(zeros))
        h.update(zeros[:n] if n < len(zeros) else zeros)
        left -= n
    return h.digest()


def marked_sparse_file(path, size, piece_length):
    """A sparse file of zeros with the piece number (8 bytes, big-endian, from 1) written at
    the start of every piece, so that every piece has its own hash (one page allocated per
    piece). Returns the concatenated piece hashes (hashed on every core)."""
    import multiprocessing
    if piece_length < 8:
        raise ValueError("piece too small")
    jobs = []
    with open(path, "wb") as f:
        f.truncate(size)
        for i, off in enumerate(range(0, size, piece_length)):
            length = min(piece_length, size - off)
            if length < 8:  # a tiny last piece stays all zeros
                jobs.append(None)
                continue
            f.seek(off)
            f.write((i + 1).to_bytes(8, "big"))
            jobs.append((i + 1, length))
    # Workers: default signal handling (not the benchmark's SIGTERM handler), so the pool can
    # end them quietly.
    with multiprocessing.Pool(os.cpu_count() or 1, initializer=_default_signals) as pool:
        hashes = pool.map(_marked_piece_hash, [j for j in jobs if j], chunksize=16)
    if jobs and jobs[-1] is None:
        hashes.append(hashlib.sha1(bytes(size % piece_length)).digest())
    return b"".join(hashes)


def write_random(path, size, rng):
    """`size` pseudo-random bytes (random.randbytes: fast, deterministic for a seed)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 8 * MIB)
            f.write(rng.randbytes(n))
            left -= n


def split_sizes(total, count, rng):
    """`count` file sizes summing to `total`, each 0.5x..1.5x the mean (so files cross piece
    boundaries at varied offsets)."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(count)]
    s = sum(weights)
    sizes = [int(total * w / s) for w in weights]
    sizes[-1] += total - sum(sizes)
    return sizes


def tree_size(root):
    total = 0
    for dirpath, dirnames, names in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".peerwire"]
        for n in names:
            total += os.path.getsize(os.path.join(dirpath, n))
    return total


def drop_tree(path):
    shutil.rmtree(path, ignore_errors=True)


def read_cache(paths):
    """Reads files once so the seeders serve from the page cache."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(8 * MIB):
                pass


# ---------------------------------------------------------------------------------------------
# Statistics

def median(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


# ---------------------------------------------------------------------------------------------
# libtorrent scripts (run by /usr/bin/python3)
#
# Settings: the fixtures' (tests/support/peers.py) -- listen on 127.0.0.1 only, DHT, LSD,
# UPnP, NAT-PMP and uTP off, allow_multiple_connections_per_ip -- plus, with tuning "hp",
# libtorrent's own lt.high_performance_seed() pack (what libtorrent's benchmarks use: deeper
# request and disk queues, bigger send buffers, unlimited unchoke slots, ...), and with
# encryption "off" (the default) MSE disabled.

LT_COMMON = r'''
import json, os, resource, sys, time
import libtorrent as lt
cfg = json.loads(sys.argv[1])
ppid = os.getppid()
settings = lt.high_performance_seed() if cfg["tuning"] == "hp" else {}
settings.update({
    "listen_interfaces": "127.0.0.1:%d" % cfg["port"],
    "outgoing_interfaces": "127.0.0.1",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "allow_multiple_connections_per_ip": True,
    "enable_incoming_utp": False, "enable_outgoing_utp": False,
    "enable_incoming_tcp": True, "enable_outgoing_tcp": True,
    # libtorrent dials a peer given to connect_peer() only on its next tick (500 ms by
    # default): a fixed half second before the first byte of every transfer to a libtorrent
    # downloader, whatever the seeder, which is a quarter of a 1 GiB transfer here.
    "tick_interval": 100,
    "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
})
if cfg.get("encryption", "off") == "off":
    # Plain BitTorrent, both ways. By default libtorrent dials with MSE first and falls back to
    # plaintext only after that connection fails: about 1 s lost per connection to a peer
    # without MSE (peerwire, so far). --lt-encryption default keeps libtorrent's policy.
    settings.update({"out_enc_policy": lt.enc_policy.disabled,
                     "in_enc_policy": lt.enc_policy.disabled})
def ru():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
ses = lt.session(settings)
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(cfg["torrent"])
atp.save_path = cfg["save_path"]
atp.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
'''

LT_SEEDER = LT_COMMON + r'''
h = ses.add_torrent(atp)
deadline = time.monotonic() + cfg["timeout"]
ready = False
cmd_pos = 0
last = 0
while True:
    ses.wait_for_alert(50)
    for a in ses.pop_alerts():
        if isinstance(a, lt.listen_failed_alert):
            print("FAILED", a.message(), flush=True)
            sys.exit(2)
    st = h.status()
    now = time.monotonic()
    if not ready:
        if st.errc.value() != 0:
            print("FAILED", st.errc.message(), flush=True)
            sys.exit(3)
        if st.state == lt.torrent_status.states.seeding and ses.listen_port():
            print("READY", ses.listen_port(), flush=True)
            ready = True
        elif now > deadline:
            print("FAILED not seeding: state", st.state, "progress", st.progress, flush=True)
            sys.exit(4)
    else:
        try:
            with open(cfg["cmd_file"]) as f:
                f.seek(cmd_pos)
                text = f.read()
        except OSError:
            text = ""
        while "\n" in text:
            line, text = text.split("\n", 1)
            cmd_pos += len(line) + 1
            if line.startswith("connect "):
                h.connect_peer(("127.0.0.1", int(line.split()[1])))
    if now - last >= 0.25:
        last = now
        print("UP %.3f %d %d" % (now, st.total_payload_upload, st.num_peers), flush=True)
    if os.getppid() != ppid:
        sys.exit(0)
'''

LT_LEECHER = LT_COMMON + r'''
h = ses.add_torrent(atp)
for p in cfg["peers"]:
    h.connect_peer(("127.0.0.1", p))
print("ADDED %.6f %.6f %d" % (time.monotonic(), ru(), ses.listen_port()), flush=True)
deadline = time.monotonic() + cfg["timeout"]
while True:
    ses.wait_for_alert(20)
    ses.pop_alerts()
    st = h.status()
    if st.is_seeding:
        print("DONE %.6f %d" % (time.monotonic(), st.total_done), flush=True)
        break
    if st.errc.value() != 0:
        print("FAILED", st.errc.message(), flush=True)
        sys.exit(3)
    if time.monotonic() > deadline or os.getppid() != ppid:
        print("FAILED timeout: progress %.4f" % st.progress, flush=True)
        sys.exit(4)
# Flush to the page cache like the other clients (lt 2.0 writes through mmap), then exit.
ses.pause()
del h
del ses
'''


def lt_script_argv(workdir, kind, cfg):
    script = os.path.join(workdir, f"lt_{kind}.py")
    if not os.path.exists(script):
        with open(script, "w") as f:
            f.write(LT_SEEDER if kind == "seeder" else LT_LEECHER)
    return [LT_PYTHON, "-u", script, json.dumps(cfg)]


def have_libtorrent():
    try:
        return subprocess.run([LT_PYTHON, "-c", "import libtorrent"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
