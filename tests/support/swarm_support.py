"""Helpers for the tests that run several `peerwire download` / `peerwire seed` processes
against each other on 127.0.0.1 (tests/interop/swarm_test.py, tests/interop/resume_kill_test.py,
tests/cli/download_cli_test.py). Standard library only.

    data = make_data(tmp, "swarm.bin", 16 << 20, piece_length=32768)   # a peers.Sample
    port_a, port_b = free_ports(2)
    with PeerwireProc("seed", data.torrent, data.save_path, port=port_a,
                      extra=["--upload-limit", "2M"]) as seeder:
        seeder.wait_state("seeding")
        leecher = PeerwireProc("download", data.torrent, dir, port=port_b,
                               peers=[port_a], extra=["--no-seed"]).start()
        leecher.wait(timeout=60)             # exit code (fails the test on timeout)
        leecher.summary()                    # the --json "summary" event's torrent object

PeerwireProc runs peerwire with `--json --bind 127.0.0.1 --port P --status-interval S` (unless
told otherwise), stdout (JSON lines, plus --trace lines) and stderr into files in its own
temporary directory, PR_SET_PDEATHSIG so nothing outlives the test, and stops by PID only
(terminate(): SIGTERM then SIGKILL; kill(): SIGKILL). Every wait has a deadline and its
failure message carries the process's output.
"""
import filecmp
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
import pwtest  # noqa: E402

STATE_CHECKING, STATE_DOWNLOADING, STATE_SEEDING, STATE_FINISHED, STATE_ERROR = (
    "checking", "downloading", "seeding", "finished", "error")

# Keys of the "torrent" object in --json status and summary lines (cmd_download.cpp).
STATUS_KEYS = {"name", "info_hash", "state", "error", "total_size", "verified_bytes",
               "pieces_have", "piece_count", "downloaded", "uploaded", "download_rate",
               "upload_rate", "peers", "seeds", "hash_failures", "banned_peers",
               "tracker_message", "metadata_size", "metadata_progress"}
SUMMARY_EXTRA_KEYS = {"seconds", "average_download_rate", "ratio"}


def free_ports(n):
    """n distinct ports on 127.0.0.1 that nothing listens on now (peers.free_port)."""
    ports = []
    while len(ports) < n:
        p = peers.free_port()
        if p not in ports:
            ports.append(p)
    return ports


def make_data(root, name, size, piece_length, *, files=None, seed=7):
    """Writes deterministic pseudo-random data under root/seed/ and makes root/NAME.torrent with
    `peerwire create --piece-size piece_length --no-date`. Single file NAME of `size` bytes, or
    with files={relpath: size} a directory NAME holding them. Returns a peers.Sample
    (.torrent, .save_path = the seeder's data dir, .content, .info_hash, .total_size,
    .piece_length, .piece_count)."""
    save_path = os.path.join(root, "seed")
    os.makedirs(save_path, exist_ok=True)
    if files is None:
        pwtest.write_tree(save_path, {name: size}, seed=seed)
    else:
        pwtest.write_tree(save_path, {os.path.join(name, r): s for r, s in files.items()},
                          seed=seed)
    content = os.path.join(save_path, name)
    torrent = os.path.join(root, name + ".torrent")
    pwtest.create(content, torrent, "--piece-size", str(piece_length), "--no-date")
    return peers.Sample(torrent, save_path, content)


def content_paths(sample):
    """Relative paths (to the save directory) of every file of the sample's content."""
    if os.path.isfile(sample.content):
        return [sample.name]
    out = []
    for dirpath, _, names in os.walk(sample.content):
        for n in names:
            out.append(os.path.relpath(os.path.join(dirpath, n), sample.save_path))
    return sorted(out)


def same_content(sample, directory):
    """(True, "") when every file of the sample exists in `directory` with identical bytes;
    else (False, what differs)."""
    for rel in content_paths(sample):
        a = os.path.join(sample.save_path, rel)
        b = os.path.join(directory, rel)
        if not os.path.isfile(b):
            return False, f"{rel}: missing in {directory}"
        if os.path.getsize(a) != os.path.getsize(b):
            return False, f"{rel}: {os.path.getsize(b)} bytes, expected {os.path.getsize(a)}"
        if not filecmp.cmp(a, b, shallow=False):
            return False, f"{rel}: contents differ"
    return True, ""


def resume_path(directory, info_hash):
    return os.path.join(directory, ".peerwire", f"{info_hash}.resume")


def _die_with_parent():
    """preexec_fn: SIGKILL the child if the test process dies (no orphan keeps seeding)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort
        pass


class PeerwireProc:
    """One `peerwire download|seed TORRENT -d DIR ...` process (see the module docstring).

    peers: ports (ints, on 127.0.0.1) or "host:port" strings for --peer.
    json: add --json (status/summary events parsed by events()).
    status_interval: --status-interval (seconds).
    extra: more arguments. argv_prefix: run through this (e.g. setpriv ...).
    """

    def __init__(self, command, torrent, directory, *, port, peers=(), extra=(), json=True,
                 status_interval=0.25, bind="127.0.0.1", argv_prefix=(), label=None):
        self.command = command
        self.torrents = [torrent] if isinstance(torrent, str) else list(torrent)
        self.directory = directory
        self.port = port
        self.peers = [p if isinstance(p, str) else f"127.0.0.1:{p}" for p in peers]
        self.extra = [str(a) for a in extra]
        self.json = json
        self.status_interval = status_interval
        self.bind = bind
        self.argv_prefix = list(argv_prefix)
        self.label = label or f"{command}:{port}"
        self.proc = None
        self.tmp = None
        self.started_at = None
        self.ended_at = None
        self._events = []
        self._stdout_pos = 0
        self._partial = b""

    # -- lifecycle --------------------------------------------------------------------------

    def argv(self):
        args = [pwtest.PEERWIRE, self.command, *self.torrents, "-d", self.directory,
                "--bind", self.bind, "--port", str(self.port),
                "--status-interval", str(self.status_interval)]
        for p in self.peers:
            args += ["--peer", p]
        if self.json:
            args.append("--json")
        return self.argv_prefix + args + self.extra

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="peerwire-proc-")
        self.stdout_path = os.path.join(self.tmp, "stdout")
        self.stderr_path = os.path.join(self.tmp, "stderr")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, preexec_fn=_die_with_parent)
        self.started_at = time.monotonic()
        return self

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _reap(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        finally:
            if self.proc.returncode is not None and self.ended_at is None:
                self.ended_at = time.monotonic()

    def send_signal(self, sig):
        if self.alive():
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self, timeout=20, sig=signal.SIGTERM):
        """Sends `sig` (SIGTERM) and waits for the exit (SIGKILL after `timeout` s, which
        fails). Returns the exit code."""
        if self.proc is None:
            return None
        if self.alive():
            self.send_signal(sig)
            try:
                self._reap(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"{self.label}: still running {timeout}s after signal "
                                     f"{sig}; killed\n{self.tail()}")
        return self.proc.returncode

    def kill(self):
        """SIGKILL by PID; waits for it. Returns the exit code (-9)."""
        if self.proc is None:
            return None
        if self.alive():
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._reap(10)
        return self.proc.returncode

    def wait(self, timeout):
        """Waits for the process to exit by itself; on timeout kills it and fails."""
        try:
            self._reap(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.label}: did not exit within {timeout}s; killed\n"
                                 f"{self.tail()}")
        return self.proc.returncode

    def close(self):
        """Stops the process if still running (SIGTERM, then SIGKILL) and removes its files."""
        if self.proc is not None and self.alive():
            try:
                self.terminate(timeout=10)
            except AssertionError:
                pass
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    # -- output -----------------------------------------------------------------------------

    def stdout_text(self):
        try:
            with open(self.stdout_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except (OSError, AttributeError):
            return ""

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except (OSError, AttributeError):
            return ""

    def tail(self, n=4000):
        out = [l for l in self.stdout_text().splitlines()]
        return (f"--- {self.label} argv: {' '.join(self.argv())}\n"
                f"--- exit: {self.proc.returncode if self.proc else None}\n"
                f"--- stderr (tail):\n{self.stderr_text()[-n:]}\n"
                f"--- stdout (last lines):\n" + "\n".join(out[-3:])[-n:])

    def events(self):
        """Every --json event so far ({"event": ..., "torrent": {...}}), in order. Lines that
        are not JSON objects (--trace output) are skipped; a torn last line waits."""
        try:
            with open(self.stdout_path, "rb") as f:
                f.seek(self._stdout_pos)
                chunk = f.read()
        except (OSError, AttributeError):
            return list(self._events)
        self._stdout_pos += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            line = line.strip()
            if not line.startswith(b"{"):
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and "event" in obj:
                self._events.append(obj)
        return list(self._events)

    def statuses(self):
        return [e["torrent"] for e in self.events() if e["event"] == "status"]

    def summaries(self):
        return [e["torrent"] for e in self.events() if e["event"] == "summary"]

    def summary(self):
        """The (first torrent's) summary object; None when it has not exited cleanly."""
        s = self.summaries()
        return s[0] if s else None

    def last(self):
        """The latest status or summary object, or None."""
        ev = self.events()
        return ev[-1]["torrent"] if ev else None

    def wait_for(self, predicate, timeout, what):
        """Polls the latest status until predicate(status) is true; returns that status. Fails
        (with the output) on timeout or when the process exits first."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.last()
            if st is not None and predicate(st):
                return st
            if not self.alive():
                st = self.last()
                if st is not None and predicate(st):
                    return st
                raise AssertionError(f"{self.label}: exited before {what}\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.label}: not {what} within {timeout}s; last status "
                                     f"{st}\n{self.tail()}")
            time.sleep(0.02)

    def next_status(self, timeout=10):
        """Waits for a status line newer than every line read so far; returns it."""
        seen = len(self.events())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ev = self.events()
            if len(ev) > seen:
                return ev[-1]["torrent"]
            if not self.alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"{self.label}: no new status line within {timeout}s\n{self.tail()}")

    def wait_state(self, *states, timeout=60):
        return self.wait_for(lambda s: s["state"] in states, timeout, f"in state {states}")

    def wait_listening(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError(f"{self.label}: exited before listening\n{self.tail()}")
            if peers.port_listening(self.port):
                return
            time.sleep(0.02)
        raise AssertionError(f"{self.label}: port {self.port} not listening within {timeout}s\n"
                             f"{self.tail()}")

    def trace_lines(self):
        """--trace lines from stdout: [(t, peer, "->"|"<-", text)]."""
        out = []
        for line in self.stdout_text().splitlines():
            if line.startswith("{"):
                continue
            parts = line.split(None, 3)
            if len(parts) == 4 and parts[2] in ("->", "<-"):
                try:
                    out.append((float(parts[0]), parts[1], parts[2], parts[3]))
                except ValueError:
                    pass
        return out


def random_seed():
    """A seed for a test's random choices: $PEERWIRE_TEST_SEED or a fresh one (printed by the
    caller so that a failure can be replayed)."""
    env = os.environ.get("PEERWIRE_TEST_SEED")
    return int(env) if env else random.SystemRandom().randrange(1 << 30)
