#include <gtest/gtest.h>

#include <string>

#include "peerwire/bencode.hpp"

using namespace peerwire;
using bencode::decode;

namespace {

// Decodes and expects failure; returns the error for inspection.
failure decode_error(std::string_view in, const bencode::limits& lim = {}) {
  auto d = decode(in, lim);
  EXPECT_FALSE(d) << "decoded unexpectedly: " << in;
  return d ? failure{} : d.error();
}

}  // namespace

TEST(Decode, Integers) {
  for (auto [text, value] : std::initializer_list<std::pair<const char*, std::int64_t>>{
           {"i0e", 0},
           {"i42e", 42},
           {"i-7e", -7},
           {"i9223372036854775807e", INT64_MAX},
           {"i-9223372036854775808e", INT64_MIN}}) {
    auto d = decode(text);
    ASSERT_TRUE(d) << text << ": " << d.error().describe();
    EXPECT_TRUE(d->root().is_int());
    EXPECT_EQ(d->root().as_int(), value) << text;
  }
}

TEST(Decode, RejectsMalformedIntegers) {
  struct case_t {
    const char* text;
    const char* message_part;
    std::size_t offset;
  };
  for (auto c : {case_t{"ie", "empty integer", 1}, case_t{"i-e", "empty integer", 1},
                 case_t{"i03e", "leading zero", 1}, case_t{"i-0e", "negative zero", 1},
                 case_t{"i-03e", "leading zero", 2}, case_t{"i1x2e", "invalid character", 2},
                 case_t{"i9223372036854775808e", "64 bits", 1},
                 case_t{"i-9223372036854775809e", "64 bits", 1}, case_t{"i12", "unterminated", 0},
                 case_t{"i+1e", "invalid character", 1}}) {
    failure e = decode_error(c.text);
    EXPECT_NE(e.message.find(c.message_part), std::string::npos) << c.text << " -> " << e.message;
    EXPECT_EQ(e.offset, c.offset) << c.text << " -> " << e.describe();
  }
}

TEST(Decode, Strings) {
  auto d = decode("5:hello");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->root().as_string(), "hello");
  EXPECT_EQ(d->root().raw(), "5:hello");

  auto empty = decode("0:");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->root().as_string(), "");

  std::string binary("3:a\0b", 5);
  auto b = decode(binary);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->root().as_string(), std::string_view("a\0b", 3));
}

TEST(Decode, RejectsMalformedStrings) {
  EXPECT_NE(decode_error("5:abc").message.find("only 3 bytes remain"), std::string::npos);
  EXPECT_NE(decode_error("05:hello").message.find("leading zero"), std::string::npos);
  EXPECT_NE(decode_error("5").message.find("unterminated"), std::string::npos);
  EXPECT_NE(decode_error("5x").message.find("expected ':'"), std::string::npos);
  EXPECT_NE(decode_error("99999999999999999999:a").message.find("too long"), std::string::npos);
  // A huge declared length must not be trusted (no allocation, no overflow).
  EXPECT_NE(decode_error("4294967295:a").message.find("remain"), std::string::npos);
}

TEST(Decode, ListsAndDicts) {
  auto d = decode("d3:bar4:spam3:fooi42e4:listl1:ai1eee");
  ASSERT_TRUE(d) << d.error().describe();
  auto root = d->root();
  ASSERT_TRUE(root.is_dict());
  EXPECT_EQ(root.size(), 3u);
  EXPECT_EQ(root.find_string("bar"), "spam");
  EXPECT_EQ(root.find_int("foo"), 42);
  EXPECT_FALSE(root.find_int("bar"));  // wrong type
  EXPECT_FALSE(root.find("missing"));
  auto list = root.find_list("list");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 2u);
  std::vector<std::string> kinds;
  for (auto item : list->items()) kinds.push_back(bencode::type_name(item.kind()));
  EXPECT_EQ(kinds, (std::vector<std::string>{"string", "integer"}));
  EXPECT_EQ(list->raw(), "l1:ai1ee");
  EXPECT_EQ(list->offset(), 27u);

  std::vector<std::string> keys;
  for (auto [k, v] : root.pairs()) keys.emplace_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"bar", "foo", "list"}));
}

TEST(Decode, EmptyContainers) {
  auto d = decode("d1:ale1:bdee");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->root().find_list("a")->size(), 0u);
  EXPECT_EQ(d->root().find_dict("b")->size(), 0u);
  EXPECT_EQ(d->root().find_dict("b")->raw(), "de");
}

TEST(Decode, UnsortedKeysAcceptedButDuplicatesRejected) {
  auto d = decode("d1:bi1e1:ai2ee");
  ASSERT_TRUE(d) << d.error().describe();
  EXPECT_EQ(d->root().find_int("a"), 2);
  EXPECT_EQ(d->root().find_int("b"), 1);

  failure sorted_dup = decode_error("d1:ai1e1:ai2ee");
  EXPECT_NE(sorted_dup.message.find("duplicate dictionary key 'a'"), std::string::npos);
  EXPECT_EQ(sorted_dup.offset, 7u);

  failure unsorted_dup = decode_error("d1:bi1e1:ai2e1:bi3ee");
  EXPECT_NE(unsorted_dup.message.find("duplicate dictionary key 'b'"), std::string::npos);
  EXPECT_EQ(unsorted_dup.offset, 13u);
}

TEST(Decode, StructuralErrors) {
  EXPECT_EQ(decode_error("").message.find("empty input"), 0u);
  EXPECT_NE(decode_error("di1ei2ee").message.find("key must be a string"), std::string::npos);
  EXPECT_NE(decode_error("d1:ae").message.find("key without a value"), std::string::npos);
  EXPECT_NE(decode_error("l").message.find("inside a list opened at byte 0"), std::string::npos);
  EXPECT_NE(decode_error("e").message.find("unexpected 'e'"), std::string::npos);
  failure trailing = decode_error("i1eXYZ");
  EXPECT_NE(trailing.message.find("3 bytes of trailing data"), std::string::npos);
  EXPECT_EQ(trailing.offset, 3u);
  failure bad = decode_error("l1:ax");
  EXPECT_NE(bad.message.find("found 'x'"), std::string::npos);
  EXPECT_EQ(bad.offset, 4u);
  EXPECT_NE(decode_error(std::string("\x01", 1)).message.find("byte 0x01"), std::string::npos);
}

TEST(Decode, DepthLimit) {
  std::string ok(100, 'l');
  ok += std::string(100, 'e');
  EXPECT_TRUE(decode(ok));
  std::string deep(101, 'l');
  deep += std::string(101, 'e');
  failure e = decode_error(deep);
  EXPECT_NE(e.message.find("nesting deeper than 100"), std::string::npos);
  EXPECT_EQ(e.offset, 100u);

  // Very deep input fails fast without recursion.
  std::string bomb(5'000'000, 'l');
  EXPECT_FALSE(decode(bomb, {.max_input_size = 10'000'000}));
}

TEST(Decode, TokenAndSizeLimits) {
  bencode::limits lim;
  lim.max_tokens = 3;
  EXPECT_TRUE(decode("li1ei2ee", lim));
  EXPECT_NE(decode_error("li1ei2ei3ee", lim).message.find("more than 3 values"), std::string::npos);

  lim = {};
  lim.max_input_size = 4;
  EXPECT_TRUE(decode("i12e", lim));
  EXPECT_NE(decode_error("i123e", lim).message.find("larger than the limit"), std::string::npos);

  // Default limit: 10 MB.
  std::string big = "10485761:" + std::string(10485761, 'x');
  EXPECT_NE(decode_error(big).message.find("larger than the limit"), std::string::npos);
}

TEST(Decode, RawSpansAreExactInputBytes) {
  // Unsorted keys inside info: the raw span must be exactly what was in the input.
  std::string in = "d4:infod1:zi1e1:ai2ee3:xyzi0ee";
  auto d = decode(in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->root().find("info")->raw(), "d1:zi1e1:ai2ee");
  EXPECT_EQ(d->root().raw(), in);
}
