#!/usr/bin/env python3
"""Transfer benchmarks of issue 6: peerwire against libtorrent, aria2 and Transmission on
127.0.0.1, against the machine's own limits (SHA-1, loopback TCP, disk write).

    bench/transfer_bench.py [PEERWIRE] [--size 1G] [--runs 3] [--only CASE,...]
                            [--out bench/RESULTS.md] [--tmpdir /tmp] ...

PEERWIRE defaults to build-bench/app/peerwire (`make bench` builds it in Release). Everything
runs on 127.0.0.1; data lives in a temporary directory under --tmpdir (free space is checked
before each case, and the directory is removed at the end). The report (Markdown) is printed;
with --out it is also appended to that file. Smoke runs: `--size 64M --runs 1
--sparse-size 2G` (do not append those figures to bench/RESULTS.md).

Cases (--only, comma-separated; default: all):
  limits              openssl speed -evp sha1 (1 core, largest block), raw loopback TCP copy
                      (bench/tcp_copy.py), dd write (page cache, and with conv=fdatasync)
  lt-lt               libtorrent seeder -> libtorrent downloader (the reference)
  lt-peerwire         libtorrent seeder -> peerwire download
  lt-aria2            libtorrent seeder -> aria2c (the seeder dials it: no tracker)
  lt-transmission     libtorrent seeder -> transmission-cli (the seeder dials it: Transmission
                      never dials loopback peers)
  lt-peerwire+dio     the same with `peerwire download --direct-io` (O_DIRECT writes)
  lt-peerwire+sparse  the same with `peerwire download --no-preallocate` (sparse files, like
                      libtorrent's downloader; by default peerwire allocates each file in full)
  peerwire-peerwire   peerwire seed -> peerwire download
  peerwire-peerwire+dio  the same with --direct-io
  peerwire-lt         peerwire seed -> libtorrent downloader
  ideal-lt            bench_ideal_seeder (bench/ideal_seeder.cpp: files mapped, one writev per
                      batch of requests, no other work) -> libtorrent downloader: the fastest a
                      seeder can feed libtorrent's downloader on this machine, so the ceiling
                      of the "peerwire seeder -> libtorrent >= 1.2x" target (built by
                      `make bench` next to the peerwire binary; skipped when absent)
  swarm               one seeder (peerwire, then libtorrent) serving --swarm (8) downloaders
                      at once (half libtorrent, half peerwire) --swarm-size (512M) each, all
                      dialling the seeder: aggregate MiB/s, seeder upload MiB/s, CPU, peak RSS
  create              bench/create_bench.sh (peerwire create vs mktorrent -t 2, sha1sum)
  recheck             peerwire download --recheck --no-seed on complete data vs sha1sum
  many                peerwire seed of --many small torrents: start-up time and RSS
  sparse              a --sparse-size (16G) sparse torrent, --sparse-piece (4M) pieces, in two
                      variants (--sparse-content): "zeros" (all pieces share one hash; the
                      torrent is written in Python) and "marked" (the piece number in the
                      first 8 bytes of each piece, so each has its own hash; hashed in Python
                      on every core): time and peak RSS of `peerwire seed --recheck`, then
                      peak RSS of a peerwire download of --sparse-portion (1G) of it
Transfer cases run for each layout in --layouts: "single" (one file of --size) and "multi"
(--files files totalling --size, in 10 directories, sizes 0.5x..1.5x the mean).

libtorrent settings (--lt-tuning): the interop fixtures' (127.0.0.1 only; DHT, LSD, UPnP,
NAT-PMP, uTP off; allow_multiple_connections_per_ip) on top of lt.high_performance_seed(),
libtorrent's own pack for fast transfers (request queue 1500, 7 MiB disk queue, 3 MiB send
buffer watermark, unlimited unchoke slots, ...), for the seeder and the downloader alike;
`--lt-tuning default` uses libtorrent's defaults instead. MSE (encryption) is off on both
sides unless `--lt-encryption default`: libtorrent dials with MSE first by default, and
peerwire has no MSE yet, so each libtorrent -> peerwire connection would first fail and
retry in plaintext about 1 s later (a fixed start-up cost, measured separately). aria2 and Transmission get the
fixtures' options (tests/support/tracker_fixture.py), no tracker: the libtorrent seeder dials them.

Measurement: each transfer is timed from the downloader's start (for libtorrent, from the
moment its torrent is added and the seeder dialled, so the Python interpreter's start-up is
not counted) to the moment it reports completion (peerwire and aria2: process exit;
libtorrent: is_seeding; Transmission: its status line says "Seeding"). CPU (user+sys) and
peak RSS are the downloader process's own rusage from wait4() (libtorrent: the python child
running it, minus the CPU it used before the torrent was added). Runs of the different pairs
alternate, so a burst of background load hits all of them alike; figures are medians.
"""
import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_support as bs  # noqa: E402
from bench_support import GIB, MIB  # noqa: E402

TRANSFER_CASES = ["lt-lt", "lt-peerwire", "lt-peerwire+dio", "lt-peerwire+sparse", "lt-aria2",
                  "lt-transmission",
                  "peerwire-peerwire", "peerwire-peerwire+dio", "peerwire-lt", "ideal-lt"]
ALL_CASES = ["limits", *TRANSFER_CASES, "swarm", "create", "recheck", "many", "sparse"]
# Rough expected downloader speeds (MiB/s) on loopback, only to size the hard timeouts
# (10x the expected time, at least MIN_TIMEOUT s).
EXPECTED = {"lt": 300, "peerwire": 300, "peerwire+dio": 300, "peerwire+sparse": 300,
            "aria2": 100, "transmission": 40}
MIN_TIMEOUT = 120
TRANSMISSION_FLOOR = 20  # s: it gets interested only on its 10 s tick


def parse_size(text):
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (e.g. 64M, 1G, 16GiB)")
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2)]
    return int(float(m.group(1)) * mult)


def human(n):
    for unit, div in (("GiB", GIB), ("MiB", MIB), ("KiB", 1024)):
        if n >= div:
            v = n / div
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} B"


def fmt(v, spec=".1f", none="n/a"):
    return none if v is None else format(v, spec)


class Skip(Exception):
    pass


class Bench:
    def __init__(self, args):
        self.a = args
        self.pw = os.path.abspath(args.peerwire)
        self.procs = []
        self.log = []
        self.failures = []
        self.results = {}  # layout -> pair -> list of run dicts
        self.limits = {}
        self.swarm = {}
        self.create = None
        self.recheck = None
        self.many = None
        self.sparse = None
        self.layouts = {}

    # -- utilities ------------------------------------------------------------------------------
    def say(self, text):
        print(text, flush=True)

    def spawn(self, argv, name, cwd=None):
        p = bs.Proc(argv, f"{name}-{len(self.procs)}", os.path.join(self.work, "logs"), cwd=cwd)
        self.procs.append(p)
        return p.start()

    def need_space(self, nbytes, what):
        free = shutil.disk_usage(self.work).free
        if free < nbytes + GIB // 2:
            raise Skip(f"{what}: needs {human(nbytes)} free in {self.work}, only {human(free)}")

    def fail(self, what, err):
        self.failures.append(f"{what}: {err}")
        self.say(f"!! {what}: {err}")

    def timeout_for(self, nbytes, client):
        t = 10 * nbytes / (EXPECTED[client] * MIB)
        if client == "transmission":
            t += 10 * TRANSMISSION_FLOOR
        return max(MIN_TIMEOUT, t)

    # -- data -----------------------------------------------------------------------------------
    def make_layout(self, layout, size=None):
        size = size or self.a.size
        key = layout if size == self.a.size else f"{layout}-{size}"
        if key in self.layouts:
            return self.layouts[key]
        self.need_space(size, f"data for layout {key}")
        root = os.path.join(self.work, key)
        data = os.path.join(root, "data")
        rng = bs.random.Random(6 if layout == "single" else 7)
        t0 = time.monotonic()
        if layout == "single":
            name = "bench-single.bin"
            bs.write_random(os.path.join(data, name), size, rng)
        else:
            name = "bench-multi"
            sizes = bs.split_sizes(size, self.a.files, rng)
            for i, n in enumerate(sizes):
                bs.write_random(os.path.join(data, name, f"d{i % 10}", f"f{i:05d}.bin"), n, rng)
        torrent = os.path.join(root, f"{name}.torrent")
        r = subprocess.run([self.pw, "create", os.path.join(data, name), "-o", torrent,
                            "--piece-size", self.a.piece_size, "--no-date", "-q", "-f"],
                           capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise RuntimeError(f"peerwire create failed: {r.stderr}")
        info = json.loads(subprocess.run([self.pw, "info", "--json", torrent], capture_output=True,
                                         text=True, timeout=120, check=True).stdout)
        files = [os.path.join(dp, f) for dp, _, fs in os.walk(data) for f in fs]
        bs.read_cache(files)
        self.say(f"   {key}: {human(size)} in {len(files)} file(s), {info['piece_count']} "
                 f"pieces of {human(info['piece_length'])}, made in {time.monotonic() - t0:.1f}s")
        lay = {"data": data, "torrent": torrent, "name": name, "size": size, "files": files,
               "piece_length": info["piece_length"], "pieces": info["piece_count"]}
        self.layouts[key] = lay
        return lay

    # -- seeders --------------------------------------------------------------------------------
    def lt_seeder(self, lay, timeout=600):
        cmd_file = os.path.join(self.work, f"lt-seeder-cmd-{len(self.procs)}")
        open(cmd_file, "w").close()
        cfg = {"port": 0, "torrent": lay["torrent"], "save_path": lay["data"],
               "tuning": self.a.lt_tuning, "encryption": self.a.lt_encryption, "timeout": timeout,
               "cmd_file": cmd_file}
        p = self.spawn(bs.lt_script_argv(self.work, "seeder", cfg), "lt-seeder")
        p.kind = "lt"
        p.cmd_file = cmd_file

        def ready():
            m = re.search(r"^READY (\d+)", p.stdout(), re.M)
            if m:
                p.port = int(m.group(1))
            return bool(m)
        if not bs.wait_until(ready, timeout, 0.05, alive=p.running) or \
                not bs.wait_until(lambda: bs.port_listening(p.port), 10):
            p.stop()
            raise RuntimeError(f"libtorrent seeder not ready\n{p.describe()}")

        def connect(port):
            with open(cmd_file, "a") as f:
                f.write(f"connect {port}\n")

        def uploaded():
            ups = re.findall(r"^UP \S+ (\d+)", p.stdout()[-20000:], re.M)
            return int(ups[-1]) if ups else None
        p.connect, p.uploaded = connect, uploaded
        p.startup = time.monotonic() - p.t_spawn
        return p

    def pw_seeder(self, torrents, data, timeout=600, extra=(), interval="0.25", name="pw-seeder"):
        port = bs.free_port()
        argv = [self.pw, "seed", *torrents, "-d", data, "--port", port, "--bind", "127.0.0.1",
                "--json", "--status-interval", interval, *extra]
        p = self.spawn(argv, name)
        p.kind = "peerwire"
        p.port = port
        reader = JsonLines(p)
        p.reader = reader
        want = len(torrents)

        def ready():
            reader.poll()
            return reader.count_state("seeding") >= want
        if not bs.wait_until(ready, timeout, 0.05, alive=p.running) or \
                not bs.wait_until(lambda: bs.port_listening(port), 10):
            p.stop(signal.SIGINT)
            raise RuntimeError(f"peerwire seed not seeding\n{p.describe()}")
        p.startup = time.monotonic() - p.t_spawn

        def uploaded():
            reader.poll()
            return sum(t.get("uploaded", 0) for t in reader.latest.values())
        p.uploaded = uploaded
        p.connect = None
        return p

    def ideal_seeder(self, lay, timeout=60):
        exe = os.path.join(os.path.dirname(os.path.dirname(self.pw)), "bench",
                           "bench_ideal_seeder")
        if not os.access(exe, os.X_OK):
            raise Skip(f"{exe} not built (make bench builds it)")
        port_file = os.path.join(self.work, f"ideal-port-{len(self.procs)}")
        p = self.spawn([exe, lay["torrent"], lay["data"], port_file], "ideal-seeder")
        p.kind = "ideal"

        def ready():
            try:
                with open(port_file) as f:
                    p.port = int(f.read())
                return True
            except (OSError, ValueError):
                return False
        if not bs.wait_until(ready, timeout, 0.02, alive=p.running) or \
                not bs.wait_until(lambda: bs.port_listening(p.port), 10):
            p.stop()
            raise RuntimeError(f"ideal seeder not listening\n{p.describe()}")
        p.startup = time.monotonic() - p.t_spawn
        p.connect, p.uploaded = None, lambda: None
        return p

    def stop_seeder(self, p):
        if p is None:
            return
        p.stop(signal.SIGINT if p.kind == "peerwire" else signal.SIGTERM)

    # -- downloaders ----------------------------------------------------------------------------
    def start_downloader(self, client, lay, seeder, dl_dir):
        """Starts one downloader; returns (proc, finish) where finish(timeout) waits for
        completion and returns a run dict."""
        os.makedirs(dl_dir, exist_ok=True)
        size = lay["size"]
        if client in ("peerwire", "peerwire+dio", "peerwire+sparse"):
            port = bs.free_port()
            p = self.spawn([self.pw, "download", lay["torrent"], "-d", dl_dir, "--peer",
                            f"127.0.0.1:{seeder.port}", "--port", port, "--bind", "127.0.0.1",
                            "--no-seed", "--json", "--status-interval", "1"] +
                           (["--direct-io"] if client == "peerwire+dio" else []) +
                           (["--no-preallocate"] if client == "peerwire+sparse" else []),
                           "pw-download")

            def finish(timeout):
                code = p.wait(timeout)
                if code is None:
                    p.stop(signal.SIGINT)
                    raise RuntimeError(f"peerwire download timed out after {timeout:.0f}s\n"
                                       f"{p.describe()}")
                if code != 0:
                    raise RuntimeError(f"peerwire download exited {code}\n{p.describe()}")
                return {"t0": p.t_spawn, "t1": p.t_exit, "cpu": p.cpu_seconds,
                        "rss": p.maxrss_mib}
            return p, finish
        if client == "lt":
            cfg = {"port": 0, "torrent": lay["torrent"], "save_path": dl_dir,
                   "tuning": self.a.lt_tuning, "encryption": self.a.lt_encryption,
                   "peers": [seeder.port],
                   "timeout": self.timeout_for(size, "lt")}
            p = self.spawn(bs.lt_script_argv(self.work, "leecher", cfg), "lt-download")

            def finish(timeout):
                code = p.wait(timeout)
                if code is None:
                    p.stop()
                    raise RuntimeError(f"libtorrent download timed out\n{p.describe()}")
                out = p.stdout()
                added = re.search(r"^ADDED (\S+) (\S+)", out, re.M)
                done = re.search(r"^DONE (\S+)", out, re.M)
                if code != 0 or not added or not done:
                    raise RuntimeError(f"libtorrent download failed ({code})\n{p.describe()}")
                return {"t0": float(added.group(1)), "t1": float(done.group(1)),
                        "cpu": p.cpu_seconds - float(added.group(2)), "rss": p.maxrss_mib}
            return p, finish
        if client == "aria2":
            if not shutil.which("aria2c"):
                raise Skip("aria2c is not installed")
            port = bs.free_port()
            p = self.spawn(["aria2c", "--no-conf=true", "--enable-color=false",
                            "--console-log-level=warn", "--summary-interval=0",
                            "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
                            "--enable-peer-exchange=false", "--disable-ipv6=true",
                            "--interface=127.0.0.1", f"--listen-port={port}", "--seed-time=0",
                            "--file-allocation=none", "--auto-save-interval=0",
                            "--bt-require-crypto=false", f"--dir={dl_dir}", lay["torrent"]],
                           "aria2")
            self._dial_when_listening(p, port, seeder)

            def finish(timeout):
                code = p.wait(timeout)
                if code is None:
                    p.stop()
                    raise RuntimeError(f"aria2c timed out\n{p.describe()}")
                if code != 0:
                    raise RuntimeError(f"aria2c exited {code}\n{p.describe()}")
                return {"t0": p.t_spawn, "t1": p.t_exit, "cpu": p.cpu_seconds,
                        "rss": p.maxrss_mib}
            return p, finish
        if client == "transmission":
            if not shutil.which("transmission-cli"):
                raise Skip("transmission-cli is not installed")
            port = bs.free_port()
            config = os.path.join(dl_dir + ".tr-config")
            os.makedirs(config, exist_ok=True)
            with open(os.path.join(config, "settings.json"), "w") as f:
                json.dump({"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
                           "utp-enabled": False, "port-forwarding-enabled": False,
                           "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
                           "peer-port": port, "peer-port-random-on-start": False,
                           "ratio-limit-enabled": False, "idle-seeding-limit-enabled": False,
                           "speed-limit-up-enabled": False, "speed-limit-down-enabled": False,
                           "blocklist-enabled": False, "rpc-enabled": False,
                           "message-level": 1}, f)
            stdbuf = [shutil.which("stdbuf"), "-o0"] if shutil.which("stdbuf") else []
            p = self.spawn([*stdbuf, "transmission-cli", "-g", config, "-p", port, "-w", dl_dir,
                            lay["torrent"]], "transmission")
            self._dial_when_listening(p, port, seeder)

            def finish(timeout):
                ok = bs.wait_until(lambda: "Seeding, uploading" in p.stdout()[-4000:], timeout,
                                   0.02, alive=p.running)
                t1 = time.monotonic()
                p.stop(signal.SIGTERM)
                if not ok:
                    raise RuntimeError(f"transmission-cli did not finish\n{p.describe()}")
                return {"t0": p.t_spawn, "t1": t1, "cpu": p.cpu_seconds, "rss": p.maxrss_mib}
            return p, finish
        raise ValueError(client)

    def _dial_when_listening(self, p, port, seeder):
        if seeder.connect is None:
            raise Skip("only the libtorrent seeder can dial a downloader here")
        if not bs.wait_until(lambda: bs.port_listening(port), 30, 0.02, alive=p.running):
            p.stop()
            raise RuntimeError(f"{p.name} not listening on {port}\n{p.describe()}")
        seeder.connect(port)

    def one_transfer(self, client, lay, seeder, tag):
        dl = os.path.join(self.work, "dl", tag)
        bs.drop_tree(dl)
        # Every run starts with no dirty data of the previous one still being written back
        # (untimed): otherwise the writeback of run N slows run N+1, whoever runs it.
        os.sync()
        try:
            p, finish = self.start_downloader(client, lay, seeder, dl)
            r = finish(self.timeout_for(lay["size"], client))
            got = bs.tree_size(dl)
            if got != lay["size"]:
                raise RuntimeError(f"downloaded {got} bytes, expected {lay['size']}")
            if self.a.verify:
                diff = subprocess.run(["diff", "-r", "-q", "-x", ".peerwire", lay["data"], dl],
                                      capture_output=True, text=True, timeout=600)
                if diff.returncode != 0:
                    raise RuntimeError(f"data differs: {diff.stdout[:500]}")
            secs = r["t1"] - r["t0"]
            r.update(seconds=secs, mibps=lay["size"] / MIB / secs,
                     cpu_per_gib=r["cpu"] / (lay["size"] / GIB) if r["cpu"] is not None else None)
            return r
        finally:
            self.retire_tree(dl)
            bs.drop_tree(dl + ".tr-config")

    def retire_tree(self, path):
        """Sets a finished download aside instead of deleting it. ext4 skips inodes freed in
        the last minute or more when it allocates new ones (recently_deleted(): perf showed 13 %
        of a 1000-file download there), so deleting each run's tree made the next run of every
        client slower than the last (libtorrent -> libtorrent 362 -> 227 MiB/s over five runs).
        The set-aside files leave the page cache (they are clean after a sync) and are deleted
        with the rest of the case's downloads by drop_retired()."""
        if not os.path.isdir(path):
            return
        if shutil.disk_usage(self.work).free < bs.tree_size(path) + 2 * GIB:
            bs.drop_tree(path)  # no room to keep it: delete, as before
            return
        os.sync()
        for dirpath, _, names in os.walk(path):
            for n in names:
                try:
                    fd = os.open(os.path.join(dirpath, n), os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
        trash = os.path.join(self.work, "retired")
        os.makedirs(trash, exist_ok=True)
        os.rename(path, os.path.join(trash, f"{len(os.listdir(trash))}"))

    def drop_retired(self):
        bs.drop_tree(os.path.join(self.work, "retired"))

    # -- cases ----------------------------------------------------------------------------------
    def case_limits(self):
        runs = max(1, self.a.runs)
        sha, tcp, wr, wr_sync = [], [], [], []
        size = self.a.size
        self.need_space(size, "dd write test")
        for r in range(runs):
            out = subprocess.run(["openssl", "speed", "-evp", "sha1", "-seconds", "3"],
                                 capture_output=True, text=True, timeout=120).stdout
            row = [l for l in out.splitlines() if l.split()[:1] == ["sha1"]]
            if row:
                sha.append(float(row[-1].split()[-1].rstrip("k")) * 1000 / MIB)
            out = subprocess.run([sys.executable, os.path.join(HERE, "tcp_copy.py"), str(size)],
                                 capture_output=True, text=True, timeout=600)
            m = re.search(r"mib_per_s=(\S+)", out.stdout)
            if m:
                tcp.append(float(m.group(1)))
            else:
                self.fail("tcp_copy", out.stderr.strip())
            target = os.path.join(self.work, "dd.bin")
            for sync, into in ((True, wr_sync), (False, wr)):
                if os.path.exists(target):
                    os.unlink(target)
                argv = ["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={size // MIB}"]
                if sync:
                    argv.append("conv=fdatasync")
                out = subprocess.run(argv, capture_output=True, text=True, timeout=1200).stderr
                m = re.search(r"^(\d+) bytes.*copied, ([\d.,]+) s", out, re.M)
                if m:
                    into.append(int(m.group(1)) / MIB / float(m.group(2).replace(",", ".")))
                else:
                    self.fail("dd", out.strip())
            os.unlink(target)
        L = {"sha1": bs.median(sha), "tcp": bs.median(tcp), "write": bs.median(wr),
             "write_sync": bs.median(wr_sync), "runs": (sha, tcp, wr, wr_sync)}
        if all(L[k] for k in ("sha1", "tcp", "write")):
            L["one_core"] = 1 / (1 / L["sha1"] + 1 / L["tcp"] + 1 / L["write"])
        if all(L[k] for k in ("sha1", "tcp", "write_sync")):
            L["one_core_sync"] = 1 / (1 / L["sha1"] + 1 / L["tcp"] + 1 / L["write_sync"])
        self.limits = L
        self.say(f"   sha1 {fmt(L['sha1'], '.0f')} MiB/s, tcp {fmt(L['tcp'], '.0f')} MiB/s, "
                 f"write {fmt(L['write'], '.0f')} (page cache) / {fmt(L['write_sync'], '.0f')} "
                 f"(fdatasync) MiB/s, one-core limit {fmt(L.get('one_core'), '.0f')} MiB/s")

    def case_transfers(self, layout, pairs):
        lay = self.make_layout(layout)
        self.need_space(lay["size"] + GIB // 4, f"downloads ({layout})")
        seeders = {}
        res = self.results.setdefault(layout, {})
        try:
            for kind in sorted({p.split("-")[0] for p in pairs}):
                try:
                    seeders[kind] = self.lt_seeder(lay) if kind == "lt" else \
                        self.ideal_seeder(lay) if kind == "ideal" else \
                        self.pw_seeder([lay["torrent"]], lay["data"])
                    self.say(f"   {kind} seeder ready in {seeders[kind].startup:.1f}s "
                             f"(port {seeders[kind].port})")
                except Skip as e:
                    res.setdefault(f"{kind}-lt", []).append(e)
                    self.say(f"   {kind} seeder: skipped ({e})")
                except Exception as e:  # noqa: BLE001
                    self.fail(f"{layout}: {kind} seeder", e)
            for r in range(self.a.runs):
                for pair in pairs:
                    skind, client = pair.split("-")
                    runs = res.setdefault(pair, [])
                    if skind not in seeders:
                        continue
                    if any(isinstance(x, Skip) for x in runs):
                        continue
                    try:
                        out = self.one_transfer(client, lay, seeders[skind], f"{layout}-{pair}")
                        runs.append(out)
                        self.say(f"   {layout} {pair} run {r + 1}: {out['mibps']:.0f} MiB/s, "
                                 f"{out['seconds']:.2f}s, CPU {fmt(out['cpu'], '.2f')}s, "
                                 f"RSS {fmt(out['rss'], '.0f')} MiB")
                    except Skip as e:
                        runs.append(e)
                        self.say(f"   {layout} {pair}: skipped ({e})")
                    except Exception as e:  # noqa: BLE001
                        self.fail(f"{layout} {pair} run {r + 1}", e)
                    for s in seeders.values():
                        if not s.running():
                            raise RuntimeError(f"seeder died\n{s.describe()}")
        finally:
            for s in seeders.values():
                self.stop_seeder(s)
            self.drop_retired()

    def case_swarm(self):
        lay = self.make_layout("single", self.a.swarm_size)
        n = self.a.swarm
        self.need_space(n * lay["size"] + GIB // 4, "swarm downloads")
        for r in range(self.a.runs):
            for kind in ("peerwire", "lt"):
                seeder = None
                dls = []
                try:
                    seeder = self.lt_seeder(lay) if kind == "lt" else \
                        self.pw_seeder([lay["torrent"]], lay["data"])
                    time.sleep(0.5)
                    cpu0, up0 = seeder.cpu_now(), seeder.uploaded() or 0
                    t0 = time.monotonic()
                    for i in range(n):
                        client = "lt" if i % 2 == 0 else "peerwire"
                        dl = os.path.join(self.work, "swarm", f"{i}")
                        p, finish = self.start_downloader(client, lay, seeder, dl)
                        dls.append((client, dl, p, finish))
                    timeout = max(MIN_TIMEOUT, 10 * n * lay["size"] / (200 * MIB))
                    deadline = t0 + timeout
                    outs = []
                    for client, dl, p, finish in dls:
                        o = finish(max(1, deadline - time.monotonic()))
                        o["seconds"] = o["t1"] - o["t0"]
                        outs.append((client, o))
                    t1 = max(o["t1"] for _, o in outs)
                    cpu1 = seeder.cpu_now()
                    time.sleep(0.6)  # let the status line catch up with the last bytes
                    up1 = seeder.uploaded() or 0
                    hwm = seeder.mem_kib("VmHWM")
                    wall = t1 - t0
                    rec = {"wall": wall, "agg": n * lay["size"] / MIB / wall,
                           "seeder_up": (up1 - up0) / MIB / wall,
                           "seeder_cpu": (cpu1 - cpu0) if cpu0 is not None and cpu1 else None,
                           "seeder_hwm": hwm / 1024 if hwm else None,
                           "per_client": {c: bs.median([o["seconds"] for cc, o in outs
                                                        if cc == c]) for c in ("lt", "peerwire")}}
                    self.swarm.setdefault(kind, []).append(rec)
                    self.say(f"   swarm {kind} seeder run {r + 1}: {n} downloaders in "
                             f"{wall:.1f}s, aggregate {rec['agg']:.0f} MiB/s, seeder upload "
                             f"{rec['seeder_up']:.0f} MiB/s, CPU {fmt(rec['seeder_cpu'], '.1f')}s,"
                             f" peak RSS {fmt(rec['seeder_hwm'], '.0f')} MiB")
                except Skip:
                    raise
                except Exception as e:  # noqa: BLE001
                    self.fail(f"swarm ({kind} seeder) run {r + 1}", e)
                finally:
                    for _, _, p, _ in dls:
                        p.stop(signal.SIGINT if "pw" in p.name else signal.SIGTERM)
                    self.stop_seeder(seeder)
                    bs.drop_tree(os.path.join(self.work, "swarm"))

    def case_create(self):
        size_mib = max(16, self.a.size // MIB)
        self.need_space(size_mib * MIB, "create_bench data")
        env = dict(os.environ, BENCH_SIZE_MIB=str(size_mib), BENCH_RUNS=str(max(3, self.a.runs)),
                   BENCH_TMPDIR=self.work)
        r = subprocess.run(["bash", os.path.join(HERE, "create_bench.sh"), self.pw], env=env,
                           capture_output=True, text=True, timeout=3600)
        text = r.stdout + r.stderr
        res = {"ok": r.returncode == 0, "text": "\n".join(
            l for l in r.stdout.splitlines()
            if not l.startswith(("run ", "generating ", "warming "))).strip()}
        m = re.search(r"^peerwire / mktorrent:\s+(\S+)", text, re.M)
        res["ratio"] = float(m.group(1)) if m else None
        if not res["ok"]:
            self.fail("create_bench.sh", f"exit {r.returncode}: {r.stderr[-1000:]}")
        self.create = res
        self.say(f"   peerwire create / mktorrent -t 2 = {fmt(res['ratio'], '.2f')}")

    def case_recheck(self):
        lay = self.make_layout("single")
        bs.read_cache(lay["files"])
        pw_runs, sha_runs = [], []
        for r in range(max(1, self.a.runs)):
            p = self.spawn([self.pw, "download", lay["torrent"], "-d", lay["data"], "--recheck",
                            "--no-seed", "--json", "--port", bs.free_port(), "--bind",
                            "127.0.0.1", "--status-interval", "1"], "pw-recheck")
            timeout = max(MIN_TIMEOUT, 10 * lay["size"] / (200 * MIB))
            code = p.wait(timeout)
            if code != 0:
                p.stop(signal.SIGINT)
                self.fail("recheck", f"peerwire exited {code}\n{p.describe()}")
                return
            s = [e for e in JsonLines(p).all() if e.get("event") == "summary"]
            if not s or s[-1]["torrent"]["verified_bytes"] != lay["size"]:
                self.fail("recheck", f"not all data verified\n{p.describe()}")
                return
            wall = p.t_exit - p.t_spawn
            pw_runs.append({"wall": wall, "cpu": p.cpu_seconds, "rss": p.maxrss_mib})
            q = self.spawn(["sha1sum", lay["files"][0]], "sha1sum")
            if q.wait(timeout) != 0:
                q.stop()
                self.fail("recheck", f"sha1sum failed\n{q.describe()}")
                return
            sha_runs.append({"wall": q.t_exit - q.t_spawn, "cpu": q.cpu_seconds})
        mib = lay["size"] / MIB
        w = bs.median([x["wall"] for x in pw_runs])
        c = bs.median([x["cpu"] for x in pw_runs])
        sw = bs.median([x["wall"] for x in sha_runs])
        sc = bs.median([x["cpu"] for x in sha_runs])
        # "Speed per core used" = bytes per CPU second, for both: sha1sum is one process on one
        # core, so on a quiet machine its per-core speed is its wall speed; on a busy one the
        # CPU-time form is the one that does not depend on how much of a core each tool got.
        self.recheck = {"pw_mibps": mib / w, "pw_cores": c / w, "pw_per_core": mib / c,
                        "pw_rss": max(x["rss"] for x in pw_runs), "sha_mibps": mib / sw,
                        "sha_cores": sc / sw, "sha_per_core": mib / sc,
                        "runs": (pw_runs, sha_runs)}
        self.recheck["ratio"] = self.recheck["pw_per_core"] / self.recheck["sha_per_core"]
        R = self.recheck
        self.say(f"   recheck {R['pw_mibps']:.0f} MiB/s on {R['pw_cores']:.2f} cores "
                 f"({R['pw_per_core']:.0f} MiB/s per CPU second), sha1sum {R['sha_mibps']:.0f} "
                 f"MiB/s ({R['sha_per_core']:.0f} MiB/s per CPU second)")

    def case_many(self):
        n = self.a.many
        root = os.path.join(self.work, "many")
        data = os.path.join(root, "data")
        tdir = os.path.join(root, "t")
        os.makedirs(data, exist_ok=True)
        os.makedirs(tdir, exist_ok=True)
        rng = bs.random.Random(11)
        torrents = []
        for i in range(n):
            name = f"small{i:05d}.bin"
            bs.write_random(os.path.join(data, name), 64 * 1024 + rng.randrange(16384), rng)
            t = os.path.join(tdir, f"{i:05d}.torrent")
            bs.small_torrent(t, os.path.join(data, name), name)
            torrents.append(t)
        argv_bytes = sum(len(a) + 1 for a in [self.pw, "seed", *torrents]) + \
            sum(len(k) + len(v) + 2 for k, v in os.environ.items())
        arg_max = os.sysconf("SC_ARG_MAX")
        res = {"n": n, "argv_bytes": argv_bytes, "arg_max": arg_max}
        self.many = res
        if argv_bytes > arg_max:
            res["error"] = f"argv of {argv_bytes} bytes exceeds ARG_MAX {arg_max}"
            self.fail("many", res["error"])
            return
        for attempt in ("first start (full check)", "restart (resume data)"):
            try:
                p = self.pw_seeder(torrents, data, timeout=max(120, n * 0.2), interval="0.5",
                                   name="pw-many")
            except Exception as e:  # noqa: BLE001
                res["error"] = str(e)[:2000]
                self.fail(f"many: {attempt}", e)
                return
            time.sleep(2)
            rss, hwm = p.mem_kib("VmRSS"), p.mem_kib("VmHWM")
            cpu = p.cpu_now()
            p.stop(signal.SIGINT, grace=60)
            res.setdefault("runs", []).append({
                "what": attempt, "startup": p.startup, "rss": rss / 1024 if rss else None,
                "hwm": hwm / 1024 if hwm else None, "maxrss": p.maxrss_mib, "cpu": cpu,
                "exit": p.status})
            self.say(f"   many ({attempt}): {n} torrents seeding after {p.startup:.2f}s "
                     f"(status every 0.5s), RSS {fmt(rss and rss / 1024, '.1f')} MiB, peak "
                     f"{fmt(p.maxrss_mib, '.1f')} MiB, exit {p.status}")
        bs.drop_tree(root)

    def case_sparse(self):
        self.sparse = {}
        for content in self.a.sparse_content:
            self.sparse_one(content)

    def sparse_one(self, content):
        """`content` "zeros": all-zero pieces (one hash for all, as the issue suggests);
        "marked": the piece number written at the start of each piece, so every piece has its
        own hash (still sparse: one page per piece)."""
        size = self.a.sparse_size
        portion = min(self.a.sparse_portion, size)
        self.need_space(portion + size // 1024 + GIB // 4, "sparse download portion")
        root = os.path.join(self.work, "sparse")
        data = os.path.join(root, "data")
        os.makedirs(data, exist_ok=True)
        name = f"{content}.bin"
        piece = self.a.sparse_piece
        torrent = os.path.join(root, f"{content}.torrent")
        t0 = time.monotonic()
        if content == "zeros":
            with open(os.path.join(data, name), "wb") as f:
                f.truncate(size)
            bs.zero_torrent(torrent, name, size, piece)
        else:
            hashes = bs.marked_sparse_file(os.path.join(data, name), size, piece)
            bs.write_torrent(torrent, {"name": name, "piece length": piece, "pieces": hashes,
                                       "length": size})
        res = {"size": size, "portion": portion, "piece": piece,
               "prepare": time.monotonic() - t0}
        self.sparse[content] = res
        seeder = None
        try:
            seeder = self.pw_seeder([torrent], data, timeout=max(MIN_TIMEOUT,
                                                                 10 * size / (500 * MIB)),
                                    extra=["--recheck"], name=f"pw-sparse-seed-{content}")
            res["check_seconds"] = seeder.startup
            res["check_mibps"] = size / MIB / seeder.startup
            hwm = seeder.mem_kib("VmHWM")
            res["seed_hwm_after_check"] = hwm / 1024 if hwm else None
            self.say(f"   sparse {human(size)} ({content}): peerwire seed checked it in "
                     f"{seeder.startup:.1f}s ({res['check_mibps']:.0f} MiB/s), peak RSS "
                     f"{fmt(res['seed_hwm_after_check'], '.1f')} MiB")
            dl = os.path.join(root, "dl")
            os.makedirs(dl)
            p = self.spawn([self.pw, "download", torrent, "-d", dl, "--peer",
                            f"127.0.0.1:{seeder.port}", "--port", bs.free_port(), "--bind",
                            "127.0.0.1", "--no-seed", "--json", "--status-interval", "0.25",
                            "--no-preallocate"],  # a portion of 16 GiB: not all of its space
                           f"pw-sparse-dl-{content}")
            reader = JsonLines(p)

            def enough():
                reader.poll()
                return sum(t.get("verified_bytes", 0) for t in reader.latest.values()) >= portion
            timeout = max(MIN_TIMEOUT, 10 * portion / (300 * MIB))
            ok = bs.wait_until(enough, timeout, 0.05, alive=p.running)
            t1 = time.monotonic()
            got = sum(t.get("verified_bytes", 0) for t in reader.latest.values())
            p.stop(signal.SIGINT, grace=30)
            if not ok:
                raise RuntimeError(f"sparse download got {got} of {portion} bytes\n{p.describe()}")
            res["dl_bytes"] = got
            res["dl_mibps"] = got / MIB / (t1 - p.t_spawn)
            res["dl_maxrss"] = p.maxrss_mib
            res["dl_cpu"] = p.cpu_seconds
            self.say(f"   sparse ({content}): downloaded {human(got)} of it at "
                     f"{res['dl_mibps']:.0f} MiB/s, downloader peak RSS "
                     f"{fmt(res['dl_maxrss'], '.1f')} MiB")
        except Exception as e:  # noqa: BLE001
            self.fail(f"sparse ({content})", e)
        finally:
            if seeder is not None:
                self.stop_seeder(seeder)
                res["seed_maxrss"] = seeder.maxrss_mib
            bs.drop_tree(root)

    # -- driver ---------------------------------------------------------------------------------
    def run(self, cases):
        self.load_before = open("/proc/loadavg").read().split()[:3]
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.work = tempfile.mkdtemp(prefix="peerwire-transfer-bench.", dir=self.a.tmpdir)
        os.chmod(self.work, 0o755)
        self.say(f"== work directory {self.work} ({human(shutil.disk_usage(self.work).free)} free)")
        try:
            steps = []
            if "limits" in cases:
                steps.append(("limits", self.case_limits))
            pairs = [c for c in TRANSFER_CASES if c in cases]
            if pairs:
                for layout in self.a.layouts:
                    steps.append((f"transfers, {layout}",
                                  lambda layout=layout: self.case_transfers(layout, pairs)))
            for c, fn in (("recheck", self.case_recheck), ("swarm", self.case_swarm),
                          ("create", self.case_create), ("many", self.case_many),
                          ("sparse", self.case_sparse)):
                if c in cases:
                    steps.append((c, fn))
            for name, fn in steps:
                self.say(f"== {name}")
                try:
                    fn()
                except Skip as e:
                    self.fail(name, f"skipped: {e}")
                except Exception as e:  # noqa: BLE001
                    self.fail(name, f"{e}\n{traceback.format_exc()}")
        finally:
            for p in self.procs:
                if p.running():
                    p.stop(signal.SIGKILL, grace=5)
            if self.a.keep:
                self.say(f"kept {self.work}")
            else:
                bs.drop_tree(self.work)
        self.load_after = open("/proc/loadavg").read().split()[:3]


class JsonLines:
    """Incremental reader of a peerwire --json stdout: keeps the latest status per info-hash."""

    def __init__(self, proc):
        self.proc = proc
        self.pos = 0
        self.buf = b""
        self.latest = {}
        self.events = []

    def poll(self):
        try:
            with open(self.proc.out_path, "rb") as f:
                f.seek(self.pos)
                chunk = f.read()
        except OSError:
            return
        self.pos += len(chunk)
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            if not line.startswith(b"{"):
                continue
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") in ("status", "summary"):
                t = e["torrent"]
                self.latest[t.get("info_hash")] = t
            if e.get("event") == "summary":
                self.events.append(e)

    def all(self):
        self.poll()
        return self.events

    def count_state(self, state):
        return sum(1 for t in self.latest.values() if t.get("state") == state)


# ---------------------------------------------------------------------------------------------
# Report

def report(b, argv):
    a = b.a
    L = b.limits
    lines = []
    w = lines.append
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        if subprocess.run(["git", "-C", HERE, "status", "--porcelain"], capture_output=True,
                          text=True, timeout=30).stdout.strip():
            commit += " (with local changes)"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"

    def ver(argv):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (out.stdout + out.stderr).strip().splitlines()[0]
        except (OSError, subprocess.SubprocessError, IndexError):
            return "n/a"
    w(f"## Transfer benchmarks (`bench/transfer_bench.py`) — "
      f"{b.started.strftime('%Y-%m-%d %H:%M UTC')}")
    w("")
    w(f"- Command: `{' '.join(shlex.quote(x) for x in argv)}`")
    w(f"- Commit: {commit}; peerwire: `{b.pw}`")
    w(f"- Machine: {cpu}, {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}); load "
      f"average {' '.join(b.load_before)} before, {' '.join(b.load_after)} after")
    w(f"- Size {human(a.size)} per transfer, {a.runs} run(s) each (medians), layouts: "
      f"{', '.join(a.layouts)} (multi = {a.files} files); libtorrent "
      f"{ver([bs.LT_PYTHON, '-c', 'import libtorrent; print(libtorrent.__version__)'])} "
      f"(settings: {'lt.high_performance_seed()' if a.lt_tuning == 'hp' else 'defaults'} + "
      f"loopback-only, no DHT/LSD/UPnP/NAT-PMP/uTP, multiple connections per IP, MSE "
      f"{'off' if a.lt_encryption == 'off' else 'at its default policy'}), "
      f"{ver(['aria2c', '--version'])}, {ver(['transmission-cli', '--version'])}")
    w("")
    if L:
        w("### Machine limits")
        w("")
        w("| limit | MiB/s | runs |")
        w("|---|---:|---|")
        sha, tcp, wr, wrs = L["runs"]
        j = lambda v: " ".join(f"{x:.0f}" for x in v)  # noqa: E731
        w(f"| SHA-1, 1 core (`openssl speed -evp sha1 -seconds 3`, 16 KiB blocks) | "
          f"{fmt(L['sha1'], '.0f')} | {j(sha)} |")
        w(f"| loopback TCP copy of {human(a.size)} (`bench/tcp_copy.py`) | {fmt(L['tcp'], '.0f')} |"
          f" {j(tcp)} |")
        w(f"| `dd` write {human(a.size)}, page cache | {fmt(L['write'], '.0f')} | {j(wr)} |")
        w(f"| `dd` write {human(a.size)}, `conv=fdatasync` | {fmt(L['write_sync'], '.0f')} | "
          f"{j(wrs)} |")
        w(f"| **one-core limit** 1/(1/sha1 + 1/tcp + 1/write), page-cache write | "
          f"**{fmt(L.get('one_core'), '.0f')}** | |")
        w(f"| one-core limit with the fdatasync write speed | {fmt(L.get('one_core_sync'), '.0f')}"
          f" | |")
        w("")
    limit = L.get("one_core")
    for layout, pairs in b.results.items():
        lay = b.layouts.get(layout, {})
        w(f"### Transfers, {layout} ({human(a.size)}"
          f"{' in %d files' % a.files if layout == 'multi' else ', one file'}, "
          f"{lay.get('pieces', '?')} pieces of {human(lay.get('piece_length', 0))})")
        w("")
        w("| seeder → downloader | MiB/s (median) | runs MiB/s | vs lt→lt | of one-core limit |"
          " downloader CPU s/GiB | downloader peak RSS MiB |")
        w("|---|---:|---|---:|---:|---:|---:|")
        ref = med(pairs.get("lt-lt"), "mibps")
        for pair in TRANSFER_CASES:
            runs = pairs.get(pair)
            if runs is None:
                continue
            label = pair.replace("lt", "libtorrent").replace("-", " → ")
            ok = [x for x in runs if isinstance(x, dict)]
            if not ok:
                why = next((str(x) for x in runs if isinstance(x, Skip)), "failed")
                w(f"| {label} | {why} | | | | | |")
                continue
            m = med(ok, "mibps")
            w(f"| {label} | {m:.0f} | {' '.join('%.0f' % x['mibps'] for x in ok)} | "
              f"{fmt(m / ref, '.2f') + '×' if ref else 'n/a'} | "
              f"{fmt(100 * m / limit, '.0f') + '%' if limit else 'n/a'} | "
              f"{fmt(med(ok, 'cpu_per_gib'), '.2f')} | {fmt(max_(ok, 'rss'), '.0f')} |")
        w("")
    if b.swarm:
        w(f"### Swarm: one seeder, {a.swarm} concurrent downloaders "
          f"({(a.swarm + 1) // 2} libtorrent + {a.swarm // 2} peerwire), {human(a.swarm_size)} "
          f"each")
        w("")
        w("| seeder | aggregate download MiB/s | seeder upload MiB/s | seeder CPU s | "
          "seeder CPU s/GiB uploaded | seeder peak RSS MiB | median time lt / peerwire dl (s) |")
        w("|---|---:|---:|---:|---:|---:|---|")
        for kind in ("peerwire", "lt"):
            rs = b.swarm.get(kind)
            if not rs:
                continue
            up = med(rs, "seeder_up")
            c = med(rs, "seeder_cpu")
            wall = med(rs, "wall")
            w(f"| {'peerwire seed' if kind == 'peerwire' else 'libtorrent'} | "
              f"{med(rs, 'agg'):.0f} | {fmt(up, '.0f')} | {fmt(c, '.1f')} | "
              f"{fmt(c / (up * wall / 1024) if c and up else None, '.2f')} | "
              f"{fmt(max_(rs, 'seeder_hwm'), '.0f')} | "
              f"{fmt(bs.median([r['per_client']['lt'] for r in rs]), '.1f')} / "
              f"{fmt(bs.median([r['per_client']['peerwire'] for r in rs]), '.1f')} |")
        w("")
    if b.recheck:
        R = b.recheck
        w(f"### Full recheck of {human(a.size)} (page cache)")
        w("")
        w(f"- `peerwire download T --recheck --no-seed`: {R['pw_mibps']:.0f} MiB/s on "
          f"{R['pw_cores']:.2f} cores = **{R['pw_per_core']:.0f} MiB/s per core**, peak RSS "
          f"{R['pw_rss']:.0f} MiB (runs: "
          f"{' '.join('%.2fs/%.2fcpu' % (x['wall'], x['cpu']) for x in R['runs'][0])})")
        w(f"- `sha1sum FILE`: {R['sha_mibps']:.0f} MiB/s on {R['sha_cores']:.2f} cores = "
          f"**{R['sha_per_core']:.0f} MiB/s per core** (runs: "
          f"{' '.join('%.2fs/%.2fcpu' % (x['wall'], x['cpu']) for x in R['runs'][1])})")
        w("")
    if b.create:
        w(f"### `peerwire create` vs `mktorrent -t 2` (`bench/create_bench.sh`, "
          f"{human(max(16 * MIB, a.size))})")
        w("")
        w("```")
        w(b.create["text"])
        w("```")
        w("")
    if b.many:
        M = b.many
        w(f"### A session of {M['n']} small torrents (`peerwire seed T1 ... T{M['n']}`)")
        w("")
        w(f"argv {M['argv_bytes']} bytes (with the environment) of ARG_MAX {M['arg_max']}.")
        w("")
        if M.get("runs"):
            w("| start | seconds to all seeding (status every 0.5 s) | RSS MiB, 2 s later | "
              "peak RSS MiB | CPU s | exit |")
            w("|---|---:|---:|---:|---:|---:|")
            for r in M["runs"]:
                w(f"| {r['what']} | {r['startup']:.2f} | {fmt(r['rss'], '.1f')} | "
                  f"{fmt(r['maxrss'], '.1f')} | {fmt(r['cpu'], '.2f')} | {r['exit']} |")
        if M.get("error"):
            w(f"Failed: {M['error'][:500]}")
        w("")
    for content, S in (b.sparse or {}).items():
        how = "all pieces share one hash" if content == "zeros" else \
            "the piece number at the start of each piece, so each has its own hash"
        w(f"### Sparse torrent of {human(S['size'])}, {content} ({human(S['piece'])} pieces; "
          f"{how})")
        w("")
        w(f"- `peerwire seed --recheck`: checked in {fmt(S.get('check_seconds'), '.1f')} s "
          f"({fmt(S.get('check_mibps'), '.0f')} MiB/s), seeder peak RSS "
          f"{fmt(S.get('seed_maxrss'), '.1f')} MiB (after the check, before serving: "
          f"{fmt(S.get('seed_hwm_after_check'), '.1f')} MiB)")
        w(f"- `peerwire download` of the first {human(S.get('dl_bytes') or S['portion'])} from "
          f"it (then Ctrl-C): {fmt(S.get('dl_mibps'), '.0f')} MiB/s, downloader peak RSS "
          f"{fmt(S.get('dl_maxrss'), '.1f')} MiB")
        w("")
    w("### Targets (issue 6)")
    w("")
    w("| target | measured | met? |")
    w("|---|---|---|")
    for t, m, ok in targets(b):
        w(f"| {t} | {m} | {'met' if ok else ('**not met**' if ok is False else 'n/a')} |")
    w("")
    if b.failures:
        w("### Failures")
        w("")
        for f in b.failures:
            w(f"- {f.splitlines()[0][:300]}")
        w("")
    return "\n".join(lines)


def med(runs, key):
    if not runs:
        return None
    return bs.median([r.get(key) for r in runs if isinstance(r, dict)])


def max_(runs, key):
    v = [r.get(key) for r in runs or () if isinstance(r, dict) and r.get(key) is not None]
    return max(v) if v else None


def targets(b):
    out = []
    limit = b.limits.get("one_core")
    for layout, pairs in b.results.items():
        ll = med(pairs.get("lt-lt"), "mibps")
        pp = med(pairs.get("peerwire-peerwire"), "mibps")
        lp = med(pairs.get("lt-peerwire"), "mibps")
        pl = med(pairs.get("peerwire-lt"), "mibps")
        tag = f" ({layout})"

        def ratio(x, y, goal, text, unit="×"):
            if x is None or y is None:
                out.append((text + tag, "n/a", None))
            else:
                r = x / y
                out.append((text + tag, f"{r:.2f}{unit} ({x:.0f} / {y:.0f})",
                            r >= goal if goal is not None else None))
        ratio(pp, ll, 1.5, "peerwire→peerwire ≥ 1.5× lt→lt")
        if limit:
            if pp is None:
                out.append((f"peerwire→peerwire ≥ 70% of the one-core limit{tag}", "n/a", None))
            else:
                out.append((f"peerwire→peerwire ≥ 70% of the one-core limit{tag}",
                            f"{100 * pp / limit:.0f}% ({pp:.0f} / {limit:.0f} MiB/s)",
                            pp >= 0.7 * limit))
        ratio(lp, ll, 1.0, "lt seeder→peerwire ≥ 1.0× lt→lt")
        ratio(pl, ll, 1.2, "peerwire seeder→lt ≥ 1.2× lt seeder→lt")
        il = med(pairs.get("ideal-lt"), "mibps")
        if il is not None:
            ratio(il, ll, None, "ideal seeder→lt vs lt seeder→lt: the ceiling of the 1.2× target "
                  "(informational)")
            ratio(pl, il, None, "peerwire seeder→lt vs ideal seeder→lt (informational)")
        cl = med(pairs.get("lt-lt"), "cpu_per_gib")
        for case, how in (("lt-peerwire", ""), ("lt-peerwire+dio", ", --direct-io"),
                          ("lt-peerwire+sparse", ", --no-preallocate")):
            cp = med(pairs.get(case), "cpu_per_gib")
            text = f"downloader CPU s/GiB ≤ 0.6× libtorrent's (lt seeder{how}){tag}"
            if cl and cp:
                out.append((text, f"{cp / cl:.2f}× ({cp:.2f} / {cl:.2f} s/GiB)", cp <= 0.6 * cl))
            elif case in pairs:
                out.append((text, "n/a", None))
        rss = [x for x in (max_(pairs.get("lt-peerwire"), "rss"),
                           max_(pairs.get("peerwire-peerwire"), "rss")) if x is not None]
        out.append((f"peerwire downloader peak RSS ≤ 32 MiB, {human(b.a.size)}{tag}",
                    f"{max(rss):.1f} MiB" if rss else "n/a", max(rss) <= 32 if rss else None))
    for content, S in (b.sparse or {}).items():
        v = [x for x in (S.get("dl_maxrss"), S.get("seed_maxrss")) if x is not None]
        out.append((f"peak RSS ≤ 32 MiB, {human(S['size'])} sparse, {content} "
                    "(downloader / seeder)",
                    " / ".join(f"{x:.1f}" for x in v) + " MiB" if v else "n/a",
                    max(v) <= 32 if v else None))
    if b.create:
        r = b.create.get("ratio")
        out.append(("peerwire create ≥ 1.0× mktorrent -t 2", fmt(r, ".2f") + "×",
                    r >= 1.0 if r else None))
    if b.recheck:
        R = b.recheck
        out.append(("recheck ≥ 90% of sha1sum speed per core used",
                    f"{100 * R['ratio']:.0f}% ({R['pw_per_core']:.0f} / {R['sha_per_core']:.0f}"
                    f" MiB/s per CPU second)", R["ratio"] >= 0.9))
    if b.swarm.get("peerwire") and b.swarm.get("lt"):
        p, l = med(b.swarm["peerwire"], "agg"), med(b.swarm["lt"], "agg")
        out.append((f"swarm of {b.a.swarm}: peerwire seeder vs libtorrent seeder, aggregate "
                    "(no target; informational)", f"{p / l:.2f}× ({p:.0f} / {l:.0f} MiB/s)", None))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("peerwire", nargs="?",
                    default=os.path.join(HERE, "..", "build-bench", "app", "peerwire"))
    ap.add_argument("--size", type=parse_size, default=GIB, help="bytes per transfer (1G)")
    ap.add_argument("--runs", type=int, default=3, help="runs per case (3); medians")
    ap.add_argument("--only", default="", help="comma-separated cases: " + ",".join(ALL_CASES))
    ap.add_argument("--skip", default="", help="comma-separated cases to leave out")
    ap.add_argument("--out", help="also append the Markdown report to this file")
    ap.add_argument("--tmpdir", default="/tmp", help="where the temporary data goes (/tmp)")
    ap.add_argument("--layouts", default="single,multi", help="single,multi")
    ap.add_argument("--files", type=int, default=1000, help="files in the multi layout (1000)")
    ap.add_argument("--piece-size", default="auto", help="peerwire create --piece-size (auto)")
    ap.add_argument("--swarm", type=int, default=8, help="downloaders in the swarm case (8)")
    ap.add_argument("--swarm-size", type=parse_size, default=512 * MIB,
                    help="bytes per swarm downloader (512M: 8 x 512 MiB stays under the "
                         "kernel's dirty-page limit, so the swarm is not bound by the disk)")
    ap.add_argument("--many", type=int, default=1000, help="torrents in the many case (1000)")
    ap.add_argument("--sparse-size", type=parse_size, default=16 * GIB)
    ap.add_argument("--sparse-portion", type=parse_size, default=GIB,
                    help="how much of the sparse torrent to download (1G)")
    ap.add_argument("--sparse-piece", type=parse_size, default=4 * MIB)
    ap.add_argument("--sparse-content", default="zeros,marked",
                    help="zeros (one hash for every piece) and/or marked (each piece its own)")
    ap.add_argument("--lt-tuning", choices=("hp", "default"), default="hp",
                    help="libtorrent settings: hp = lt.high_performance_seed() (default)")
    ap.add_argument("--lt-encryption", choices=("off", "default"), default="off",
                    help="libtorrent's MSE: off (plain BitTorrent, the default) or its default "
                    "policy (dials with MSE first: ~1 s lost per connection to peerwire)")
    ap.add_argument("--verify", action="store_true", help="diff every download with the source")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    a.layouts = [x for x in a.layouts.split(",") if x]
    a.sparse_content = [x for x in a.sparse_content.split(",") if x]
    if any(x not in ("zeros", "marked") for x in a.sparse_content):
        ap.error("--sparse-content takes zeros and/or marked")
    if any(x not in ("single", "multi") for x in a.layouts):
        ap.error("--layouts takes single and/or multi")
    cases = [c for c in (a.only.split(",") if a.only else ALL_CASES) if c]
    unknown = [c for c in cases + [c for c in a.skip.split(",") if c] if c not in ALL_CASES]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; known: {', '.join(ALL_CASES)}")
    cases = [c for c in cases if c not in a.skip.split(",")]
    if a.runs < 1 or a.runs > 50:
        ap.error("--runs must be 1..50")
    if a.size < MIB:
        ap.error("--size must be at least 1M")
    if not os.access(a.peerwire, os.X_OK):
        ap.error(f"{a.peerwire} is not an executable (build it: make bench)")
    if any(c.startswith("lt-") or c.endswith("-lt") or c == "swarm" for c in cases) and \
            not bs.have_libtorrent():
        print(f"warning: {bs.LT_PYTHON} cannot import libtorrent; libtorrent cases will fail",
              file=sys.stderr)

    b = Bench(a)

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)
    b.run(cases)
    text = report(b, [os.path.relpath(sys.argv[0]) if not sys.argv[0].startswith("/") else
                      sys.argv[0], *sys.argv[1:]])
    print()
    print("===== transfer benchmark report =====")
    print(text)
    print("===== end of report =====")
    if a.out:
        with open(a.out, "a") as f:
            f.write("\n" + text + "\n")
        print(f"(appended to {a.out})")
    return 1 if b.failures else 0


if __name__ == "__main__":
    sys.exit(main())
