"""Hostile peers in one swarm: `peerwire download` is given an honest `peerwire seed` and fifteen
evil peers (tests/support/evil_peer.py, one misbehaviour each) with --peer, all at once.

Checks, per evil mode: peerwire drops the connection with the expected reason (its --trace
"closed: ..." line for that peer), bans the peers that sent corrupt data (its log line, the
`banned_peers` counter) and never dials a banned peer again; a request flood gets at most 500
blocks served; a peer sending unrequested blocks is cut off after about a thousand. Overall:
the download completes from the honest seeder with data byte-identical to the original, and
peerwire's peak RSS (VmHWM from /proc/PID/status) stays under MEMORY_BOUND.

The honest seeder is rate-limited (--upload-limit 1M, so >= 4 s for the 4 MiB torrent) so the
evil seeds get asked for blocks before the download is over. The downloader runs with
--seed-time so it stays up until every mode's outcome has been seen (some take time: a cut-off
handshake is dropped after the 10 s handshake timeout, a peer that never says which pieces it
has after 30 s), then it is stopped by SIGTERM.
"""
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import evil_peer  # noqa: E402
import pwtest  # noqa: E402
import swarm_support as ss  # noqa: E402
from pwtest import note  # noqa: E402

PIECE = 32 * 1024
SIZE = 4 * 1024 * 1024 + 5000  # 129 pieces: not a multiple of 8, so a bitfield has spare bits
OUTCOME_TIMEOUT = 90  # seconds for every mode's outcome and the download (typically ~35 s)

# Peak RSS bound for the downloader. What it may legitimately hold: the binary and its
# libraries (~10 MiB), the 4 MiB torrent's piece buffers in flight, up to 500 blocks (8 MiB) per
# peer waiting to be served to the flooder, the 16 MiB read cache, one decoder buffer per
# connection (<= 16 KiB + 13 bytes each: the 2^31 length prefix must not be believed), up to
# 64 suspect pieces kept to find liars (2 MiB here), and each socket's 16 MiB send-queue cap
# (never reached here). 96 MiB is about twice that total: an allocation sized by a hostile
# length prefix (2 GiB), or unbounded request/block queues, would blow through it.
MEMORY_BOUND = 96 * 1024 * 1024
# Under AddressSanitizer (make test-sanitize) shadow memory and the freed-memory quarantine
# (256 MiB by default) inflate RSS whatever the program does; the bound there only catches
# an allocation the size of a hostile length prefix (2 GiB).
SANITIZER_MEMORY_BOUND = 1024 * 1024 * 1024


def is_sanitizer_build(binary):
    """True when the binary carries the AddressSanitizer runtime."""
    marker = b"AddressSanitizer"
    with open(binary, "rb") as f:
        tail = b""
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return False
            if marker in tail + chunk:
                return True
            tail = chunk[-len(marker):]

# mode -> (where to look, regex the outcome must match)
EXPECTED = {
    "wrong_info_hash": ("closed", r"another info-hash"),
    "wrong_protocol": ("closed", r"bad handshake"),
    "cut_handshake": ("closed", r"handshake timed out"),
    "huge_length": ("closed", r"protocol error: message length 2147483648 is above the limit"),
    "bitfield_size": ("closed", r"protocol error: bitfield of \d+ bytes, expected 17"),
    "bitfield_spare": ("closed", r"protocol error: bitfield has bits set past the last"),
    "have_out_of_range": ("closed", r"protocol error: have #129: piece index out of range"),
    "request_out_of_range": ("closed", r"protocol error: request #129.*out of range"),
    "request_too_long": ("closed", r"protocol error: request .* block length must be 1 to"),
    "request_flood": ("closed", r"requests? .*refused|refused .*requests?"),
    "unrequested_blocks": ("closed", r"not requested|never requested|did not request"),
    "corrupt_all": ("banned", r"banned"),
    "corrupt_half": ("banned", r"banned"),
    "keepalive_only": ("closed", r"no bitfield, have all or have none"),
    "garbage": ("closed", r"protocol error"),
}


def vm_hwm(pid):
    """Peak resident set size of a process in bytes (VmHWM), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class MaliciousPeers(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="peerwire-evil-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.sample = ss.make_data(self.tmp, "evil.bin", SIZE, PIECE, seed=23)
        self.assertEqual(self.sample.piece_count, 129)

    def outcomes(self, proc, evils):
        """mode -> the first line showing its outcome (or None): the 'closed: ...' trace line
        for its address, or the log line that banned it."""
        closed = {}
        for _, peer, direction, text in proc.trace_lines():
            if direction == "<-" and text.startswith("closed: ") and text != "closed: ":
                closed.setdefault(peer, []).append(text[len("closed: "):])
        log = proc.stderr_text().splitlines()
        found = {}
        for mode, e in evils.items():
            where, pattern = EXPECTED[mode]
            if where == "banned":
                lines = [l for l in log if f"banned {e.address}:" in l]
            else:
                lines = closed.get(e.address, [])
            hit = next((l for l in lines if re.search(pattern, l)), None)
            found[mode] = (hit, lines)
        return found

    def test_evil_peers_are_dropped_and_the_download_completes(self):
        seed_port, dl_port = ss.free_ports(2)
        seeder = ss.PeerwireProc("seed", self.sample.torrent, self.sample.save_path,
                                 port=seed_port, extra=["--upload-limit", "1M"],
                                 status_interval=0.5, label="honest seeder")
        self.addCleanup(seeder.close)
        seeder.start()
        seeder.wait_state("seeding", timeout=60)
        seeder.wait_listening()

        evils = {}
        for i, mode in enumerate(evil_peer.MODES):
            e = evil_peer.EvilPeer(mode, self.sample, seed=i + 1)
            e.__enter__()
            self.addCleanup(e.__exit__, None, None, None)
            evils[mode] = e

        dest = os.path.join(self.tmp, "download")
        peers = [seed_port] + [e.address for e in evils.values()]
        dl = ss.PeerwireProc("download", self.sample.torrent, dest, port=dl_port, peers=peers,
                             extra=["--trace", "--seed-time", "10"], status_interval=0.5,
                             label="downloader")
        self.addCleanup(dl.close)
        t0 = time.monotonic()
        dl.start()

        deadline = t0 + OUTCOME_TIMEOUT
        complete_at = None
        while True:
            st = dl.last()
            if complete_at is None and st is not None and st["state"] in ("seeding", "finished"):
                complete_at = time.monotonic() - t0
            found = self.outcomes(dl, evils)
            missing = [m for m, (hit, _) in found.items() if hit is None]
            if complete_at is not None and not missing:
                break
            if not dl.alive():
                self.fail(f"downloader exited early\n{dl.tail()}")
            if time.monotonic() > deadline:
                detail = "\n".join(f"  {m}: expected /{EXPECTED[m][1]}/, saw {found[m][1][:3]}; "
                                   f"dialled {evils[m].connections}x, its log "
                                   f"{evils[m].log[-3:]}" for m in missing)
                self.fail(f"after {OUTCOME_TIMEOUT}s: complete at {complete_at}, no outcome "
                          f"for {missing}:\n{detail}\nlast status {st}\n{dl.tail(2500)}")
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
        peak = vm_hwm(dl.pid)
        st = dl.last()

        code = dl.terminate()
        self.assertEqual(code, 0, f"exit code after SIGTERM\n{dl.tail()}")
        seeder.terminate()

        # Data: complete and byte-identical.
        same, why = ss.same_content(self.sample, dest)
        self.assertTrue(same, why)
        summary = dl.summary()
        self.assertIsNotNone(summary, dl.tail())
        self.assertEqual(summary["verified_bytes"], SIZE)
        self.assertEqual(summary["pieces_have"], self.sample.piece_count)
        note(f"download complete after {complete_at:.1f} s with 15 evil peers attached, "
             f"byte-identical; every outcome seen after {elapsed:.1f} s")

        # Per mode.
        found = self.outcomes(dl, evils)
        for mode, (hit, lines) in found.items():
            note(f"{mode:21} dialled {evils[mode].connections}x  -> {hit.strip()[:110]}")
        for mode in ("corrupt_all", "corrupt_half"):
            self.assertEqual(evils[mode].connections, 1,
                             f"{mode}: a banned peer was dialled again")
        self.assertGreaterEqual(summary["banned_peers"], 2, summary)
        self.assertGreaterEqual(summary["hash_failures"], 1, summary)

        # Bounded work for the flooder and the unrequested-block sender.
        served = {}
        received = {}
        for _, peer, direction, text in dl.trace_lines():
            if direction == "->" and text.startswith("piece "):
                served[peer] = served.get(peer, 0) + 1
            if direction == "<-" and text.startswith("piece "):
                received[peer] = received.get(peer, 0) + 1
        flood = served.get(evils["request_flood"].address, 0)
        note(f"request_flood: {flood} blocks served for {evil_peer.FLOOD_REQUESTS} requests "
             f"per connection")
        self.assertLessEqual(flood, 500 * evils["request_flood"].connections,
                             "more than 500 blocks served per connection to the flooder")
        junk = received.get(evils["unrequested_blocks"].address, 0)
        per_conn = junk / max(1, evils["unrequested_blocks"].connections)
        note(f"unrequested_blocks: {junk} blocks received over "
             f"{evils['unrequested_blocks'].connections} connection(s) before each drop")
        self.assertLess(per_conn, evil_peer.UNREQUESTED_BLOCKS,
                        "the unrequested-block sender was never cut off")

        # Memory.
        self.assertIsNotNone(peak, "no VmHWM in /proc")
        bound = SANITIZER_MEMORY_BOUND if is_sanitizer_build(pwtest.PEERWIRE) else MEMORY_BOUND
        note(f"peak RSS (VmHWM) {peak / 2**20:.1f} MiB <= bound {bound / 2**20:.0f} MiB; "
             f"last status: {st['peers']} peers, {st['banned_peers']} banned")
        self.assertLessEqual(peak, bound)


if __name__ == "__main__":
    pwtest.main()
