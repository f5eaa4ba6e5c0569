"""A real HTTP tracker (opentracker) on 127.0.0.1, torrents that announce to it, real clients
downloading through it, and `peerwire download`/`seed` in the background -- for the interop
tests tests/interop/download_from_clients_test.py and seed_to_clients_test.py.

    with OpenTracker() as tr:                       # picks a free port; stopped by PID on exit
        sample = make_multi_sample(tmp)             # multi-file data + a .torrent (no tracker)
        tracked = tracked_copy(sample, tr.url, P)   # the same torrent announcing to tr
        tr.allow(sample.info_hash)                  # whitelist it (SIGHUP reload, verified)
        tr.wait_swarm(sample.info_hash, seeders=1)  # until the tracker lists one seeder
    with LibtorrentLeecher(torrent, peers=[port]) as lt: lt.wait_done(60); lt.download_dir
    with TransmissionLeecher(torrent) as t: ...     # t.port, t.wait_done(90)
    with Aria2TrackerLeecher(torrent) as a: ...     # --seed-time=0: it exits 0 when complete
    with PeerwireRun(["download", T, "-d", D, ...]) as pw: pw.wait(60); pw.summary()
    tree_differences(expected_dir, actual_dir)      # [] when byte-identical (empty files too)

opentracker (Debian's build) runs in whitelist mode only: `-w FILE` names the info-hashes (hex,
one a line) it serves; any other announce gets "Requested download is not authorized for use
with this tracker.". `-d DIR` is chrooted to (when it can) and the whitelist path is relative
to it; it then drops to user nobody (`-u`), so DIR and the file are made world-readable.
Measured here (as root): it chroots and runs as nobody; answers within ~10 ms of starting;
lists every peer of a torrent in each reply, the announcing peer itself included; hands out an
`interval` of ~1600-2000 s (randomised; `min interval` half of that); keeps a peer that went
away without an event=stopped announce until then (so: one tracker per test case, or later
cases get stale peers); reloads the whitelist on SIGHUP within ~50 ms; lets event=stopped
announces through unchecked. Started as user nobody (setpriv) it serves as well. Because it
changes its user id, the kernel clears the PR_SET_PDEATHSIG our other fixtures rely on, so it is
started under coreutils `timeout` (root; keeps the death signal and forwards SIGTERM to it),
which also caps its lifetime. MiniTracker (trace_support.py) is not needed: opentracker works.

Standard library only at import time (libtorrent runs in /usr/bin/python3 subprocesses).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
import pwtest  # noqa: E402

OPENTRACKER = shutil.which("opentracker") or ("/usr/bin/opentracker"
                                               if os.path.exists("/usr/bin/opentracker") else None)
TIMEOUT_BIN = shutil.which("timeout")
TRACKER_LIFETIME = 600  # seconds: hard cap on one opentracker process (a test script is < 300 s)

# ---------------------------------------------------------------------------------------------
# Sample data: many pieces, files that cross piece boundaries, empty files, an odd last piece

PIECE = 32 * 1024
MULTI_FILES = {
    "a.bin": 37 * PIECE + 1234,            # starts the torrent, ends mid-piece
    "docs/b.bin": 2 * PIECE,               # two pieces long but not piece-aligned
    "docs/deeper/c.dat": 777,              # small: inside one piece, between two others
    "docs/deeper/empty-in-dir": 0,         # an empty file inside a directory
    "empty.txt": 0,                        # an empty file at the top
    "media/d.bin": 51 * PIECE - 4321,      # crosses many boundaries
    "media/e.bin": 900_001,                # odd size
    "z.txt": 54_321,                       # the last file: the last piece is short
}


def make_multi_sample(root, *, files=None, piece_length=PIECE, name="multi", seed=7):
    """peers.make_sample with MULTI_FILES: deterministic data under root/data and a v1 torrent
    (made by libtorrent, no tracker) at root/NAME.torrent. Adds `.file_sizes` {path: size}."""
    files = MULTI_FILES if files is None else files
    sample = peers.make_sample(root, name=name, files=files, piece_length=piece_length, seed=seed)
    meta, _ = peers.bdecode(peers.info_bytes(sample.torrent_bytes))
    sample.file_sizes = {b"/".join(f[b"path"]).decode(): f[b"length"]
                         for f in meta.get(b"files", [])}
    return sample


class SampleCase(unittest.TestCase):
    """A test class sharing one multi-file sample (made once, in a temporary directory removed
    at the end), each case with its own fresh `self.case_dir` inside it. `sample_kw` passes
    options to make_multi_sample (files=, name=, ...)."""

    sample_kw = {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=f"peerwire-{cls.__name__}-")
        try:
            cls.sample = make_multi_sample(cls.tmp, **cls.sample_kw)
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.case_dir = tempfile.mkdtemp(prefix="case-", dir=self.tmp)
        self.addCleanup(shutil.rmtree, self.case_dir, ignore_errors=True)


def tracked_copy(sample, announce_url, out_path):
    """A copy of sample's torrent with `announce` = announce_url (the info dict, hence the
    info-hash, is unchanged); returns a peers.Sample for it (same data)."""
    first_key, _ = peers.bdecode(sample.torrent_bytes, 1)
    if first_key <= b"announce":
        raise ValueError(f"torrent starts with key {first_key!r}: cannot splice 'announce'")
    with open(out_path, "wb") as f:
        f.write(b"d8:announce" + peers.bencode(announce_url) + sample.torrent_bytes[1:])
    out = peers.Sample(out_path, sample.save_path, sample.content)
    if out.info_hash != sample.info_hash:
        raise AssertionError("splicing 'announce' changed the info-hash")
    out.file_sizes = getattr(sample, "file_sizes", {})
    return out


def tree_differences(expected_root, actual_root, *, ignore_missing_empty=False):
    """Compares two directory trees file by file (paths, sizes, bytes; empty files must exist
    unless ignore_missing_empty: Transmission 3.00 never creates zero-length files, whoever
    the seeder). Returns a list of differences (empty when identical)."""
    def listing(root):
        out = {}
        for dirpath, _, names in os.walk(root):
            for n in names:
                full = os.path.join(dirpath, n)
                out[os.path.relpath(full, root)] = full
        return out
    exp, act = listing(expected_root), listing(actual_root)
    diffs = [f"missing: {p}" for p in sorted(set(exp) - set(act))
             if not (ignore_missing_empty and os.path.getsize(exp[p]) == 0)]
    diffs += [f"unexpected: {p}" for p in sorted(set(act) - set(exp))]
    for p in sorted(set(exp) & set(act)):
        a, b = os.path.getsize(exp[p]), os.path.getsize(act[p])
        if a != b:
            diffs.append(f"size of {p}: {b}, expected {a}")
            continue
        with open(exp[p], "rb") as f1, open(act[p], "rb") as f2:
            offset = 0
            while True:
                x, y = f1.read(1 << 20), f2.read(1 << 20)
                if x != y:
                    first = next(i for i in range(min(len(x), len(y))) if x[i] != y[i]) \
                        if len(x) == len(y) else 0
                    diffs.append(f"content of {p} differs from byte {offset + first} "
                                 f"(piece {(offset + first) // PIECE} if pieces are {PIECE})")
                    break
                if not x:
                    break
                offset += len(x)
    return diffs


# ---------------------------------------------------------------------------------------------
# opentracker

class TrackerError(RuntimeError):
    pass


def _q(b):
    return urllib.parse.quote_from_bytes(b, safe="")


class OpenTracker:
    """opentracker on 127.0.0.1:port (TCP; UDP on the same port), a context manager.

    info_hashes: hex info-hashes whitelisted from the start; allow() adds more (SIGHUP reload).
    """

    def __init__(self, info_hashes=(), port=None, start_timeout=10):
        self.info_hashes = [h.lower() for h in info_hashes]
        self.port = port
        self.start_timeout = start_timeout
        self.proc = None
        self.tmp = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/announce"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def _write_whitelist(self):
        path = os.path.join(self.tmp, "whitelist.txt")
        with open(path + ".new", "w") as f:
            f.write("".join(h + "\n" for h in self.info_hashes))
        os.chmod(path + ".new", 0o644)
        os.replace(path + ".new", path)

    def start(self):
        if not OPENTRACKER:
            raise TrackerError("opentracker is not installed")
        self.tmp = tempfile.mkdtemp(prefix="peerwire-opentracker-")
        os.chmod(self.tmp, 0o755)  # it chroots here and reads the whitelist as user nobody
        self._write_whitelist()
        if self.port is None:
            self.port = peers.free_port()
        argv = [OPENTRACKER, "-i", "127.0.0.1", "-p", str(self.port), "-P", str(self.port),
                "-d", self.tmp, "-w", "whitelist.txt"]
        if TIMEOUT_BIN:
            argv = [TIMEOUT_BIN, "-k", "5", str(TRACKER_LIFETIME), *argv]
        self.log_path = os.path.join(self.tmp, "output.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.tmp,
                                         preexec_fn=peers._die_with_parent)
        deadline = time.monotonic() + self.start_timeout
        try:
            while True:
                if self.proc.poll() is not None:
                    raise TrackerError(f"opentracker exited with {self.proc.returncode}: "
                                       f"{argv}\n{self.log()}")
                if peers.port_listening(self.port):
                    try:
                        self._get("/scrape")
                        break
                    except OSError:
                        pass
                if time.monotonic() > deadline:
                    raise TrackerError(f"opentracker not answering on port {self.port} within "
                                       f"{self.start_timeout}s\n{self.log()}")
                time.sleep(0.05)
            for h in self.info_hashes:
                self._wait_authorized(h)
        except BaseException:
            self.stop()
            raise
        return self

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except (OSError, AttributeError):
            return ""

    def _get(self, path_and_query, timeout=5):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path_and_query}",
                                    timeout=timeout) as r:
            return r.read()

    def authorized(self, info_hash):
        """True when the tracker serves info_hash. Asked with an announce from a made-up peer
        (127.0.0.1:9, numwant=0), removed again at once by an event=stopped announce (those
        pass the whitelist unchecked, so they cannot be the question)."""
        query = (f"/announce?info_hash={_q(bytes.fromhex(info_hash))}"
                 f"&peer_id={_q(b'-XX0000-probe0000000')}&port=9&uploaded=0"
                 f"&downloaded=0&left=1&compact=1&numwant=0")
        value, _ = peers.bdecode(self._get(query))
        if b"failure reason" in value:
            return False
        self._get(query + "&event=stopped")
        return True

    def _wait_authorized(self, info_hash, timeout=5):
        deadline = time.monotonic() + timeout
        while not self.authorized(info_hash):
            if time.monotonic() > deadline:
                raise TrackerError(f"opentracker does not serve {info_hash} after "
                                   f"{timeout}s (whitelist not read?)\n{self.log()}")
            time.sleep(0.05)

    def allow(self, info_hash):
        """Adds an info-hash to the whitelist and waits until the tracker serves it."""
        info_hash = info_hash.lower()
        if info_hash not in self.info_hashes:
            self.info_hashes.append(info_hash)
        if self.proc is None:
            return
        self._write_whitelist()
        # SIGHUP to opentracker itself (the child of `timeout`, which would not forward it).
        for pid in self._tracker_pids():
            os.kill(pid, signal.SIGHUP)
        self._wait_authorized(info_hash)

    def _tracker_pids(self):
        """opentracker's PID: the child of `timeout` (from /proc), or our child itself."""
        if not TIMEOUT_BIN:
            return [self.proc.pid]
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            pass
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                pids.append(int(entry))
        return pids

    def scrape(self, info_hash):
        """{"complete": seeders, "incomplete": leechers, "downloaded": n} (zeros when unknown)."""
        body = self._get(f"/scrape?info_hash={_q(bytes.fromhex(info_hash))}")
        value, _ = peers.bdecode(body)
        entry = value.get(b"files", {}).get(bytes.fromhex(info_hash), {})
        return {k: entry.get(k.encode(), 0) for k in ("complete", "incomplete", "downloaded")}

    def wait_swarm(self, info_hash, *, seeders=0, leechers=0, timeout=30):
        """Waits until the tracker lists at least that many seeders and leechers; returns the
        scrape, or raises TrackerError with the last scrape."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.scrape(info_hash)
            if s["complete"] >= seeders and s["incomplete"] >= leechers:
                return s
            if time.monotonic() > deadline:
                raise TrackerError(f"tracker swarm for {info_hash} after {timeout}s: {s}; "
                                   f"wanted >= {seeders} seeders, >= {leechers} leechers")
            time.sleep(0.1)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)  # `timeout` forwards it
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


# ---------------------------------------------------------------------------------------------
# Leechers: real clients downloading into an empty temporary directory

class _Leecher:
    """A client process with its output in tmp/output.log, downloading into tmp/download;
    stopped by PID (SIGTERM, SIGKILL after 5 s) on exit, tmp removed."""

    kind = "leecher"

    def __init__(self, torrent, *, port=None):
        # A magnet link is passed on as it is (libtorrent fetches the metadata from peers).
        self.torrent = torrent if str(torrent).startswith("magnet:") else os.path.abspath(torrent)
        self.port = port
        self.proc = None
        self.tmp = None
        self.started = None
        self.done_at = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def _argv(self):
        raise NotImplementedError

    def _is_done(self, output):
        raise NotImplementedError

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix=f"peerwire-{self.kind}-leecher-")
        self.download_dir = os.path.join(self.tmp, "download")
        os.makedirs(self.download_dir)
        if self.port is None:
            self.port = peers.free_port()
        argv = self._argv()
        self.log_path = os.path.join(self.tmp, "output.log")
        self.started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.tmp,
                                         preexec_fn=peers._die_with_parent)
        return self

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, n=4000):
        text = self.log().replace("\r", "\n")
        lines, seen = [], set()
        for line in text.splitlines():  # transmission-cli repeats its status line 5x/s
            if line.strip() and line not in seen:
                seen.add(line)
                lines.append(line)
        return "\n".join(lines)[-n:]

    def wait_done(self, timeout):
        """Polls until the client reports the download complete. Returns the seconds since it
        started, or None on timeout / if it exited without completing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._is_done(self.log()):
                self.done_at = time.monotonic()
                return self.done_at - self.started
            if self.proc.poll() is not None:
                if self._is_done(self.log()):
                    continue
                return None
            time.sleep(0.05)
        return None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass

    def cleanup(self):
        self.stop()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()
        return False


_LT_LEECHER = r'''
import json, os, sys, time
import libtorrent as lt
cfg = json.loads(sys.argv[1])
ppid = os.getppid()
ses = lt.session({
    "listen_interfaces": "127.0.0.1:%d" % cfg["port"],
    "outgoing_interfaces": "127.0.0.1",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "allow_multiple_connections_per_ip": True,
    "enable_incoming_utp": False, "enable_outgoing_utp": False,
    "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
                  | lt.alert.category_t.tracker_notification,
})
if cfg["torrent"].startswith("magnet:"):
    atp = lt.parse_magnet_uri(cfg["torrent"])
else:
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(cfg["torrent"])
atp.save_path = cfg["save_path"]
atp.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
h = ses.add_torrent(atp)
t0 = time.monotonic()
for p in cfg["peers"]:
    h.connect_peer(("127.0.0.1", p))
print("STARTED", ses.listen_port(), flush=True)
done = False
last = 0
while True:
    ses.wait_for_alert(100)
    for a in ses.pop_alerts():
        print("ALERT", type(a).__name__, a.message(), flush=True)
    st = h.status()
    now = time.monotonic()
    if now - last >= 1:
        last = now
        print("STATUS %.1f state=%s progress=%.4f peers=%d seeds=%d rate=%d total_done=%d" % (
            now - t0, st.state, st.progress, st.num_peers, st.num_seeds, st.download_rate,
            st.total_done), flush=True)
    if not done and st.is_seeding:
        done = True
        print("DONE %.3f" % (now - t0), flush=True)
    if os.getppid() != ppid:
        sys.exit(0)
'''


class LibtorrentLeecher(_Leecher):
    """libtorrent 2.0 downloading `torrent` (announcing to its trackers, if any) and dialling
    `peers` (ports on 127.0.0.1) with connect_peer. Done = torrent is seeding (every piece
    hash-checked)."""

    kind = "libtorrent"

    def __init__(self, torrent, *, port=None, peers=()):
        super().__init__(torrent, port=port)
        self.peers = list(peers)

    def _argv(self):
        script = os.path.join(self.tmp, "lt_leecher.py")
        with open(script, "w") as f:
            f.write(_LT_LEECHER)
        cfg = {"port": self.port, "torrent": self.torrent, "save_path": self.download_dir,
               "peers": self.peers}
        return [peers.LT_PYTHON, "-u", script, json.dumps(cfg)]

    def _is_done(self, output):
        return "\nDONE " in "\n" + output


class TransmissionLeecher(_Leecher):
    """transmission-cli 3.00 downloading `torrent` through its tracker on 127.0.0.1:port (DHT,
    LPD, PEX, uTP off). It never dials loopback peers: the seeder must dial it. Done = its
    status line says "Seeding"."""

    kind = "transmission"

    def _argv(self):
        if not peers.TRANSMISSION_CLI:
            raise peers.SeederError("transmission-cli is not installed")
        config = os.path.join(self.tmp, "config")
        os.makedirs(config)
        settings = {
            "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
            "utp-enabled": False, "port-forwarding-enabled": False,
            "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
            "peer-port": self.port, "peer-port-random-on-start": False,
            "ratio-limit-enabled": False, "idle-seeding-limit-enabled": False,
            "speed-limit-up-enabled": False, "speed-limit-down-enabled": False,
            "blocklist-enabled": False, "rpc-enabled": False, "message-level": 2,
        }
        with open(os.path.join(config, "settings.json"), "w") as f:
            json.dump(settings, f, indent=1)
        return [*peers.STDBUF, peers.TRANSMISSION_CLI, "-g", config, "-p", str(self.port),
                "-w", self.download_dir, self.torrent]

    def _is_done(self, output):
        return "Seeding, uploading" in output

    def status_line(self):
        lines = [l.strip() for l in self.log().replace("\r", "\n").splitlines() if l.strip()]
        for line in reversed(lines):
            if line.startswith(("Seeding", "Progress", "Verifying")):
                return line
        return ""


class Aria2TrackerLeecher(_Leecher):
    """aria2c 1.36 downloading `torrent` through its tracker on 127.0.0.1 (DHT, LPD, PEX off;
    --seed-time=0, so it exits 0 once the download is complete and checked)."""

    kind = "aria2"

    def _argv(self):
        if not peers.ARIA2C:
            raise peers.SeederError("aria2c is not installed")
        return [*peers.STDBUF, peers.ARIA2C, "--no-conf=true", "--enable-color=false",
                "--console-log-level=notice", "--summary-interval=1",
                "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
                "--enable-peer-exchange=false", "--disable-ipv6=true",
                "--interface=127.0.0.1", f"--listen-port={self.port}",
                "--seed-time=0", "--file-allocation=none", "--auto-save-interval=0",
                "--bt-require-crypto=false", f"--dir={self.download_dir}", self.torrent]

    def _is_done(self, output):
        # It exits 0 after "Download complete" (and prints "(OK):download completed.").
        return self.proc is not None and self.proc.poll() == 0


# ---------------------------------------------------------------------------------------------
# peerwire download / seed in the background

class PeerwireRun:
    """`peerwire ARGS` (download or seed) in a subprocess, stdout and stderr to files in a
    temporary directory; a context manager that stops it by PID (SIGINT, then SIGKILL).

    .events(): the JSON lines of stdout (other lines -- --trace output -- are in .trace_lines())
    """

    def __init__(self, args, *, peerwire=None):
        self.args = [str(a) for a in args]
        self.peerwire = peerwire or pwtest.PEERWIRE
        self.proc = None
        self.tmp = None
        self.started = None
        self.ended = None

    @property
    def argv(self):
        return [self.peerwire, *self.args]

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="peerwire-run-")
        self.out_path = os.path.join(self.tmp, "stdout")
        self.err_path = os.path.join(self.tmp, "stderr")
        self.started = time.monotonic()
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, preexec_fn=peers._die_with_parent)
        return self

    def _read(self, path):
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except (OSError, TypeError):
            return ""

    def stdout(self):
        return self._read(self.out_path)

    def stderr(self):
        return self._read(self.err_path)

    def events(self):
        out = []
        for line in self.stdout().splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass  # a line being written right now
        return out

    def trace_lines(self):
        return [l for l in self.stdout().splitlines() if l and not l.startswith("{")]

    def last_status(self):
        st = [e for e in self.events() if e.get("event") == "status"]
        return st[-1]["torrent"] if st else None

    def summary(self):
        s = [e for e in self.events() if e.get("event") == "summary"]
        return s[-1]["torrent"] if s else None

    def wait_status(self, predicate, timeout):
        """Waits for a status line whose torrent object satisfies predicate; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events():
                if e.get("event") == "status" and predicate(e["torrent"]):
                    return e["torrent"]
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        return None

    def wait(self, timeout):
        """The exit code, or None if still running after `timeout` s (then it is stopped)."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if self.ended is None:
            self.ended = time.monotonic()
        return code

    def interrupt(self, timeout=15):
        """SIGINT (the normal end of seeding); returns the exit code, or None if it had to be
        killed."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
        code = self.wait(timeout)
        if code is None:
            self.stop()
        return code

    @property
    def elapsed(self):
        return (self.ended or time.monotonic()) - self.started

    def stop_and_describe(self, limit=16000):
        """describe() after stopping it (SIGINT): its output, --trace lines included, is only
        complete once it has exited (stdout to a file is block-buffered)."""
        self.stop()
        return self.describe(limit)

    def describe(self, limit=16000):
        """The command, exit status, stderr, and stdout with the status lines thinned out (the
        first and the last two) so that --trace lines and the summary stay readable."""
        status = "running" if self.proc and self.proc.poll() is None else \
            f"exit {self.proc.returncode if self.proc else None}"
        lines = self.stdout().splitlines()
        status_idx = [i for i, l in enumerate(lines) if l.startswith('{"event":"status"')]
        keep = set(status_idx[:1] + status_idx[-2:])
        shown = [l for i, l in enumerate(lines) if i in keep or i not in set(status_idx)]
        if len(status_idx) > len(keep):
            shown.insert(1, f"... ({len(status_idx) - len(keep)} more status lines)")
        text = "\n".join(shown)
        if len(text) > limit:
            text = text[:limit // 2] + "\n...\n" + text[-limit // 2:]
        return (f"$ {' '.join(self.argv)}  ({status}, {self.elapsed:.1f}s)\nstdout:\n{text}\n"
                f"stderr:\n{self.stderr()[-4000:]}")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGINT)
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass
        if self.ended is None:
            self.ended = time.monotonic()

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
