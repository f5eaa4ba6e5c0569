// Resume files are read back from disk where anything may have happened to them: decoding
// must never crash, and accepted data must match the torrent's shape.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "peerwire/bencode_value.hpp"
#include "peerwire/metainfo.hpp"
#include "peerwire/resume.hpp"

using namespace peerwire;

namespace {

const metainfo& torrent() {
  static const metainfo m = [] {
    bencode::list files{bencode::dict{{"length", 40000}, {"path", bencode::list{"a"}}},
                        bencode::dict{{"length", 0}, {"path", bencode::list{"b"}}},
                        bencode::dict{{"length", 9000}, {"path", bencode::list{"c"}}}};
    bencode::dict info{{"name", "t"},
                       {"files", files},
                       {"piece length", 16384},
                       {"pieces", std::string(3 * 20, 'x')}};
    return *parse_metainfo(bencode::encode(bencode::value(bencode::dict{{"info", info}})));
  }();
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const metainfo& m = torrent();
  auto r = storage::decode_resume(std::string_view(reinterpret_cast<const char*>(data), size), m);
  if (!r) return 0;
  if (r->have.size() != m.piece_count() || r->files.size() != m.files.size()) std::abort();
  auto again = storage::decode_resume(storage::encode_resume(*r), m);
  if (!again || !(*again == *r)) std::abort();
  return 0;
}
