// Decoder fuzz target: any input either fails cleanly or decodes to a tree whose canonical
// re-encoding decodes again to the same tree (and is a fixed point of re-encoding).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "peerwire/bencode.hpp"
#include "peerwire/bencode_value.hpp"

using namespace peerwire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto doc = bencode::decode(in);
  if (!doc) {
    // Errors must point inside the input (or be positionless).
    if (doc.error().offset != failure::no_offset && doc.error().offset > size) std::abort();
    return 0;
  }
  if (doc->root().raw() != in) std::abort();
  std::string canonical = bencode::encode(doc->root());
  auto again = bencode::decode(
      canonical,
      {.max_input_size = canonical.size() + 1, .max_depth = 100, .max_tokens = doc->token_count()});
  if (!again) std::abort();
  if (bencode::encode(again->root()) != canonical) std::abort();
  if (!(bencode::to_value(again->root()) == bencode::to_value(doc->root()))) std::abort();
  return 0;
}
