"""A full or read-only disk pauses a download instead of ending it (torrent_state::paused_disk).

The download directory is a small tmpfs mounted in a private mount namespace: a holder process
(`unshare --mount ... sleep`) owns the namespace, the mounts are made and changed with
`nsenter --target HOLDER --mount`, and `peerwire download` runs in it through nsenter (which
execs, so the PID we stop is peerwire's). Nothing is mounted in the test's own namespace; the
tmpfs disappears with the holder, which is stopped by PID. Needs root (or unprivileged user
namespaces): skipped with the reason otherwise.

Cases:
- disk full: a 1 MiB tmpfs for a 4 MiB torrent. The download pauses (state paused_disk, the
  error says the disk is full), keeps the pieces it verified (verified_bytes stays put and is
  less than the space, nothing more is downloaded while paused, the process does not exit),
  at once by default (the file is allocated in full before its first piece is written), or
  with --no-preallocate once the pieces written so far have filled the space;
  then the tmpfs is grown (mount -o remount,size=) and the download completes with
  byte-identical data (compared inside the namespace) and exit 0 on SIGTERM.
- permission denied: peerwire runs as user nobody (setpriv); the torrent's directory holds an
  empty, writable first file but is itself not writable, so the second file cannot be created;
  the download pauses with "permission denied" (the first file's pieces verified and kept), and
  completes once the directory is made writable. (A read-only remount cannot be used: the kernel refuses it with
  EBUSY while files are open for writing.)
- Ctrl-C while paused: SIGTERM stops it promptly with exit 0 and a summary in state
  paused_disk.
"""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
import swarm_support as ss  # noqa: E402
from pwtest import note  # noqa: E402

SIZE = 4 * 1024 * 1024 + 12345
PIECE = 64 * 1024
RETRY = "0.3"  # --disk-retry seconds: the retry loop is exercised many times per case
UNSHARE = shutil.which("unshare")
NSENTER = shutil.which("nsenter")
SETPRIV = shutil.which("setpriv")
NOBODY = 65534


def _die_with_parent():
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort
        pass


class Namespace:
    """A private mount namespace kept alive by a holder process; run commands inside it."""

    def __init__(self):
        self.holder = None
        self.user_ns = os.geteuid() != 0  # unprivileged: a user namespace too (unshare -r)

    def start(self):
        if not UNSHARE or not NSENTER:
            return "unshare/nsenter (util-linux) not installed"
        argv = [UNSHARE, "--mount", "--propagation", "private"]
        if self.user_ns:
            argv.insert(1, "--map-root-user")
        # The holder lives at most 10 minutes whatever happens; normally stopped by PID.
        self.holder = subprocess.Popen(argv + ["sleep", "600"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        mine = os.readlink("/proc/self/ns/mnt")
        while time.monotonic() < deadline:
            if self.holder.poll() is not None:
                return f"unshare failed: {self.holder.stderr.read().decode(errors='replace')}"
            try:
                if os.readlink(f"/proc/{self.holder.pid}/ns/mnt") != mine:
                    return None
            except OSError:
                pass
            time.sleep(0.02)
        return "unshare did not enter a new mount namespace within 10 s"

    def prefix(self):
        argv = [NSENTER, "--target", str(self.holder.pid), "--mount"]
        if self.user_ns:
            argv += ["--user", "--preserve-credentials"]
        return argv + ["--"]

    def run(self, *argv, check=True):
        proc = subprocess.run(self.prefix() + [str(a) for a in argv], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=30)
        if check and proc.returncode != 0:
            raise AssertionError(f"{argv}: exit {proc.returncode}: "
                                 f"{proc.stderr.decode(errors='replace')}")
        return proc

    def stop(self):
        if self.holder is None:
            return
        if self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait(timeout=10)
        self.holder.stderr.close()


class DiskPause(pwtest.TempDirCase):

    def setUp(self):
        super().setUp()
        os.chmod(self.tmp, 0o755)  # the unprivileged downloader reads the torrent from here
        self.sample = ss.make_data(self.tmp, "disk.bin", SIZE, PIECE, seed=5)
        with open(self.sample.content, "rb") as f:
            self.expected_sha1 = hashlib.sha1(f.read()).hexdigest()
        self.seed_port, self.dl_port = ss.free_ports(2)
        self.seeder = None

    def start_seeder(self, sample):
        self.seeder = ss.PeerwireProc("seed", sample.torrent, sample.save_path,
                                      port=self.seed_port, status_interval=0.5, label="seeder")
        self.addCleanup(self.seeder.close)
        self.seeder.start()
        self.seeder.wait_state("seeding", timeout=60)
        self.seeder.wait_listening()

    def use_tmpfs(self):
        """Mounts a 1 MiB tmpfs at self.mnt in a private namespace, or skips the test."""
        self.ns = Namespace()
        self.addCleanup(self.ns.stop)
        why = self.ns.start()
        if why is None:
            self.mnt = self.path("mnt")
            os.makedirs(self.mnt)
            probe = self.ns.run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", self.mnt,
                                check=False)
            if probe.returncode != 0:
                why = f"cannot mount a tmpfs: {probe.stderr.decode(errors='replace').strip()}"
        if why is not None:
            self.skipTest(f"no private tmpfs for the download directory: {why}")
        self.start_seeder(self.sample)

    def downloader(self, *extra):
        dl = ss.PeerwireProc("download", self.sample.torrent, self.mnt, port=self.dl_port,
                             peers=[self.seed_port], status_interval=0.2,
                             extra=["--disk-retry", RETRY, *extra],
                             argv_prefix=self.ns.prefix(), label="downloader")
        self.addCleanup(dl.close)
        return dl.start()

    def data_sha1_inside(self):
        out = self.ns.run("sha1sum", os.path.join(self.mnt, "disk.bin")).stdout.decode()
        return out.split()[0]

    def wait_paused(self, dl, word):
        st = dl.wait_state("paused_disk", timeout=60)
        self.assertIn(word, st["error"].lower(), st)
        self.assertIn("cannot write piece", st["error"], st)
        self.assertLess(st["verified_bytes"], SIZE)
        return st

    def assert_stays_paused(self, dl, seconds=1.5):
        """While paused nothing more is verified or downloaded, and the process keeps running.
        Blocks already on their way when it paused (the seeder's send queue holds up to 1 MiB,
        and the sockets more) still arrive; under ASan on a busy machine they can take longer
        than a status interval. So the window starts once `downloaded` has settled: two status
        lines 0.2 s apart that agree, within 10 s (a download that never stops fails below)."""
        first = dl.next_status()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            nxt = dl.next_status()
            if nxt["downloaded"] == first["downloaded"]:
                break
            first = nxt
        time.sleep(seconds)
        later = dl.next_status()
        self.assertTrue(dl.alive(), "the download exited while paused")
        self.assertEqual(later["state"], "paused_disk", later)
        self.assertEqual(later["verified_bytes"], first["verified_bytes"], (first, later))
        self.assertEqual(later["pieces_have"], first["pieces_have"], (first, later))
        self.assertLessEqual(later["downloaded"] - first["downloaded"], 2 * PIECE,
                             "still downloading while paused")
        return later

    def test_disk_full_pauses_then_completes_when_space_is_added(self):
        self.disk_full_case(sparse=False)

    def test_disk_full_with_sparse_files_pauses_then_completes(self):
        self.disk_full_case(sparse=True)

    def disk_full_case(self, sparse):
        self.use_tmpfs()
        dl = self.downloader("--seed-time", "10", *(["--no-preallocate"] if sparse else []))
        st = self.wait_paused(dl, "full")
        if sparse:
            # Pieces are written until the space runs out: they stay verified.
            self.assertGreater(st["verified_bytes"], 0, st)
            self.assertLessEqual(st["verified_bytes"], 1 << 20, "claims more than fits in 1 MiB")
        else:
            # The file is allocated in full before its first piece is written: that fails.
            self.assertEqual(st["verified_bytes"], 0, st)
            self.assertIn("cannot allocate", st["error"])
        st = self.assert_stays_paused(dl)
        note(f"1 MiB tmpfs, {'sparse' if sparse else 'preallocated'}: paused_disk with "
             f"{st['verified_bytes']} of {SIZE} bytes verified: {st['error']!r}; stays paused, "
             f"nothing downloaded meanwhile")
        self.ns.run("mount", "-o", "remount,size=16m", self.mnt)
        t0 = time.monotonic()
        dl.wait_state("seeding", timeout=60)
        resumed = time.monotonic() - t0
        self.assertEqual(self.data_sha1_inside(), self.expected_sha1, "data differs")
        self.assertEqual(dl.terminate(), 0, dl.tail())
        summary = dl.summary()
        self.assertEqual(summary["verified_bytes"], SIZE, summary)
        self.assertEqual(summary["error"], "", summary)
        self.assertEqual(summary["hash_failures"], 0, summary)
        note(f"tmpfs grown to 16 MiB: complete {resumed:.1f} s later, byte-identical, exit 0")

    def test_permission_denied_pauses_then_completes_when_writable(self):
        # A read-only remount is refused while peerwire holds files open for writing (EBUSY),
        # so the not-writable case is a directory without write permission: the second file
        # cannot be created there (EACCES). Root ignores permissions, so peerwire runs as user
        # nobody (setpriv).
        if not SETPRIV:
            self.skipTest("setpriv (util-linux) is not installed")
        if os.geteuid() != 0:
            self.skipTest("needs root to run peerwire as another user (nobody)")
        files = {"a.bin": 2 * 1024 * 1024 + 100, "sub/b.bin": 1024 * 1024 + 7}
        sample = ss.make_data(self.path("multi"), "perm", 0, PIECE, files=files, seed=6)
        os.chmod(self.path("multi"), 0o755)
        self.start_seeder(sample)
        dest = self.path("dest")
        top = os.path.join(dest, "perm")
        os.makedirs(top)
        # a.bin exists (empty, writable by nobody) but the directory is not writable: a.bin's
        # pieces are written, while sub/b.bin cannot be created (EACCES) -- no race with the
        # order in which pieces arrive.
        open(os.path.join(top, "a.bin"), "wb").close()
        for p in (dest, top, os.path.join(top, "a.bin")):
            os.chown(p, NOBODY, NOBODY)
        os.chmod(top, 0o555)
        dl = ss.PeerwireProc("download", sample.torrent, dest, port=self.dl_port,
                             peers=[self.seed_port], status_interval=0.2,
                             extra=["--disk-retry", RETRY, "--seed-time", "10"],
                             argv_prefix=[SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}",
                                          "--clear-groups", "--"], label="downloader")
        self.addCleanup(dl.close)
        dl.start()
        st = self.wait_paused(dl, "permission denied")
        self.assertLess(st["verified_bytes"], sample.total_size)
        st = self.assert_stays_paused(dl)
        note(f"directory made read-only: paused_disk at {st['verified_bytes']} bytes: "
             f"{st['error']!r}")
        os.chmod(top, 0o755)
        dl.wait_state("seeding", timeout=60)
        same, why = ss.same_content(sample, dest)
        self.assertTrue(same, why)
        self.assertEqual(dl.terminate(), 0, dl.tail())
        note("write permission given back: complete and byte-identical, exit 0")

    def test_interrupt_while_paused_exits_0(self):
        self.use_tmpfs()
        dl = self.downloader("--no-seed")
        self.wait_paused(dl, "full")
        t0 = time.monotonic()
        code = dl.terminate(timeout=20)
        took = time.monotonic() - t0
        self.assertEqual(code, 0, dl.tail())
        summary = dl.summary()
        self.assertIsNotNone(summary, dl.tail())
        self.assertEqual(summary["state"], "paused_disk", summary)
        self.assertLess(took, 15)
        note(f"SIGTERM while paused: exit 0 after {took:.1f} s, summary state paused_disk")


if __name__ == "__main__":
    pwtest.main()
