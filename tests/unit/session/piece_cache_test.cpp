// The seeding read cache's buffers: their live-bytes count and the recycling of big ones.
#include <gtest/gtest.h>

#include "piece_cache.hpp"

using namespace peerwire::session_detail;

TEST(ReadBuffers, BigBuffersAreReusedUpToTheKeptBytes) {
  auto recycler = std::make_shared<buffer_recycler>(2u << 20);  // keeps two 1 MiB buffers
  auto live = std::make_shared<std::atomic<std::size_t>>(0);
  const std::uint8_t* first = nullptr;
  {
    read_buffer a(1u << 20, live, recycler);
    first = a.span().data();
    EXPECT_EQ(live->load(), 1u << 20);
  }
  EXPECT_EQ(live->load(), 0u);
  EXPECT_EQ(recycler->kept(), 1u << 20);
  {
    read_buffer b(1u << 20, live, recycler);
    EXPECT_EQ(b.span().data(), first) << "the kept buffer is handed out again";
    EXPECT_EQ(recycler->kept(), 0u);
  }
  {  // three dropped at once: two are kept
    read_buffer c(1u << 20, live, recycler), d(1u << 20, live, recycler),
        e(1u << 20, live, recycler);
  }
  EXPECT_EQ(recycler->kept(), 2u << 20);
  read_buffer other(3u << 19, live, recycler);  // no kept buffer of that size
  EXPECT_EQ(recycler->kept(), 2u << 20);
  EXPECT_EQ(live->load(), 3u << 19);
}

TEST(ReadBuffers, SmallBuffersGoBackToMalloc) {
  auto recycler = std::make_shared<buffer_recycler>(8u << 20);
  { read_buffer block(16384, {}, recycler); }
  EXPECT_EQ(recycler->kept(), 0u);
  { read_buffer piece(buffer_recycler::min_size, {}, recycler); }
  EXPECT_EQ(recycler->kept(), buffer_recycler::min_size);
}
