"""A peerwire-only swarm on 127.0.0.1: one `peerwire seed` and four `peerwire download`
processes, no tracker: every leecher is given the seeder and every other leecher with --peer.

The torrent is 16 MiB in 512 pieces of 32 KiB. The seeder's upload is limited (--upload-limit
2M), so serving four leechers alone would take >= 32 s; the leechers have to trade pieces among
themselves. They run with --seed-time 10 (minutes) so that a finished leecher keeps serving the
others; once all four are complete they are stopped by SIGTERM (exit 0) and their --json
summaries are read.

Checks: every leecher completes with data byte-identical to the seeder's; each leecher uploaded
to the others (its `uploaded` counter > 0), the leechers together uploaded a good share of what
they downloaded, the seeder uploaded less than the 4 x 16 MiB it would have had to send alone,
and bytes sent == bytes received over the whole swarm (within what was in flight at the stop);
no hash failures, no bans; every leecher was connected to all four others at some point (both
sides of each pair dial at once). Each leecher's own upload is printed, not asserted: one leecher
tends to relay most of the data (see the next case).

Fair share of a rate-limited seeder: three leechers that know only the seeder (--upload-limit
1M), all unchoked by it; over 6 s each must receive at least a third of its fair share.
"""
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
import swarm_support as ss  # noqa: E402
from pwtest import note  # noqa: E402

SIZE = 16 << 20
PIECE = 32 << 10
LEECHERS = 4
SEED_LIMIT = "2M"
SEED_LIMIT_BYTES = 2 << 20
COMPLETE_TIMEOUT = 150  # all four complete; alone the seeder would need ~33 s at 2 MiB/s


class SwarmTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="peerwire-swarm-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.sample = ss.make_data(self.tmp, "swarm.bin", SIZE, PIECE, seed=11)
        self.assertEqual(self.sample.piece_count, SIZE // PIECE)

    def test_four_leechers_trade_pieces(self):
        ports = ss.free_ports(LEECHERS + 1)
        seed_port, leech_ports = ports[0], ports[1:]
        seeder = ss.PeerwireProc("seed", self.sample.torrent, self.sample.save_path,
                                 port=seed_port, extra=["--upload-limit", SEED_LIMIT],
                                 status_interval=0.5, label="seeder")
        self.addCleanup(seeder.close)
        seeder.start()
        seeder.wait_state("seeding", timeout=60)
        seeder.wait_listening()

        leechers = []
        for i, port in enumerate(leech_ports):
            others = [seed_port] + [p for p in leech_ports if p != port]
            d = os.path.join(self.tmp, f"leecher{i}")
            lp = ss.PeerwireProc("download", self.sample.torrent, d, port=port, peers=others,
                                 extra=["--seed-time", "10"], status_interval=0.5,
                                 label=f"leecher{i}")
            self.addCleanup(lp.close)
            leechers.append(lp)
        t0 = time.monotonic()
        for lp in leechers:
            lp.start()

        # Wait until every leecher has all the data (seeding), all still running.
        done_at = {}
        deadline = t0 + COMPLETE_TIMEOUT
        while len(done_at) < LEECHERS:
            for i, lp in enumerate(leechers):
                if i in done_at:
                    continue
                st = lp.last()
                if st is not None and st["state"] in ("seeding", "finished"):
                    done_at[i] = time.monotonic() - t0
                elif not lp.alive():
                    self.fail(f"leecher{i} exited before completing\n{lp.tail()}")
            if time.monotonic() > deadline:
                status = {f"leecher{i}": (lp.last() or {}).get("verified_bytes")
                          for i, lp in enumerate(leechers)}
                self.fail(f"not all leechers complete within {COMPLETE_TIMEOUT}s: {status}\n"
                          + "\n".join(lp.tail(1500) for lp in leechers) + "\n" + seeder.tail())
            time.sleep(0.1)
        elapsed = max(done_at.values())

        # Stop everyone by PID (SIGTERM): exit 0 with a summary each.
        codes = [lp.terminate() for lp in leechers]
        seed_code = seeder.terminate()
        for i, (lp, code) in enumerate(zip(leechers, codes)):
            self.assertEqual(code, 0, f"leecher{i} exit code after SIGTERM\n{lp.tail()}")
        self.assertEqual(seed_code, 0, f"seeder exit code after SIGTERM\n{seeder.tail()}")
        sums = [lp.summary() for lp in leechers]
        for i, s in enumerate(sums):
            self.assertIsNotNone(s, f"leecher{i}: no summary\n{leechers[i].tail()}")
        seed_sum = seeder.summary()
        self.assertIsNotNone(seed_sum, f"seeder: no summary\n{seeder.tail()}")

        # Byte-identical data everywhere.
        for i in range(LEECHERS):
            same, why = ss.same_content(self.sample, os.path.join(self.tmp, f"leecher{i}"))
            self.assertTrue(same, f"leecher{i}: {why}")
            self.assertEqual(sums[i]["verified_bytes"], SIZE, f"leecher{i} summary {sums[i]}")
            self.assertEqual(sums[i]["pieces_have"], self.sample.piece_count)
            self.assertEqual(sums[i]["hash_failures"], 0, f"leecher{i} summary {sums[i]}")
            self.assertEqual(sums[i]["banned_peers"], 0, f"leecher{i} summary {sums[i]}")
        note(f"4 leechers complete and byte-identical (16 MiB, {self.sample.piece_count} pieces) "
             f"at {', '.join(f'{done_at[i]:.1f}' for i in range(LEECHERS))} s")

        # Every leecher was connected to the seeder and the three others at some point (both
        # sides dial each other at the same moment: one of the two connections must survive).
        max_peers = [max((st["peers"] for st in lp.statuses()), default=0) for lp in leechers]
        note(f"most peers connected at once per leecher: {max_peers}")
        for i, m in enumerate(max_peers):
            self.assertEqual(m, LEECHERS, f"leecher{i} never had all {LEECHERS} peers\n"
                             f"{leechers[i].tail()}")

        ups = [s["uploaded"] for s in sums]
        downs = [s["downloaded"] for s in sums]
        note(f"leecher uploaded {ups}, downloaded {downs}; seeder uploaded {seed_sum['uploaded']}"
             f"; all complete after {elapsed:.1f} s (seeder alone at {SEED_LIMIT}/s: "
             f">= {LEECHERS * SIZE / SEED_LIMIT_BYTES:.0f} s)")

        # Every leecher downloaded at least the whole torrent (it started empty) ...
        for i, d in enumerate(downs):
            self.assertGreaterEqual(d, SIZE, f"leecher{i} downloaded less than the torrent")
        # ... and uploaded to the others.
        self.assertGreater(sum(ups), 0, "no leecher uploaded anything: no trading")
        for i, u in enumerate(ups):
            self.assertGreaterEqual(u, PIECE, f"leecher{i} uploaded {u} bytes (< one piece)")
        # Trading carried a real share: the seeder sent well under 4 copies.
        self.assertLess(seed_sum["uploaded"], LEECHERS * SIZE * 3 // 4,
                        "the seeder sent nearly every copy itself")
        self.assertGreaterEqual(sum(ups), SIZE,
                                "the leechers together uploaded less than one copy")
        # Conservation: what the leechers received was sent by the seeder or a leecher. Blocks
        # in flight at the SIGTERM, and requests cancelled in the endgame, may be counted on
        # one side only; allow a few pieces per connection.
        sent = seed_sum["uploaded"] + sum(ups)
        received = sum(downs)
        slack = LEECHERS * (LEECHERS + 1) * 8 * PIECE
        self.assertLessEqual(abs(sent - received), slack,
                             f"sent {sent} vs received {received}")
        # Redundant downloads (endgame duplicates) stay small.
        self.assertLessEqual(received, LEECHERS * SIZE * 1.05,
                             f"leechers downloaded {received} bytes for {LEECHERS} x {SIZE}")
        note(f"sum(leecher uploads) {sum(ups)} >= {SIZE}; seeder {seed_sum['uploaded']} < "
             f"{LEECHERS * SIZE * 3 // 4}; sent {sent} ~ received {received}")


    def test_rate_limited_seeder_shares_its_upload(self):
        # Three leechers that know only the seeder (no trading), seeder at --upload-limit 1M:
        # all three are interested and unchoked (4 regular slots), so over a few seconds each
        # should get a fair share of the seeder's 1 MiB/s -- not one peer all of it while the
        # others, unchoked, wait with their requests unanswered.
        n = 3
        ports = ss.free_ports(n + 1)
        seeder = ss.PeerwireProc("seed", self.sample.torrent, self.sample.save_path,
                                 port=ports[0], extra=["--upload-limit", "1M", "--trace"],
                                 json=True, status_interval=0.5, label="seeder 1M")
        self.addCleanup(seeder.close)
        seeder.start()
        seeder.wait_state("seeding", timeout=60)
        seeder.wait_listening()
        leechers = []
        for i, port in enumerate(ports[1:]):
            lp = ss.PeerwireProc("download", self.sample.torrent,
                                 os.path.join(self.tmp, f"solo{i}"), port=port,
                                 peers=[ports[0]], extra=["--no-seed"], status_interval=0.25,
                                 label=f"solo leecher{i}")
            self.addCleanup(lp.close)
            leechers.append(lp.start())
        for lp in leechers:
            lp.wait_for(lambda s: s["peers"] == 1, 30, "connected to the seeder")
        # The seeder's first rechoke unchokes all three; give it a moment, then measure.
        time.sleep(2.0)
        before = [lp.next_status()["downloaded"] for lp in leechers]
        window = 6.0
        time.sleep(window)
        after = [lp.next_status()["downloaded"] for lp in leechers]
        got = [a - b for a, b in zip(after, before)]
        total = sum(got)
        unchokes = {}
        blocks = {}
        for _, peer, direction, text in seeder.trace_lines():
            if direction == "->" and text == "unchoke":
                unchokes[peer] = unchokes.get(peer, 0) + 1
            if direction == "->" and text.startswith("piece "):
                blocks[peer] = blocks.get(peer, 0) + 1
        note(f"in {window:.0f} s the three leechers received {got} bytes (total {total}); "
             f"seeder sent blocks per peer {sorted(blocks.values(), reverse=True)}, "
             f"unchoked {len(unchokes)} peers")
        self.assertGreaterEqual(total, window * (1 << 20) * 0.5,
                                "the seeder sent much less than its limit")
        self.assertEqual(len(unchokes), n, f"the seeder did not unchoke all {n}: {unchokes}")
        for i, g in enumerate(got):
            self.assertGreaterEqual(
                g, total / (3 * n),
                f"leecher{i} got {g} of {total} bytes in {window:.0f} s while unchoked (fair "
                f"share {total // n}): received per leecher {got}, seeder blocks per peer "
                f"{blocks}")
        for lp in leechers:
            lp.terminate()


if __name__ == "__main__":
    pwtest.main()
