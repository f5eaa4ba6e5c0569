// The picker as the one record of requests in flight: when each was sent, timeouts, and how
// long we have waited for a peer's answer (the input of the snub rule).
#include <gtest/gtest.h>

#include "picker_fixture.hpp"

using namespace picker_test;
using namespace std::chrono_literals;

namespace {

constexpr peer_key a = 1, b = 2;
const time_point t0 = time_point{} + 1000s;

TEST(Timing, ExpiredRequestsAreFreedOldestFirstAndCountedOnce) {
  auto pp = make_picker("11");
  add_peer_bits(pp, a, "*");
  add_peer_bits(pp, b, "*");
  auto early = pp.pick(a, 2, false, true, 1, t0);
  auto late = pp.pick(a, 2, false, true, 1, t0 + 20s);
  ASSERT_EQ(early.size(), 2u);
  ASSERT_EQ(late.size(), 2u);
  EXPECT_EQ(pp.outstanding_total(), 4u);
  // 30 s is the limit: exactly 30 s old is still waited for.
  EXPECT_TRUE(pp.expire_requests(a, t0 + 30s, 30s).empty());
  EXPECT_EQ(pp.expire_requests(a, t0 + 31s, 30s), early);
  EXPECT_EQ(pp.outstanding(a), 2u);
  EXPECT_EQ(pp.outstanding_total(), 2u);
  // The expired blocks are free for another peer; a late arrival from a is not taken.
  auto again = pp.pick(b, 2, false, true, 1, t0 + 31s);
  EXPECT_EQ(again, early);
  EXPECT_EQ(pp.on_block(a, early[0], t0 + 32s).status, received::unrequested);
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Timing, WaitingSinceRunsFromTheFirstRequestUntilAnAnswer) {
  auto pp = make_picker("1111");
  add_peer_bits(pp, a, "*");
  EXPECT_FALSE(pp.waiting_since(a));
  auto first = pp.pick(a, 2, false, true, 1, t0);
  EXPECT_EQ(pp.waiting_since(a), t0);
  pp.pick(a, 2, false, true, 1, t0 + 5s);  // more asked: still waiting since t0
  EXPECT_EQ(pp.waiting_since(a), t0);
  EXPECT_EQ(pp.on_block(a, first[0], t0 + 7s).status, received::accepted);
  EXPECT_EQ(pp.waiting_since(a), t0 + 7s);                  // an answer: the wait starts again
  EXPECT_TRUE(pp.on_request_failed(a, first[1], t0 + 8s));  // a reject is an answer too
  EXPECT_EQ(pp.waiting_since(a), t0 + 8s);
  EXPECT_FALSE(pp.on_request_failed(a, first[1], t0 + 9s));  // not requested any more
  pp.release_peer_requests(a);                               // a choke: nothing to wait for
  EXPECT_FALSE(pp.waiting_since(a));
  EXPECT_EQ(pp.outstanding_total(), 0u);
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Timing, ATimeoutIsNotAnAnswerSoASilentPeerBecomesSnubbed) {
  auto pp = make_picker("11");
  add_peer_bits(pp, a, "*");
  pp.pick(a, 2, false, true, 1, t0);
  // Its requests time out at 31 s and are asked again: the wait still dates from t0, so the
  // peer that never answered is snubbed at 60 s, not 60 s after the re-request.
  pp.expire_requests(a, t0 + 31s, 30s);
  EXPECT_EQ(pp.waiting_since(a), t0);
  pp.pick(a, 2, false, true, 1, t0 + 31s);
  EXPECT_EQ(pp.waiting_since(a), t0);
  auto ms = [](time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  };
  EXPECT_FALSE(is_snubbed(false, pp.outstanding(a), ms(t0 + 59s), ms(*pp.waiting_since(a))));
  EXPECT_TRUE(is_snubbed(false, pp.outstanding(a), ms(t0 + 60s), ms(*pp.waiting_since(a))));
}

TEST(Timing, EndgameCancelEndsTheWaitForAPeerLeftWithNothing) {
  auto pp = make_picker("1");
  add_peer_bits(pp, a, "*");
  add_peer_bits(pp, b, "*");
  auto all = pp.pick(a, 4, false, true, 1, t0);
  ASSERT_TRUE(pp.in_endgame());
  auto dup = pp.pick(b, 1, false, true, 1, t0 + 1s);
  ASSERT_EQ(dup.size(), 1u);
  auto r = pp.on_block(a, dup[0], t0 + 2s);
  EXPECT_EQ(r.cancel_at, std::vector<peer_key>{b});
  EXPECT_EQ(pp.outstanding(b), 0u);
  EXPECT_FALSE(pp.waiting_since(b));
  EXPECT_EQ(pp.outstanding_total(), 3u);
  EXPECT_EQ(pp.check_invariants(), "");
}

}  // namespace
