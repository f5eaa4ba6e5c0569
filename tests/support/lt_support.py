"""libtorrent (python3-libtorrent) helpers for the interop tests: read a torrent the way
libtorrent sees it, create torrents with libtorrent, and let libtorrent check data on disk
against a torrent's piece hashes. Only 127.0.0.1 is ever used.
"""
import os
import time

import libtorrent as lt


def lt_view(torrent_path):
    """What libtorrent reads from a .torrent, in the shape the tests compare."""
    ti = lt.torrent_info(torrent_path)
    fs = ti.files()
    files, pads, offsets = [], [], {}
    for i in range(fs.num_files()):
        entry = (fs.file_path(i).replace(os.sep, "/"), fs.file_size(i))
        is_pad = bool(fs.file_flags(i) & lt.file_storage.flag_pad_file)
        (pads if is_pad else files).append(entry)
        offsets[entry[0]] = fs.file_offset(i)
    tiers = {}
    for t in ti.trackers():
        tiers.setdefault(t.tier, []).append(t.url)
    return {
        "info_hash": str(ti.info_hashes().v1) if ti.info_hashes().has_v1() else None,
        "has_v2": ti.info_hashes().has_v2(),
        "name": ti.name(),
        "files": files,
        "pads": pads,
        "offsets": offsets,                 # path -> byte offset in the torrent's data
        "piece_length": ti.piece_length(),
        "piece_count": ti.num_pieces(),
        "private": ti.priv(),
        # libtorrent shuffles the URLs inside a tier (BEP 12 asks clients to), so only the
        # set of URLs per tier is comparable: each tier is sorted here.
        "trackers": [sorted(tiers[k]) for k in sorted(tiers)],
        "web_seeds": [w["url"] for w in ti.web_seeds()],
        "comment": ti.comment(),
        "creation_date": ti.creation_date(),
    }


def lt_create(src, out, piece_length, flags=0, trackers=(), web_seeds=(), private=False,
              comment=None):
    """Makes OUT from SRC with lt.create_torrent; `trackers` is a list of tiers."""
    fs = lt.file_storage()
    lt.add_files(fs, src)
    ct = lt.create_torrent(fs, piece_length, flags=flags)
    for tier, urls in enumerate(trackers):
        for url in urls:
            ct.add_tracker(url, tier)
    for url in web_seeds:
        ct.add_url_seed(url)
    ct.set_priv(private)
    if comment is not None:
        ct.set_comment(comment)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(src)))
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    return out


def lt_verify_data(torrent_path, save_path, timeout=60):
    """Adds the torrent to a loopback-only session over the data in save_path and waits until
    libtorrent has hash-checked every piece and calls the torrent complete (seeding, progress
    1.0). Returns None on success, or a description of what libtorrent saw instead.
    """
    ses = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False, "enable_lsd": False,
        "enable_upnp": False, "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    })
    try:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(torrent_path)
        atp.save_path = save_path
        # No announces or web-seed requests: the check is purely local.
        atp.trackers = []
        atp.url_seeds = []
        atp.flags |= lt.torrent_flags.override_trackers | lt.torrent_flags.override_web_seeds
        atp.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
        handle = ses.add_torrent(atp)
        # Without resume data libtorrent hash-checks whatever is on disk when the torrent is
        # added, and says so with torrent_checked_alert; then the status is final.
        deadline = time.monotonic() + timeout
        errors, checked = [], False
        while not checked and time.monotonic() < deadline:
            ses.wait_for_alert(100)
            for a in ses.pop_alerts():
                if isinstance(a, lt.torrent_checked_alert):
                    checked = True
                elif a.category() & lt.alert.category_t.error_notification:
                    errors.append(a.message())
        st = handle.status()
        if not checked:
            return f"libtorrent did not finish checking within {timeout}s: {'; '.join(errors)}"
        if st.errc.value() != 0:
            return f"libtorrent error: {st.errc.message()} ({'; '.join(errors)})"
        if st.state != lt.torrent_status.states.seeding or st.progress != 1.0:
            bad = [i for i, ok in enumerate(st.pieces) if not ok]
            return (f"state {st.state}, progress {st.progress:.4f}: pieces failing the hash "
                    f"check: {bad[:20]}{' ...' if len(bad) > 20 else ''}")
        return None
    finally:
        ses.pause()
        del ses


def assert_peerwire_matches_lt(test, pw, ltv):
    """Asserts that `peerwire info --json` output `pw` says what libtorrent read (`ltv`)."""
    test.assertEqual(pw["info_hash"], ltv["info_hash"], "info-hash (v1)")
    test.assertEqual(pw["name"], ltv["name"], "name")
    test.assertEqual([(f["path"], f["size"]) for f in pw["files"] if not f["pad"]], ltv["files"],
                     "files (path, size), padding excluded, in torrent order")
    test.assertEqual([(f["path"], f["size"]) for f in pw["files"] if f["pad"]], ltv["pads"],
                     "padding files")
    test.assertEqual(pw["piece_length"], ltv["piece_length"], "piece length")
    test.assertEqual(pw["piece_count"], ltv["piece_count"], "piece count")
    test.assertEqual(pw["private"], ltv["private"], "private flag")
    test.assertEqual([sorted(t) for t in pw["trackers"]], ltv["trackers"],
                     "tracker tiers (order inside a tier ignored: libtorrent shuffles it)")
    test.assertEqual(pw["web_seeds"], ltv["web_seeds"], "web seeds")
    test.assertEqual(pw["comment"], ltv["comment"], "comment")
