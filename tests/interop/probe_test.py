"""`peerwire probe` against real seeders on 127.0.0.1 -- libtorrent 2.0, Transmission 3.00 and
aria2 1.36 -- and against fake peers that fail in known ways.

For each real client (one seeder per client, shared by its cases): probing with the .torrent,
a magnet link and --info-hash completes the handshake (exit 0, ok), names the client and its
version, decodes the reserved bits and the extension handshake exactly as a plain-Python
handshake (the oracle, tests/support/peers.py) sees them, reports metadata_size equal to the
real info dictionary's size, and calls the seeder 100% complete; probing an info-hash the peer
does not serve fails (exit 4) with the handshake outcome that client really produces and a
verdict that says so. Fake peers: a refused port, a silent listener, an HTTP server, a
partial handshake, a handshake for another torrent. And a libtorrent seeder that forces
encryption (MSE/PE): the failure is explained.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import peers  # noqa: E402
import pwtest  # noqa: E402
from pwtest import note  # noqa: E402

HAVE_LT = peers.have_libtorrent()

# Keys every probe --json object has, whatever happened.
COMMON_KEYS = {"host", "port", "address", "info_hash", "connect", "connect_error", "connect_ms",
               "handshake", "handshake_error", "reply_ms", "sent_hex", "received_hex",
               "extension_handshake", "pieces", "pieces_have", "pieces_bits",
               "completion_percent", "messages", "ended", "verdict", "ok"}
# ... and these when the handshake completed.
COMPLETE_KEYS = {"reserved_hex", "reserved", "dht", "fast", "extension_protocol", "v2_upgrade",
                 "peer_id_hex", "client"}


def probe(*args, expect_exit=None, timeout=60):
    """Runs `peerwire probe ARGS --json`; returns (exit code, parsed JSON, seconds taken)."""
    t0 = time.monotonic()
    proc = pwtest.run(["probe", *args, "--json"], timeout=timeout)
    took = time.monotonic() - t0
    out = proc.stdout.decode("utf-8", errors="replace")
    err = proc.stderr.decode("utf-8", errors="replace")
    context = f"peerwire probe {' '.join(map(str, args))} --json: exit {proc.returncode}\n" \
              f"stdout: {out}\nstderr: {err}"
    try:
        report = json.loads(out)
    except ValueError as e:
        raise AssertionError(f"stdout is not one JSON object ({e})\n{context}") from None
    if expect_exit is not None and proc.returncode != expect_exit:
        raise AssertionError(f"expected exit {expect_exit}\n{context}")
    missing = COMMON_KEYS - report.keys()
    if missing:
        raise AssertionError(f"JSON lacks keys {sorted(missing)}\n{context}")
    return proc.returncode, report, took


def hexbytes(spaced_hex):
    """'13 42 69' -> bytes."""
    return bytes.fromhex(spaced_hex.replace(" ", ""))


def verdict_text(report):
    return "\n".join(report["verdict"])


def tool_version(argv, pattern):
    """First match of `pattern` in a tool's --version output, or None."""
    try:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                             stdin=subprocess.DEVNULL).stdout.decode(errors="replace")
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(pattern, out)
    return m.group(1) if m else None


def lt_version():
    try:
        out = subprocess.run([peers.LT_PYTHON, "-c", "import libtorrent; print(libtorrent.__version__)"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.match(rb"(\d+\.\d+\.\d+)", out.strip())
    return m.group(1).decode() if m else None


class _Base(unittest.TestCase):
    """A temporary directory with one sample torrent, shared by the class."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="peerwire-probe-test-")
        cls.sample = peers.make_sample(cls.tmp, size=300_000, piece_length=16384)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def assert_sent_handshake(self, report, info_hash):
        sent = hexbytes(report["sent_hex"])
        self.assertEqual(len(sent), 68, "we send a 68-byte handshake")
        self.assertEqual(sent[:20], b"\x13BitTorrent protocol")
        reserved = sent[20:28]
        self.assertTrue(reserved[5] & 0x10, "our reserved bits: extension protocol (BEP 10)")
        self.assertTrue(reserved[7] & 0x04, "our reserved bits: fast extension (BEP 6)")
        # The DHT bit (reserved[7] & 0x01) is not checked: probe runs no DHT node, so whether
        # it claims one is its own choice.
        self.assertEqual(sent[28:48].hex(), info_hash, "the info-hash we send")


class _SeederCases:
    """Cases run against one real seeder (a mixin: concrete classes also derive from _Base, so
    unittest does not run these on their own). Subclasses set the client's facts."""

    seeder_class = None
    seeder_kwargs = {}
    client_pattern = None         # regex the probe's "client" must match
    dht_bit = None                # what the client really sets in its reserved bytes
    fast_bit = None
    ext_bit = None
    m_present = ()                # extension names its m dict must have
    v_pattern = None              # regex for the extension handshake's "v"
    reqq = None                   # exact reqq it sends (None: not checked)
    unknown_hash_outcome = "closed_silently"  # what it does for an info-hash it does not serve

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.seeder = cls.seeder_class(cls.sample.torrent, cls.sample.save_path,
                                          **cls.seeder_kwargs).start()
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        print(f"\n    {cls.seeder_class.__name__} on {cls.seeder.address} (pid {cls.seeder.pid}), "
              f"seeding after {cls.seeder.startup_seconds:.2f}s; {cls.sample}", flush=True)
        try:
            # The oracle: what a plain-Python handshake sees from this seeder.
            cls.reference = peers.handshake_peer(cls.seeder.port, cls.sample.info_hash)
            cls.seeder.wait_idle()
        except BaseException:  # tearDownClass does not run when setUpClass fails
            cls.seeder.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.seeder.stop()
        super().tearDownClass()

    def setUp(self):
        # Transmission drops a connection from 127.0.0.1 while it still holds the previous one.
        self.assertTrue(self.seeder.wait_idle(), f"{self.seeder} did not drop its earlier peers")
        self.assertTrue(self.seeder.alive(), f"{self.seeder} died:\n{self.seeder.log_tail()}")

    def probe_ok(self, *source):
        code, r, took = probe(self.seeder.address, *source, expect_exit=0)
        self.assertIs(r["ok"], True)
        self.assertEqual(r["connect"], "connected")
        self.assertEqual(r["handshake"], "complete")
        self.assertEqual(r["host"], "127.0.0.1")
        self.assertEqual(r["port"], self.seeder.port)
        self.assertEqual(r["info_hash"], self.sample.info_hash)
        missing = COMPLETE_KEYS - r.keys()
        self.assertFalse(missing, f"keys of a completed handshake missing: {sorted(missing)}")
        self.assert_sent_handshake(r, self.sample.info_hash)
        received = hexbytes(r["received_hex"])
        self.assertGreaterEqual(len(received), 68)
        self.assertEqual(received[28:48].hex(), self.sample.info_hash, "info-hash in the reply")
        self.assertTrue(r["verdict"] and r["verdict"][0].startswith("OK"), verdict_text(r))
        note(f"probe {' '.join(source)[:60]}: exit 0 in {took:.2f}s, client {r['client']!r}, "
             f"reserved {r['reserved_hex']}, pieces {r['pieces']}, completion "
             f"{r['completion_percent']}, ended {r['ended']!r}")
        return r

    def assert_peer_facts(self, r):
        """Client name, reserved bits and extension handshake, against the facts and the oracle."""
        self.assertRegex(r["client"], self.client_pattern, "client named from the peer id")
        ref = self.reference
        self.assertEqual(hexbytes(r["reserved_hex"]), ref["reserved"],
                         "reserved bytes as the Python handshake received them")
        self.assertEqual(hexbytes(r["peer_id_hex"])[:8], ref["peer_id"][:8], "peer id prefix")
        self.assertIs(r["dht"], self.dht_bit, "DHT bit")
        self.assertIs(r["fast"], self.fast_bit, "fast-extension bit")
        self.assertIs(r["extension_protocol"], self.ext_bit, "extension-protocol bit")
        self.assertIs(r["v2_upgrade"], False, "v2 upgrade bit (v1 torrent)")
        note(f"client {r['client']!r} ({hexbytes(r['peer_id_hex'])[:8]!r}...), dht {r['dht']}, "
             f"fast {r['fast']}, extension_protocol {r['extension_protocol']}; reserved {r['reserved']!r}")

        x = r["extension_handshake"]
        self.assertIsNotNone(x, "extension handshake decoded")
        ref_ext = ref["ext"]
        self.assertIsNotNone(ref_ext, "the oracle saw an extension handshake too")
        ref_m = {k.decode(): v for k, v in ref_ext.get(b"m", {}).items()}
        self.assertEqual(x["m"], ref_m, "m: extension names and ids")
        for name in self.m_present:
            self.assertIn(name, x["m"])
        self.assertRegex(x["v"] or "", self.v_pattern, "v (client name and version)")
        self.assertEqual(x["v"], ref_ext.get(b"v", b"").decode(), "v as the oracle saw it")
        self.assertEqual(x["metadata_size"], self.sample.info_size,
                         "metadata_size = size of the bencoded info dict of the .torrent")
        if self.reqq is not None:
            self.assertEqual(x["reqq"], self.reqq, "reqq")
        self.assertEqual(x["reqq"], ref_ext.get(b"reqq"), "reqq as the oracle saw it")
        self.assertEqual(x["p"], ref_ext.get(b"p"), "p (listen port) as the oracle saw it")
        if b"yourip" in ref_ext:
            self.assertEqual(x["yourip"], "127.0.0.1", "yourip")
        self.assertEqual(x["upload_only"], bool(ref_ext.get(b"upload_only", 0)), "upload_only")
        note(f"extension handshake: v {x['v']!r}, m {x['m']}, metadata_size {x['metadata_size']} "
             f"(info dict: {self.sample.info_size} bytes), reqq {x['reqq']}, p {x['p']}, "
             f"yourip {x['yourip']}, upload_only {x['upload_only']}")

    def assert_seeder_pieces(self, r, percentage_known):
        ref_names = [name for name, _ in self.reference["messages"]]
        if "have_all" in ref_names:
            self.assertEqual(r["pieces"], "have_all")
        else:
            self.assertEqual(r["pieces"], "bitfield")
            self.assertEqual(r["pieces_have"], self.sample.piece_count)
            self.assertGreaterEqual(r["pieces_bits"], self.sample.piece_count)
        if percentage_known or r["pieces"] == "have_all":
            self.assertEqual(r["completion_percent"], 100)
            self.assertIn("seeder", r["verdict"][0])
        else:
            self.assertIsNone(r["completion_percent"], "no piece count without the .torrent")
        texts = [m["text"] for m in r["messages"]]
        incoming = [m["text"] for m in r["messages"] if m["dir"] == "in"]
        self.assertTrue(any("handshake" in t for t in incoming),
                        f"the extension handshake is among the messages: {texts}")
        want = "have all" if r["pieces"] == "have_all" else "bitfield"
        self.assertTrue(any(want in t for t in incoming), f"{want!r} among the messages: {texts}")
        self.assertTrue(all(m["ms"] >= 0 for m in r["messages"]))

    def test_probe_with_torrent(self):
        r = self.probe_ok(self.sample.torrent)
        self.assert_peer_facts(r)
        self.assert_seeder_pieces(r, percentage_known=True)

    def test_probe_with_magnet(self):
        r = self.probe_ok(self.sample.magnet)
        self.assert_peer_facts(r)
        self.assert_seeder_pieces(r, percentage_known=False)

    def test_probe_with_info_hash(self):
        r = self.probe_ok("--info-hash", self.sample.info_hash)
        self.assert_peer_facts(r)
        self.assert_seeder_pieces(r, percentage_known=False)

    def test_probe_text_output(self):
        proc = pwtest.run(["probe", self.seeder.address, self.sample.torrent], check=0)
        out = proc.stdout.decode("utf-8", errors="replace")
        m = re.search(r"^\s*client\s+(.+)$", out, re.M)
        self.assertTrue(m, f"a 'client' line in:\n{out}")
        self.assertRegex(m.group(1).strip(), self.client_pattern)
        self.assertRegex(out, r"(?m)^Verdict: OK: .*seeder \(100%\)")
        self.assertIn(self.sample.info_hash, out)
        self.assertIn(f"{self.sample.info_size} bytes", out, "metadata_size in the text report")
        note(f"text report: client line {m.group(1).strip()!r}, verdict line "
             f"{re.search(r'(?m)^Verdict: .*$', out).group(0)!r}")

    def test_probe_info_hash_not_served(self):
        other = "0123456789abcdef0123456789abcdef01234567"
        code, r, took = probe(self.seeder.address, "--info-hash", other, "--timeout", "5",
                              expect_exit=4)
        self.assertIs(r["ok"], False)
        self.assertEqual(r["connect"], "connected")
        self.assertEqual(r["info_hash"], other)
        self.assertEqual(r["handshake"], self.unknown_hash_outcome,
                         f"what {self.seeder.kind} does with an unknown info-hash")
        self.assertIn("does not serve this info-hash", verdict_text(r))
        self.assertLess(took, 5, "it closes well before our 5 s timeout")
        note(f"unknown info-hash: exit 4 after {took:.2f}s, handshake {r['handshake']}, "
             f"verdict {r['verdict'][0]!r}")


@unittest.skipUnless(HAVE_LT, f"{peers.LT_PYTHON} cannot import libtorrent (python3-libtorrent)")
class ProbeLibtorrent(_SeederCases, _Base):
    seeder_class = peers.LibtorrentSeeder
    client_pattern = r"^libtorrent\b.*\b" + re.escape(lt_version() or "2.0") + r"\b"
    dht_bit, fast_bit, ext_bit = True, True, True
    m_present = ("ut_metadata", "ut_pex", "upload_only", "lt_donthave")
    v_pattern = r"^libtorrent/\d+\.\d+\.\d+"
    reqq = 2000  # max_allowed_in_request_queue's default
    unknown_hash_outcome = "closed_silently"


@unittest.skipUnless(peers.TRANSMISSION_CLI, "transmission-cli is not installed")
class ProbeTransmission(_SeederCases, _Base):
    seeder_class = peers.TransmissionSeeder
    # PEX on (the fixture's default is off): Transmission then offers ut_pex.
    seeder_kwargs = {"settings": {"pex-enabled": True}}
    client_pattern = r"^Transmission " + re.escape(
        tool_version([peers.TRANSMISSION_CLI or "transmission-cli", "--version"],
                     r"transmission-cli (\d+\.\d+)") or "3.00") + r"\b"
    dht_bit, fast_bit, ext_bit = False, True, True  # DHT is off in the fixture
    m_present = ("ut_metadata", "ut_pex")
    v_pattern = r"^Transmission \d+\.\d+"
    reqq = 512
    unknown_hash_outcome = "closed_silently"


@unittest.skipUnless(peers.ARIA2C, "aria2c is not installed")
class ProbeAria2(_SeederCases, _Base):
    seeder_class = peers.Aria2Seeder
    # PEX on (the fixture's default is off) to see whether aria2 offers ut_pex.
    seeder_kwargs = {"extra_args": ["--enable-peer-exchange=true"]}
    client_pattern = r"^aria2 " + re.escape(
        tool_version([peers.ARIA2C or "aria2c", "--version"], r"aria2 version (\d+\.\d+\.\d+)")
        or "1.36.0") + r"\b"
    dht_bit, fast_bit, ext_bit = False, True, True  # DHT is off in the fixture
    m_present = ("ut_metadata", "ut_pex")
    v_pattern = r"^aria2/\d+\.\d+\.\d+"
    unknown_hash_outcome = "closed_silently"


@unittest.skipUnless(HAVE_LT, f"{peers.LT_PYTHON} cannot import libtorrent (python3-libtorrent)")
class ProbeEncryptionForced(_Base):
    """libtorrent with in/out_enc_policy = pe_forced: it drops a plaintext handshake."""

    def test_forced_encryption_is_explained(self):
        with peers.LibtorrentSeeder(self.sample.torrent, self.sample.save_path,
                                    encryption="forced") as seeder:
            oracle = peers.handshake_peer(seeder.port, self.sample.info_hash)
            self.assertEqual(oracle["received"], b"", "libtorrent answers a plaintext handshake")
            code, r, took = probe(seeder.address, self.sample.torrent, "--timeout", "3",
                                  expect_exit=4)
        self.assertIs(r["ok"], False)
        self.assertEqual(r["connect"], "connected")
        self.assertIn(r["handshake"], ("closed_silently", "timed_out", "reset"))
        self.assertIn("MSE", verdict_text(r), "the verdict names encryption (MSE/PE) as a cause")
        note(f"pe_forced libtorrent: handshake {r['handshake']} (oracle: closed={oracle['closed']}), "
             f"verdict {r['verdict']}")


class ProbeFakePeers(_Base):
    """Failures that do not need a real client."""

    def test_refused(self):
        port = peers.closed_port()
        code, r, took = probe(f"127.0.0.1:{port}", "--info-hash", self.sample.info_hash,
                              "--timeout", "5", expect_exit=4)
        self.assertIs(r["ok"], False)
        self.assertEqual(r["connect"], "refused")
        self.assertEqual(r["handshake"], "not_attempted")
        self.assertIn("refused", verdict_text(r))
        self.assertLess(took, 5)
        note(f"closed port {port}: connect refused ({r['connect_error']!r}), exit 4, "
             f"verdict {r['verdict'][0]!r}")

    def test_silent_listener_times_out(self):
        with peers.FakePeer(reply=None) as fake:
            code, r, took = probe(fake.address, self.sample.torrent, "--timeout", "1", expect_exit=4)
        self.assertEqual(r["connect"], "connected")
        self.assertEqual(r["handshake"], "timed_out")
        self.assertEqual(r["received_hex"], "")
        self.assertIs(r["ok"], False)
        self.assertLess(took, 4, "--timeout 1 bounds the wait")
        self.assertEqual(len(fake.received), 1)
        self.assertEqual(fake.received[0].hex(), hexbytes(r["sent_hex"]).hex()[:len(fake.received[0]) * 2],
                         "the listener got our handshake bytes")
        self.assertEqual(len(fake.received[0]), 68, "the listener got our 68-byte handshake")
        self.assert_sent_handshake(r, self.sample.info_hash)
        self.assertIn("MSE", verdict_text(r))
        note(f"silent listener, --timeout 1: handshake timed_out after {took:.2f}s, "
             f"verdict {r['verdict'][0]!r}")

    def test_http_server(self):
        with peers.FakePeer(reply=b"HTTP/1.1 400 Bad Request\r\n\r\n") as fake:
            code, r, took = probe(fake.address, self.sample.torrent, "--timeout", "3",
                                  expect_exit=4)
        self.assertEqual(r["connect"], "connected")
        self.assertEqual(r["handshake"], "bad_protocol")
        self.assertTrue(hexbytes(r["received_hex"]).startswith(b"HTTP/1.1 400"), r["received_hex"])
        self.assertIn("HTTP", verdict_text(r))
        note(f"HTTP listener: bad_protocol, received {hexbytes(r['received_hex'])!r}, "
             f"verdict {r['verdict']}")

    def test_partial_handshake_then_close(self):
        partial = b"\x13BitTorrent protocol" + bytes(8)  # 28 of 68 bytes
        with peers.FakePeer(reply=partial, reply_after=68, close_after_reply=True) as fake:
            code, r, took = probe(fake.address, self.sample.torrent, "--timeout", "3",
                                  expect_exit=4)
        self.assertEqual(r["handshake"], "closed_partial")
        self.assertEqual(hexbytes(r["received_hex"]), partial)
        self.assertIn("28", verdict_text(r))
        note(f"28 bytes then close: closed_partial, verdict {r['verdict'][0]!r}")

    def test_handshake_for_another_torrent(self):
        other = bytes(range(20))
        reply = b"\x13BitTorrent protocol" + bytes(8) + other + b"-XX0001-abcdefghijkl"
        with peers.FakePeer(reply=reply, reply_after=68) as fake:
            code, r, took = probe(fake.address, self.sample.torrent, "--timeout", "3",
                                  expect_exit=4)
        self.assertEqual(r["handshake"], "wrong_info_hash")
        self.assertIs(r["ok"], False)
        self.assertIn(other.hex(), verdict_text(r))
        note(f"handshake for another info-hash: wrong_info_hash, verdict {r['verdict'][0]!r}")

    def test_closed_at_once(self):
        with peers.FakePeer(close_after=0) as fake:
            code, r, took = probe(fake.address, self.sample.torrent, "--timeout", "3",
                                  expect_exit=4)
        self.assertEqual(r["connect"], "connected")
        # Closed before it read our handshake: a FIN, or a reset if our bytes arrived first.
        self.assertIn(r["handshake"], ("closed_silently", "reset"))
        note(f"accept-and-close: handshake {r['handshake']}, verdict {r['verdict'][0]!r}")


if __name__ == "__main__":
    pwtest.main()
