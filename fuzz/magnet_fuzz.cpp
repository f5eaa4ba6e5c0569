// libFuzzer target: parse_magnet must never crash on arbitrary bytes, and any link it
// accepts must survive format_magnet -> parse_magnet unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "peerwire/magnet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto link = peerwire::parse_magnet(input);
  if (!link) return 0;

  std::string formatted = peerwire::format_magnet(*link);
  // Escaping can make the canonical form longer than the input; past the length cap a
  // re-parse is rejected by design, so there is nothing to compare.
  if (formatted.size() > peerwire::max_magnet_uri_length) return 0;
  auto again = peerwire::parse_magnet(formatted);
  if (!again) {
    std::fprintf(stderr, "formatted link does not re-parse: %s\n  %s\n",
                 again.error().describe().c_str(), formatted.c_str());
    std::abort();
  }
  if (!(*again == *link)) {
    std::fprintf(stderr, "round trip changed the link: %s\n", formatted.c_str());
    std::abort();
  }
  if (peerwire::format_magnet(*again) != formatted) {
    std::fprintf(stderr, "format is not a fixed point: %s\n", formatted.c_str());
    std::abort();
  }
  return 0;
}
