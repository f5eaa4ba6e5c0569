"""`peerwire info MAGNET`: hex and base32 btih name the same info-hash, --json fields (name,
trackers, web seeds, peers), round trip of the magnet link a torrent's `info` prints, and exit
code 2 with a message for malformed links.
"""
import base64
import hashlib
import os
import sys
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pwtest  # noqa: E402
from pwtest import TRACKER_A, TRACKER_C, WEB_SEED, bencode, note  # noqa: E402

HEX = hashlib.sha1(b"peerwire magnet test").hexdigest()
B32 = base64.b32encode(bytes.fromhex(HEX)).decode()


def magnet(xt, **params):
    """magnet:?xt=urn:btih:XT&k=v... with values percent-encoded; list values repeat the key."""
    parts = [f"xt=urn:btih:{xt}"]
    for key, values in params.items():
        for v in values if isinstance(values, list) else [values]:
            parts.append(f"{key.replace('_', '.')}={urllib.parse.quote(v, safe='')}")
    return "magnet:?" + "&".join(parts)


class Magnet(pwtest.TempDirCase):
    def test_hex_and_base32_give_the_same_hash(self):
        forms = {"hex": HEX, "HEX": HEX.upper(), "base32": B32, "base32 lower": B32.lower()}
        for label, xt in forms.items():
            pw = pwtest.info_json(magnet(xt))
            self.assertEqual(pw["type"], "magnet", label)
            self.assertEqual(pw["info_hash"], HEX, label)
            self.assertEqual(pw["info_hash_base32"], B32, label)
        note(f"hex, upper hex, base32, lower base32 -> {HEX} / {B32}")

    def test_json_fields(self):
        link = magnet(HEX, dn="My Show S01 (x) ü", tr=[TRACKER_A, TRACKER_C], ws=WEB_SEED,
                      x_pe="127.0.0.1:6881")
        pw = pwtest.info_json(link)
        self.assertEqual(pw["name"], "My Show S01 (x) ü")
        self.assertEqual(pw["trackers"], [TRACKER_A, TRACKER_C])
        self.assertEqual(pw["web_seeds"], [WEB_SEED])
        self.assertEqual(pw["peers"], ["127.0.0.1:6881"])
        # The canonical link peerwire prints must parse back to the same fields.
        again = pwtest.info_json(pw["magnet"])
        for key in ("info_hash", "name", "trackers", "web_seeds", "peers"):
            self.assertEqual(again[key], pw[key], f"round trip of {key}")
        note("dn (spaces, unicode), tr x2 in order, ws, x.pe; printed magnet parses back the same")

    def test_reserved_characters_round_trip(self):
        # '&', '=', '+', '#' in the name and a tracker URL with its own query string must
        # survive peerwire's re-encoding of the link.
        tracker = "http://127.0.0.1:9/ann?pk=1&x=2"
        pw = pwtest.info_json(magnet(HEX, dn="a&b=c+ d#e", tr=tracker))
        self.assertEqual((pw["name"], pw["trackers"]), ("a&b=c+ d#e", [tracker]))
        again = pwtest.info_json(pw["magnet"])
        self.assertEqual((again["name"], again["trackers"]), ("a&b=c+ d#e", [tracker]))
        note("dn 'a&b=c+ d#e' and tracker with ?pk=1&x=2: decoded, re-encoded, decoded again")

    def test_text_output(self):
        out = pwtest.run(["info", magnet(B32, dn="Name")], check=0).stdout.decode()
        self.assertIn(HEX, out)
        self.assertIn("Name", out)
        note("text output shows the hex info-hash and the display name")

    def test_magnet_of_a_torrent_round_trips(self):
        info = {"length": 5, "name": "x.bin", "piece length": 16384, "pieces": b"\x01" * 20}
        p = self.path("t.torrent")
        with open(p, "wb") as f:
            f.write(bencode({"announce-list": [[TRACKER_A], [TRACKER_C]], "info": info,
                             "url-list": [WEB_SEED]}))
        t = pwtest.info_json(p)
        m = pwtest.info_json(t["magnet"])
        self.assertEqual(m["info_hash"], hashlib.sha1(bencode(info)).hexdigest())
        self.assertEqual(m["name"], "x.bin")
        self.assertEqual(m["trackers"], [TRACKER_A, TRACKER_C])
        self.assertEqual(m["web_seeds"], [WEB_SEED])
        note("magnet printed for a torrent: info-hash, name, all tiers' trackers, web seed")

    def test_bad_magnets_exit_2(self):
        bad = {
            "short hash": magnet("abcd"),
            "non-hex digit": magnet(HEX[:-1] + "g"),
            "41 hex digits": magnet(HEX + "0"),
            "bad base32": magnet("1" * 32),
            "no xt": "magnet:?dn=nothing",
            "bad percent escape": magnet(HEX) + "&dn=%zz",
        }
        for label, link in bad.items():
            proc = pwtest.run(["info", link])
            err = proc.stderr.decode(errors="replace")
            self.assertEqual(proc.returncode, 2, f"{label}: {link}: {err}")
            self.assertIn("magnet", err, f"{label}: message {err!r}")
            self.assertEqual(proc.stdout, b"", label)
            note(f"{label}: exit 2, {err.strip()}")


if __name__ == "__main__":
    pwtest.main()
