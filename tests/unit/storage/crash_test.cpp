// "Killing the process with SIGKILL at any moment and restarting must finish with correct
// data": a child downloads (writes verified pieces in random order, saving resume data the
// documented way) and is killed at a random moment, again and again. After every kill the
// resume file must load, and every piece it claims (after the stamp-based recheck) must really
// be on disk; a last run finishes and the data must be exact.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "peerwire/resume.hpp"
#include "unit/storage/storage_fixture.hpp"

using namespace peerwire;
using namespace peerwire::storage;
using namespace storage_test;

namespace {

// What a restart believes it has: the resume data, corrected by rechecking suspect pieces.
std::vector<bool> restart_view(disk_storage& d, const sample& s, const fs::path& resume_file) {
  auto loaded = load_resume(resume_file, s.m);
  if (!loaded) throw std::runtime_error(loaded.error().describe());
  if (!loaded->has_value()) return std::vector<bool>(s.m.piece_count(), false);
  const resume_data& r = **loaded;
  std::vector<bool> have = r.have;
  auto suspects = pieces_to_recheck(s.m, r, d.stamps());
  if (!suspects.empty()) {
    auto checked = d.check_pieces(suspects, 1);
    if (!checked) throw std::runtime_error(checked.error().message);
    for (auto p : suspects) have[p] = (*checked)[p];
  }
  return have;
}

void save(disk_storage& d, const sample& s, const std::vector<bool>& have,
          const fs::path& resume_file) {
  resume_data r;
  r.info_hash = *s.m.hash.v1;
  r.have = have;  // 1. snapshot (every piece in it has been written)
  if (!d.flush()) throw std::runtime_error("flush failed");                              // 2.
  r.files = d.stamps();                                                                  // 3.
  if (!save_resume_atomically(resume_file, r)) throw std::runtime_error("save failed");  // 4.
}

void download_session(const sample& s, const fs::path& dir, const fs::path& resume_file,
                      unsigned seed) {
  auto d = disk_storage::open(s.m, dir);
  if (!d) throw std::runtime_error(d.error().message);
  auto have = restart_view(*d, s, resume_file);
  std::vector<std::uint32_t> order(s.m.piece_count());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  int written = 0;
  for (auto p : order) {
    if (have[p]) continue;
    if (!d->write_piece(p, s.piece(p))) throw std::runtime_error("write failed");
    have[p] = true;
    if (++written % 4 == 0) save(*d, s, have, resume_file);
  }
  save(*d, s, have, resume_file);
}

}  // namespace

TEST(Crash, SigkillAtAnyMomentThenRestartFinishesCorrectly) {
  temp_dir t;
  auto s = make_sample(
      {{"a", (1 << 20) + 3}, {"dir/b", 2 << 20}, {"c", 1000}, {"d", (1 << 20) - 5}}, 16 * 1024);
  fs::path resume_file = t.path() / ".peerwire" / "x.resume";
  std::mt19937 rng(42);
  int claimed_total = 0;
  for (unsigned round = 0; round < 15; ++round) {
    pid_t pid = ::fork();
    if (pid == 0) {
      try {
        download_session(s, t.path(), resume_file, round);
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 40000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) != 0)
        << "child failed in round " << round;

    auto d = disk_storage::open(s.m, t.path());
    ASSERT_TRUE(d);
    auto have = restart_view(*d, s, resume_file);  // throws if the resume file is broken
    auto good = d->check_pieces({}, 2);
    ASSERT_TRUE(good) << good.error().message;
    for (std::size_t p = 0; p < have.size(); ++p) {
      ASSERT_TRUE(!have[p] || (*good)[p])
          << "round " << round << ": piece " << p << " claimed but wrong on disk";
      claimed_total += have[p];
    }
  }
  download_session(s, t.path(), resume_file, 99);
  for (std::size_t i = 0; i < s.m.files.size(); ++i) {
    auto path = t.path() / "t";
    for (std::size_t c = 1; c < s.m.files[i].path.size(); ++c) path /= s.m.files[i].path[c];
    EXPECT_EQ(read_all(path), expected_file(s, i)) << path;
  }
  EXPECT_GT(claimed_total, 0) << "no kill landed after a save: the test proved little";
}
