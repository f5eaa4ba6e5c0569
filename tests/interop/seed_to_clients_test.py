"""`peerwire seed` to real downloaders: libtorrent 2.0, Transmission 3.00 and aria2 1.36, each
downloading alone from peerwire (the only seeder) into an empty directory.

The torrent is the multi-file one of download_from_clients_test.py (~3.7 MiB, 120 pieces of
32 KiB, two empty files, a short last piece); peerwire seeds the original data with

    peerwire seed T -d DATA --bind 127.0.0.1 --port P --json --status-interval 0.25

Through opentracker (a fresh one per case, the info-hash whitelisted, T announcing to it):
  - libtorrent, aria2: peerwire starts first; once it says "seeding" and the tracker lists it
    as a seeder, the client starts, gets peerwire's address from the tracker and dials it.
  - Transmission never dials loopback peers, and opentracker's re-announce interval is ~30 min
    (peerwire has no option to shorten it), so the order is reversed: Transmission starts first
    and peerwire only once the tracker lists Transmission as a leecher; peerwire's first
    announce then returns Transmission's address and peerwire dials it.
Without a tracker (the torrent has no announce URL):
  - libtorrent dials peerwire (connect_peer to peerwire's --port);
  - peerwire dials libtorrent, and Transmission, given with --peer;
  - a plain-Python leecher replays aria2's message order (have none, haves, then a bitfield
    for its new pieces) and checks peerwire still answers requests afterwards.

Each case checks: the client reports the download complete within the time limit (a case
fails early, after 10 s, when peerwire has uploaded something and then has had no peer since:
the client is gone and will not come back), its files are byte-identical to the data (empty
files included -- except for Transmission 3.00, which never creates zero-length files, whoever
seeds), and peerwire -- stopped with SIGINT, the normal end of seeding -- exits 0 with a summary
in state "seeding" that counts at least the torrent's size as uploaded. The client's time from
its start, and from peerwire's start, to complete is printed.

PEERWIRE_TEST_TRACE=1 in the environment adds --trace to peerwire (shown on failure).
"""
import os
import shutil
import socket
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import peers  # noqa: E402
import pwtest  # noqa: E402
import tracker_fixture as tf  # noqa: E402
from pwtest import note  # noqa: E402

TRACE = os.environ.get("PEERWIRE_TEST_TRACE") == "1"
HAVE_LT = peers.have_libtorrent()


class SeedToClientsTest(tf.SampleCase):

    def setUp(self):
        super().setUp()
        # peerwire keeps resume data in DATA/.peerwire: each case starts from a fresh copy of
        # the data, so each one checks it (and no case depends on another's resume file).
        self.data = os.path.join(self.case_dir, "data")
        shutil.copytree(self.sample.save_path, self.data)

    # -- helpers ------------------------------------------------------------------------------
    def start_seed(self, torrent, *extra):
        """Starts `peerwire seed` (added to cleanup) and waits until it says "seeding"."""
        args = ["seed", torrent, "-d", self.data, "--bind", "127.0.0.1",
                "--port", peers.free_port(), "--json", "--status-interval", "0.25", *extra]
        if TRACE:
            args.append("--trace")
        pw = tf.PeerwireRun(args).start()
        self.addCleanup(pw.cleanup)
        self.port = int(args[args.index("--port") + 1])
        st = pw.wait_status(lambda t: t["state"] in ("seeding", "error"), timeout=30)
        self.assertIsNotNone(st, f"peerwire seed never said 'seeding'\n{pw.describe()}")
        self.assertEqual(st["state"], "seeding", f"{st}\n{pw.describe()}")
        self.assertEqual(st["verified_bytes"], self.sample.total_size, st)
        return pw

    def leech(self, leecher, timeout, pw, stall=10):
        """Waits until the client is done; returns its seconds from start to complete. Fails
        after `timeout` s, or sooner when the transfer has stalled: peerwire uploaded something,
        then had no peer for `stall` s (the client dropped or was dropped, and did not come
        back: aria2 does not redial a peer that closed on it)."""
        deadline = time.monotonic() + timeout
        alone_since = None
        why = f"did not complete within {timeout}s"
        while True:
            seconds = leecher.wait_done(0.5)
            if seconds is not None:
                return seconds
            st = pw.last_status() or {}
            if st.get("uploaded", 0) > 0 and st.get("peers", 1) == 0:
                alone_since = alone_since or time.monotonic()
                if time.monotonic() - alone_since > stall:
                    why = (f"stalled: peerwire has had no peer for {stall}s after uploading "
                           f"{st['uploaded']} of {self.sample.total_size} bytes")
                    break
            else:
                alone_since = None
            if time.monotonic() > deadline or leecher.proc.poll() is not None:
                break
        hint = "" if TRACE else " (PEERWIRE_TEST_TRACE=1 shows peerwire's messages)"
        self.fail(f"{leecher.kind} {why}, from peerwire on port {self.port}{hint}; peerwire's "
                  f"last status {pw.last_status()}\n{leecher.kind} log:\n{leecher.log_tail()}\n"
                  f"{pw.stop_and_describe()}")

    def finish(self, leecher, pw, seconds, how):
        s = self.sample
        # Transmission 3.00 never creates zero-length files (measured with a libtorrent seeder
        # dialling it too): for it, the two empty files may be missing.
        lax = leecher.kind == "transmission"
        got = os.path.join(leecher.download_dir, s.name)
        diffs = tf.tree_differences(s.content, got, ignore_missing_empty=lax)
        self.assertEqual(diffs, [], f"{leecher.kind}'s download differs from the data\n"
                                    f"{leecher.log_tail()}")
        empties = sum(1 for p, n in s.file_sizes.items()
                      if n == 0 and os.path.exists(os.path.join(got, p)))
        leecher.stop()
        code = pw.interrupt()
        self.assertEqual(code, 0, f"peerwire seed after SIGINT\n{pw.describe()}")
        summary = pw.summary()
        self.assertIsNotNone(summary, f"no summary line\n{pw.describe()}")
        self.assertEqual(summary["state"], "seeding", pw.describe())
        self.assertEqual(summary["info_hash"], s.info_hash)
        self.assertGreaterEqual(summary["uploaded"], s.total_size,
                                f"peerwire was the only seeder\n{pw.describe()}")
        self.assertEqual(summary["downloaded"], 0)
        note(f"peerwire seed -> {leecher.kind} ({how}): {len(s.file_sizes)} files "
             f"byte-identical ({empties} of 2 empty files created), complete {seconds:.2f} s "
             f"after the client started, {leecher.done_at - pw.started:.2f} s after peerwire "
             f"started "
             f"({s.total_size / seconds / 2**20:.1f} MiB/s); peerwire uploaded "
             f"{summary['uploaded']} B, exit 0 after SIGINT")

    def tracker_and_torrent(self):
        tracker = tf.OpenTracker([self.sample.info_hash]).start()
        self.addCleanup(tracker.stop)
        t = tf.tracked_copy(self.sample, tracker.url, os.path.join(self.case_dir, "t.torrent"))
        return tracker, t.torrent

    def via_tracker_peerwire_first(self, leecher_cls, timeout):
        tracker, torrent = self.tracker_and_torrent()
        pw = self.start_seed(torrent)
        swarm = tracker.wait_swarm(self.sample.info_hash, seeders=1, timeout=20)
        with leecher_cls(torrent) as leecher:
            seconds = self.leech(leecher, timeout, pw)
            self.finish(leecher, pw, seconds, f"via opentracker, peerwire announced first: "
                                              f"{swarm}")

    # -- through opentracker ------------------------------------------------------------------
    @unittest.skipUnless(HAVE_LT, "python3-libtorrent is not installed")
    @unittest.skipUnless(tf.OPENTRACKER, "opentracker is not installed")
    def test_libtorrent_downloads_via_tracker(self):
        self.via_tracker_peerwire_first(tf.LibtorrentLeecher, timeout=45)

    @unittest.skipUnless(peers.ARIA2C, "aria2c is not installed")
    @unittest.skipUnless(tf.OPENTRACKER, "opentracker is not installed")
    def test_aria2_downloads_via_tracker(self):
        self.via_tracker_peerwire_first(tf.Aria2TrackerLeecher, timeout=45)

    @unittest.skipUnless(peers.TRANSMISSION_CLI, "transmission-cli is not installed")
    @unittest.skipUnless(tf.OPENTRACKER, "opentracker is not installed")
    def test_transmission_downloads_via_tracker(self):
        tracker, torrent = self.tracker_and_torrent()
        with tf.TransmissionLeecher(torrent) as leecher:
            swarm = tracker.wait_swarm(self.sample.info_hash, leechers=1, timeout=30)
            pw = self.start_seed(torrent)
            seconds = self.leech(leecher, 90, pw)
            self.finish(leecher, pw, seconds,
                        f"via opentracker, Transmission announced first: {swarm}")

    # -- no tracker ---------------------------------------------------------------------------
    @unittest.skipUnless(HAVE_LT, "python3-libtorrent is not installed")
    def test_libtorrent_dials_peerwire_without_tracker(self):
        pw = self.start_seed(self.sample.torrent)
        with tf.LibtorrentLeecher(self.sample.torrent, peers=[self.port]) as leecher:
            seconds = self.leech(leecher, 45, pw)
            self.finish(leecher, pw, seconds, "no tracker, libtorrent connect_peer")

    @unittest.skipUnless(HAVE_LT, "python3-libtorrent is not installed")
    def test_peerwire_dials_libtorrent_with_peer_option(self):
        with tf.LibtorrentLeecher(self.sample.torrent) as leecher:
            self.wait_listening(leecher)
            pw = self.start_seed(self.sample.torrent, "--peer", f"127.0.0.1:{leecher.port}")
            seconds = self.leech(leecher, 45, pw)
            self.finish(leecher, pw, seconds, "no tracker, peerwire seed --peer")

    @unittest.skipUnless(peers.TRANSMISSION_CLI, "transmission-cli is not installed")
    def test_peerwire_dials_transmission_with_peer_option(self):
        with tf.TransmissionLeecher(self.sample.torrent) as leecher:
            self.wait_listening(leecher)
            pw = self.start_seed(self.sample.torrent, "--peer", f"127.0.0.1:{leecher.port}")
            seconds = self.leech(leecher, 90, pw)
            self.finish(leecher, pw, seconds, "no tracker, peerwire seed --peer")

    # -- aria2's message order, replayed ------------------------------------------------------
    def test_bitfield_after_haves_like_aria2(self):
        """aria2 1.36 (DefaultBtInteractive::checkHave) announces its new pieces with one
        bitfield instead of several haves, at any point of a connection: have none, ..., have
        #56, have #70, have #19, ..., bitfield 9/120. A plain-Python leecher replays that order;
        peerwire must keep serving it (the reply to a request after the bitfield)."""
        pw = self.start_seed(self.sample.torrent)
        n = self.sample.piece_count

        def check(ok, what):  # the output is complete only once peerwire has exited
            if not ok:
                self.fail(f"{what}\n{pw.stop_and_describe()}")

        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(b"\x13BitTorrent protocol" + bytes([0, 0, 0, 0, 0, 0x10, 0, 0x04]) +
                         bytes.fromhex(self.sample.info_hash) + b"-XX0000-aria2order00")
            reply = _recv_exact(sock, 68)
            check(len(reply) == 68, f"handshake reply {reply!r}")

            def send(mid, payload=b""):
                sock.sendall(struct.pack(">IB", 1 + len(payload), mid) + payload)

            send(15)  # have none
            send(2)   # interested
            check(_wait_message(sock, {1}), "no unchoke")
            got = []
            for index in (0, 1, 2):
                send(6, struct.pack(">III", index, 0, 16384))
                got.append(_wait_message(sock, {7}))
            check(all(got), f"pieces for the first requests: {got}")
            send(4, struct.pack(">I", 0))  # have #0
            bits = bytearray((n + 7) // 8)
            for index in (0, 1, 2):
                bits[index // 8] |= 0x80 >> (index % 8)
            try:
                send(5, bytes(bits))  # bitfield 3/n pieces, after a have (as aria2 does)
                send(6, struct.pack(">III", 3, 0, 16384))
                answer = _wait_message(sock, {7})
            except OSError as e:
                answer = e
        check(answer and not isinstance(answer, OSError),
              f"peerwire closed the connection (or stopped answering: {answer!r}) after a "
              f"bitfield that followed have messages; aria2 sends exactly that, so peerwire "
              f"cannot seed to aria2")
        note("a bitfield after have messages (aria2's order): peerwire keeps serving requests")

    def wait_listening(self, leecher, timeout=20):
        deadline = time.monotonic() + timeout
        while not peers.port_listening(leecher.port):
            if leecher.proc.poll() is not None or time.monotonic() > deadline:
                self.fail(f"{leecher.kind} not listening on {leecher.port}\n{leecher.log_tail()}")
            time.sleep(0.05)


def _recv_exact(sock, n, timeout=10):
    """Up to n bytes (fewer on EOF, reset or timeout)."""
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


def _wait_message(sock, ids, timeout=10):
    """Reads messages until one whose id is in `ids` arrives: returns (id, payload), or None on
    EOF / reset / timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        head = _recv_exact(sock, 4, max(0.01, deadline - time.monotonic()))
        if len(head) < 4:
            return None
        length = struct.unpack(">I", head)[0]
        if length == 0:
            continue  # keep-alive
        body = _recv_exact(sock, length, max(0.01, deadline - time.monotonic()))
        if len(body) < length:
            return None
        if body[0] in ids:
            return body[0], body[1:]
    return None


if __name__ == "__main__":
    pwtest.main()
