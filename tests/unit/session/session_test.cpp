// Whole sessions on loopback: a seeder and a downloader in one process, and a lying peer that
// must be banned while the download completes from an honest one. Waits are on status with
// deadlines.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "peer_host.hpp"
#include "peerwire/bencode_value.hpp"
#include "peerwire/ext_metadata.hpp"
#include "peerwire/resume.hpp"
#include "peerwire/session.hpp"
#include "peerwire/storage.hpp"
#include "peerwire/wire_peer_id.hpp"
#include "session_fixture.hpp"
#include "unit/page_cache_probe.hpp"

using namespace peerwire;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using namespace session_test;

namespace {

// Writes `files` (name, size) of random bytes under root/name_dir and returns a parsed torrent.
metainfo make_torrent(const fs::path& root, const std::string& dir,
                      const std::vector<std::pair<std::string, std::size_t>>& files,
                      std::int64_t piece_length) {
  std::mt19937_64 rng(42);
  std::string all;
  bencode::list file_list;
  fs::create_directories(root / dir);
  for (const auto& [name, size] : files) {
    std::string data(size, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    std::ofstream(root / dir / name, std::ios::binary)
        .write(data.data(), static_cast<std::streamsize>(size));
    all += data;
    file_list.push_back(
        bencode::dict{{"length", static_cast<std::int64_t>(size)}, {"path", bencode::list{name}}});
  }
  std::string pieces;
  for (std::size_t off = 0; off < all.size(); off += static_cast<std::size_t>(piece_length)) {
    auto d = sha1(std::string_view(all).substr(off, static_cast<std::size_t>(piece_length)));
    pieces.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  bencode::dict info{
      {"name", dir}, {"files", file_list}, {"piece length", piece_length}, {"pieces", pieces}};
  auto m = parse_metainfo(bencode::encode(bencode::value(bencode::dict{{"info", info}})));
  EXPECT_TRUE(m) << m.error().describe();
  return *m;
}

std::string local_peer(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

// Adds `m`, its data under `dir`, to a started session that seeds it (dialling `peers`).
void add_seed(session& s, const metainfo& m, const fs::path& dir,
              std::vector<std::string> peers = {}) {
  add_torrent_params p;
  p.torrent = m;
  p.save_path = dir;
  p.peers = std::move(peers);
  s.add_torrent(p);
}

// Adds `m` to a started session to download into `dir` from `peers`, finishing when complete.
void add_download(session& s, const metainfo& m, const fs::path& dir,
                  std::vector<std::string> peers) {
  add_torrent_params p;
  p.torrent = m;
  p.save_path = dir;
  p.peers = std::move(peers);
  p.goal.kind = seed_goal_kind::none;
  s.add_torrent(p);
}

}  // namespace

TEST(Session, DownloadsFromASeederByteForByte) {
  temp_dir seed_dir, leech_dir;
  auto m = make_torrent(seed_dir.path, "album",
                        {{"a.bin", 300'000}, {"empty", 0}, {"b.bin", 70'001}}, 32768);

  session seeder(local_settings());
  auto seed_port = seeder.start();
  ASSERT_TRUE(seed_port) << seed_port.error().describe();
  add_seed(seeder, m, seed_dir.path);
  ASSERT_TRUE(wait_for(
      [&] {
        auto st = seeder.status();
        return !st.empty() && st[0].state == torrent_state::seeding;
      },
      10s));

  session leecher(local_settings());
  ASSERT_TRUE(leecher.start());
  add_download(leecher, m, leech_dir.path, {local_peer(*seed_port)});
  ASSERT_TRUE(wait_for([&] { return leecher.all_done(); }, 20s)) << "download did not finish";
  auto st = leecher.status().at(0);
  EXPECT_EQ(st.state, torrent_state::finished) << st.error;
  EXPECT_EQ(st.verified_bytes, 370'001);
  EXPECT_EQ(st.hash_failures, 0u);
  leecher.stop();
  for (const char* f : {"a.bin", "empty", "b.bin"}) {
    EXPECT_EQ(read_file(leech_dir.path / "album" / f), read_file(seed_dir.path / "album" / f)) << f;
  }
  EXPECT_TRUE(fs::exists(leech_dir.path / ".peerwire" / (m.hash.v1->hex() + ".resume")));
  // The seeder's status is a snapshot refreshed every tick.
  EXPECT_TRUE(wait_for([&] { return seeder.status().at(0).uploaded > 0; }, 5s));
}

// Pieces over 4 MiB are not cached whole for uploads: each block is read on its own (here
// piece 0, 8 MiB), while the short last piece goes through the read cache.
TEST(Session, HugePiecesAreServedBlockByBlock) {
  temp_dir seed_dir, leech_dir;
  auto m = make_torrent(seed_dir.path, "huge", {{"a.bin", 10'000'000}}, 8 << 20);
  session seeder(local_settings());
  auto seed_port = seeder.start();
  ASSERT_TRUE(seed_port) << seed_port.error().describe();
  add_seed(seeder, m, seed_dir.path);
  session leecher(local_settings());
  ASSERT_TRUE(leecher.start());
  add_download(leecher, m, leech_dir.path, {local_peer(*seed_port)});
  ASSERT_TRUE(wait_for([&] { return leecher.all_done(); }, 30s)) << "download did not finish";
  EXPECT_EQ(leecher.status().at(0).state, torrent_state::finished);
  leecher.stop();
  EXPECT_EQ(read_file(leech_dir.path / "huge" / "a.bin"),
            read_file(seed_dir.path / "huge" / "a.bin"));
}

// With the piece memory spent (piece_memory 0: the floor of 4 pieces in progress) requests
// stop until a piece is verified and written, then resume: the download still completes from
// two seeders, byte for byte.
TEST(Session, DownloadCompletesWithinTheSmallestPieceMemory) {
  temp_dir seed_dir, leech_dir;
  auto m = make_torrent(seed_dir.path, "many", {{"a.bin", 1'500'000}, {"b.bin", 600'001}}, 16384);
  std::vector<std::unique_ptr<session>> seeders;
  std::vector<std::string> peers;
  for (int i = 0; i < 2; ++i) {
    seeders.push_back(std::make_unique<session>(local_settings()));
    auto port = seeders.back()->start();
    ASSERT_TRUE(port) << port.error().describe();
    add_seed(*seeders.back(), m, seed_dir.path);
    peers.push_back(local_peer(*port));
  }
  auto settings = local_settings();
  settings.piece_memory = 0;
  session leecher(settings);
  ASSERT_TRUE(leecher.start());
  add_download(leecher, m, leech_dir.path, peers);
  ASSERT_TRUE(wait_for([&] { return leecher.all_done(); }, 30s)) << "download did not finish";
  auto st = leecher.status().at(0);
  EXPECT_EQ(st.state, torrent_state::finished) << st.error;
  EXPECT_EQ(st.verified_bytes, 2'100'001);
  leecher.stop();
  for (const char* f : {"a.bin", "b.bin"}) {
    EXPECT_EQ(read_file(leech_dir.path / "many" / f), read_file(seed_dir.path / "many" / f)) << f;
  }
}

// --direct-io: verified pieces written with O_DIRECT where page-aligned (the first file, and
// pages of the second whose file offset lines up), through the page cache elsewhere.
TEST(Session, DirectIoDownloadIsByteForByte) {
  temp_dir seed_dir, leech_dir;
  auto m = make_torrent(seed_dir.path, "d", {{"a.bin", 1'000'000}, {"b.bin", 700'003}}, 65536);
  session seeder(local_settings());
  auto port = seeder.start();
  ASSERT_TRUE(port) << port.error().describe();
  add_seed(seeder, m, seed_dir.path);
  auto settings = local_settings();
  settings.direct_io = true;
  session leecher(settings);
  ASSERT_TRUE(leecher.start());
  add_download(leecher, m, leech_dir.path, {local_peer(*port)});
  ASSERT_TRUE(wait_for([&] { return leecher.all_done(); }, 30s)) << "download did not finish";
  auto st = leecher.status().at(0);
  EXPECT_EQ(st.state, torrent_state::finished) << st.error;
  leecher.stop();
  // The first file's whole pieces went past the page cache (where O_DIRECT really does): the
  // piece buffers are page-aligned and the setting reached the storage.
  if (page_cache_probe::direct_writes_skip_page_cache(leech_dir.path)) {
    EXPECT_EQ(page_cache_probe::cached_pages(leech_dir.path / "d" / "a.bin", 0, 15 * 65536), 0u)
        << "pieces 0-14, all within a.bin";
  }
  for (const char* f : {"a.bin", "b.bin"}) {
    EXPECT_EQ(read_file(leech_dir.path / "d" / f), read_file(seed_dir.path / "d" / f)) << f;
  }
}

// With the piece memory spent on pieces whose only sender left, a peer that has none of them
// may still start pieces of its own: the download goes on instead of waiting for ever. A
// fake "deserter" has pieces 0-5, sends all but the last block of four of them and leaves;
// then a fake partial seed with pieces 6-11 connects. Pieces 6-11 must all complete.
TEST(Session, PiecesWhoseSendersLeftDoNotStallTheOthers) {
  temp_dir seed_dir, leech_dir;
  constexpr std::uint32_t piece_length = 65536, pieces = 12;
  auto m = make_torrent(seed_dir.path, "gone", {{"g.bin", piece_length * pieces}}, piece_length);
  auto content = read_file(seed_dir.path / "gone" / "g.bin");
  auto serve = [&content](peer::peer_connection& c, const wire::request& r) {
    auto at = std::size_t{r.index} * piece_length + r.offset;
    c.send(wire::piece{
        r.index, r.offset,
        std::span(reinterpret_cast<const std::uint8_t*>(content.data()) + at, r.length)});
  };
  auto holding = [&](std::uint32_t first, std::uint32_t last) {
    auto ref = seeding_ref(m);
    ref.we_are_seed = false;
    ref.our_bitfield.assign((pieces + 7) / 8, 0);
    for (auto i = first; i <= last; ++i) ref.our_bitfield[i / 8] |= 0x80 >> (i % 8);
    return ref;
  };

  auto settings = local_settings();
  settings.piece_memory = 0;  // 4 pieces in progress
  session leecher(settings);
  auto leech_port = leecher.start();
  ASSERT_TRUE(leech_port);

  boost::asio::io_context io;
  peer::connection_settings fake_settings;
  fake_settings.our_id = wire::random_peer_id();
  peer::peer_host deserter(io.get_executor(), fake_settings);
  peer::peer_host partial(io.get_executor(), fake_settings);
  deserter.add_torrent(holding(0, 5));
  partial.add_torrent(holding(6, 11));
  std::set<std::uint32_t> started;
  std::int64_t sent = 0;  // bytes the deserter served
  bool deserted = false;
  boost::asio::steady_timer leave(io);
  auto leecher_has_all_sent = [&] {
    auto all = leecher.status();
    return !all.empty() && all[0].downloaded >= sent;
  };
  // Leaves once the leecher has taken every block sent (checked every 20 ms, at most 5 s);
  // then the partial seed comes.
  std::function<void(std::shared_ptr<peer::peer_connection>, int)> leave_when_taken =
      [&](std::shared_ptr<peer::peer_connection> conn, int polls) {
        if (!leecher_has_all_sent() && polls < 250) {
          leave.expires_after(20ms);
          leave.async_wait(
              [&, conn, polls](boost::system::error_code) { leave_when_taken(conn, polls + 1); });
          return;
        }
        deserted = true;
        conn->close("deserting");
        partial.connect({boost::asio::ip::make_address("127.0.0.1"), *leech_port}, *m.hash.v1);
      };
  deserter.on_connection = [&](peer::peer_connection& c) {
    if (deserted) return c.close("gone for good");
    c.on_message = [&](peer::peer_connection& self, const wire::message& msg) {
      if (std::holds_alternative<wire::interested>(msg)) self.send(wire::unchoke{});
      const auto* r = std::get_if<wire::request>(&msg);
      if (!r || started.size() == 4) return;
      if (r->offset + r->length < piece_length) {
        sent += r->length;
        return serve(self, *r);
      }
      started.insert(r->index);  // the last block is withheld: the piece stays in progress
      if (started.size() == 4) leave_when_taken(self.shared_from_this(), 0);
    };
  };
  partial.on_connection = [&](peer::peer_connection& c) {
    c.on_message = [&](peer::peer_connection& self, const wire::message& msg) {
      if (std::holds_alternative<wire::interested>(msg)) self.send(wire::unchoke{});
      if (const auto* r = std::get_if<wire::request>(&msg)) serve(self, *r);
    };
  };
  auto deserter_port = deserter.listen({.port = 0, .default_count = 0});
  ASSERT_TRUE(deserter_port);
  std::thread io_thread([&] { io.run_for(30s); });

  add_download(leecher, m, leech_dir.path, {local_peer(*deserter_port)});
  auto verified = [&]() -> std::int64_t {
    auto all = leecher.status();  // empty until the first snapshot
    return all.empty() ? 0 : all[0].verified_bytes;
  };
  bool progressed = wait_for([&] { return verified() >= std::int64_t{6} * piece_length; }, 15s);
  auto got = verified();
  leecher.stop();
  boost::asio::post(io, [&] {
    deserter.shutdown("test over");
    partial.shutdown("test over");
    io.stop();
  });
  io_thread.join();
  EXPECT_EQ(started.size(), 4u) << "the deserter was never asked for four pieces";
  EXPECT_TRUE(progressed) << "stalled at " << got << " bytes";
  EXPECT_EQ(got, std::int64_t{6} * piece_length);  // pieces 0-5 have no source left
}

// Resume data saved without a data sync is trusted only in the boot that saved it: from
// another boot (the machine restarted since) every piece is checked, so a piece a power cut
// lost is found; a synced record is trusted as before. The file is damaged before the record
// is written, so its stamps match and only the boot decides.
TEST(Session, UnsyncedResumeFromAnotherBootIsCheckedAgain) {
  for (bool other_boot : {true, false}) {
    temp_dir dir;
    auto m = make_torrent(dir.path, "t", {{"a.bin", 200'000}}, 32768);
    {
      std::fstream f(dir.path / "t" / "a.bin", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(40'000);
      f.write("lost", 4);  // piece 1
    }
    storage::resume_data rd;
    rd.info_hash = *m.hash.v1;
    rd.have.assign(m.piece_count(), true);
    rd.files = storage::disk_storage::open(m, dir.path)->stamps();
    rd.unsynced_boot = other_boot ? "an-earlier-boot" : "";
    auto resume = dir.path / ".peerwire" / (m.hash.v1->hex() + ".resume");
    ASSERT_TRUE(storage::save_resume_atomically(resume, rd));

    session s(local_settings());
    ASSERT_TRUE(s.start());
    add_seed(s, m, dir.path);
    ASSERT_TRUE(wait_for(
        [&] {
          auto st = s.status();
          return !st.empty() && st[0].state != torrent_state::checking;
        },
        10s));
    auto st = s.status().at(0);
    if (other_boot) {
      EXPECT_EQ(st.state, torrent_state::downloading);
      EXPECT_EQ(st.verified_bytes, 200'000 - 32768);  // all but the damaged piece
    } else {
      EXPECT_EQ(st.state, torrent_state::seeding);  // trusted, as a synced record is
    }
    s.stop();
  }
}

// A peer that claims every piece and answers every request with garbage: it must be banned,
// nothing it sent may reach the disk, and the download completes from the honest seeder.
TEST(Session, LyingPeerIsBannedAndTheDownloadCompletes) {
  temp_dir seed_dir, leech_dir;
  auto m = make_torrent(seed_dir.path, "data", {{"f.bin", 200'000}}, 16384);

  boost::asio::io_context io;
  peer::connection_settings liar_settings;
  liar_settings.our_id = wire::random_peer_id();
  peer::peer_host liar(io.get_executor(), liar_settings);
  auto ref = seeding_ref(m);
  liar.add_torrent(ref);
  std::size_t lies = 0;
  liar.on_connection = [&lies](peer::peer_connection& c) {
    c.on_message = [&lies](peer::peer_connection& self, const wire::message& msg) {
      if (std::holds_alternative<wire::interested>(msg)) self.send(wire::unchoke{});
      if (const auto* r = std::get_if<wire::request>(&msg)) {
        std::vector<std::uint8_t> junk(r->length, 0x5a);
        self.send(wire::piece{r->index, r->offset, junk});
        ++lies;
      }
    };
  };
  auto liar_port = liar.listen({.port = 0, .default_count = 0});
  ASSERT_TRUE(liar_port);
  std::thread liar_thread([&] { io.run_for(30s); });

  // The leecher knows only the liar at first; the honest seeder dials in once a piece has
  // failed (a rate-limited seeder was racy: its 256 KiB burst could carry the whole torrent
  // before the liar was asked).
  session leecher(local_settings());
  auto leech_port = leecher.start();
  ASSERT_TRUE(leech_port);
  add_download(leecher, m, leech_dir.path, {local_peer(*liar_port)});
  bool failed_once = wait_for(
      [&] {
        auto all = leecher.status();
        return !all.empty() && all[0].hash_failures > 0;
      },
      10s);
  session seeder(local_settings());
  ASSERT_TRUE(seeder.start());
  add_seed(seeder, m, seed_dir.path, {local_peer(*leech_port)});
  bool finished = failed_once && wait_for([&] { return leecher.all_done(); }, 25s);
  auto st = leecher.status().at(0);
  leecher.stop();
  seeder.stop();
  io.stop();
  liar_thread.join();
  ASSERT_TRUE(finished) << "download did not finish";
  EXPECT_EQ(st.state, torrent_state::finished) << st.error;
  EXPECT_EQ(read_file(leech_dir.path / "data" / "f.bin"),
            read_file(seed_dir.path / "data" / "f.bin"));
  EXPECT_GT(lies, 0u);
  EXPECT_GE(st.hash_failures, 1u);
  EXPECT_EQ(st.banned_peers, 1u);  // the liar, and never the honest seeder
}

// BEP 9: a magnet torrent (info-hash only) fetches its metadata from the seeder, verifies it,
// then downloads like any torrent; the metadata is kept for the next start.
TEST(Session, MagnetDownloadFetchesTheMetadataFirst) {
  temp_dir seed_dir, leech_dir;
  auto m = make_torrent(seed_dir.path, "mag", {{"x.bin", 150'000}, {"y.bin", 9}}, 16384);

  session seeder(local_settings());
  auto seed_port = seeder.start();
  ASSERT_TRUE(seed_port);
  add_seed(seeder, m, seed_dir.path);

  session leecher(local_settings());
  ASSERT_TRUE(leecher.start());
  add_torrent_params lp;
  lp.magnet = magnet_source{*m.hash.v1, "shown until known", {}};
  lp.save_path = leech_dir.path;
  lp.save_torrent = leech_dir.path / "saved.torrent";
  lp.peers = {local_peer(*seed_port)};
  lp.goal.kind = seed_goal_kind::none;
  leecher.add_torrent(lp);
  ASSERT_TRUE(wait_for([&] { return leecher.all_done(); }, 20s)) << "magnet download unfinished";
  auto st = leecher.status().at(0);
  leecher.stop();
  EXPECT_EQ(st.state, torrent_state::finished) << st.error;
  EXPECT_EQ(st.name, "mag");
  EXPECT_EQ(st.metadata_size, static_cast<std::int64_t>(m.info_bytes.size()));
  for (const char* f : {"x.bin", "y.bin"})
    EXPECT_EQ(read_file(leech_dir.path / "mag" / f), read_file(seed_dir.path / "mag" / f)) << f;
  auto saved = parse_metainfo(read_file(leech_dir.path / "saved.torrent"));
  ASSERT_TRUE(saved) << saved.error().describe();
  EXPECT_EQ(*saved->hash.v1, *m.hash.v1);
  EXPECT_TRUE(fs::exists(leech_dir.path / ".peerwire" / (m.hash.v1->hex() + ".torrent")));
}

// A peer that offers the metadata but sends garbage for it is banned; the metadata then comes
// from an honest peer, and nothing the liar sent is used.
TEST(Session, MagnetLiarIsBannedAndTheMetadataComesFromAnHonestPeer) {
  temp_dir seed_dir, leech_dir;
  auto m = make_torrent(seed_dir.path, "mag", {{"x.bin", 100'000}}, 16384);

  boost::asio::io_context io;
  peer::connection_settings liar_settings;
  liar_settings.our_id = wire::random_peer_id();
  peer::peer_host liar(io.get_executor(), liar_settings);
  auto ref = seeding_ref(m);
  ref.metadata_size = static_cast<std::int64_t>(m.info_bytes.size());
  liar.add_torrent(ref);
  std::size_t lies = 0;
  auto size = ref.metadata_size;
  liar.on_connection = [&lies, size](peer::peer_connection& c) {
    c.on_message = [&lies, size](peer::peer_connection& self, const wire::message& msg) {
      const auto* e = std::get_if<wire::extended>(&msg);
      if (!e || e->id != peer::ut_metadata_id) return;
      auto req = ext::parse_metadata_message(e->payload);
      if (!req || req->type != ext::metadata_msg_type::request) return;
      std::string junk(static_cast<std::size_t>(size), 'j');
      auto reply = ext::encode_metadata_data(
          req->piece, size,
          std::span(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()));
      self.send_extended(
          "ut_metadata",
          std::span(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()));
      ++lies;
    };
  };
  auto liar_port = liar.listen({.port = 0, .default_count = 0});
  ASSERT_TRUE(liar_port);
  std::thread liar_thread([&] { io.run_for(30s); });

  session leecher(local_settings());
  auto leech_port = leecher.start();
  ASSERT_TRUE(leech_port);
  add_torrent_params lp;
  lp.magnet = magnet_source{*m.hash.v1, "", {}};
  lp.save_path = leech_dir.path;
  lp.peers = {local_peer(*liar_port)};
  lp.goal.kind = seed_goal_kind::none;
  leecher.add_torrent(lp);
  bool banned = wait_for(
      [&] {
        auto st = leecher.status();
        return !st.empty() && st[0].banned_peers == 1;
      },
      10s);
  auto before = leecher.status().at(0);

  // Only now does an honest peer appear (it dials the leecher).
  session seeder(local_settings());
  ASSERT_TRUE(seeder.start());
  add_seed(seeder, m, seed_dir.path, {local_peer(*leech_port)});
  bool finished = wait_for([&] { return leecher.all_done(); }, 20s);
  auto st = leecher.status().at(0);
  leecher.stop();
  seeder.stop();
  io.stop();
  liar_thread.join();
  ASSERT_TRUE(banned) << "the metadata liar was not banned";
  EXPECT_EQ(before.state, torrent_state::metadata);
  EXPECT_GT(lies, 0u);
  ASSERT_TRUE(finished) << "download did not finish";
  EXPECT_EQ(st.state, torrent_state::finished) << st.error;
  EXPECT_EQ(st.banned_peers, 1u);
  EXPECT_EQ(read_file(leech_dir.path / "mag" / "x.bin"),
            read_file(seed_dir.path / "mag" / "x.bin"));
}
