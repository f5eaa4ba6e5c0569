// BEP 10 extension handshake payloads come straight from peers: parse must never crash, and
// what it accepts must survive our own encoder and parser again.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "peerwire/ext_handshake.hpp"

using namespace peerwire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto h = ext::parse_handshake(std::span(data, size));
  if (!h) return 0;
  std::string again = ext::encode_handshake(*h);
  auto back = ext::parse_handshake(
      std::span(reinterpret_cast<const std::uint8_t*>(again.data()), again.size()));
  if (!back) std::abort();
  if (back->extensions != h->extensions || back->client != h->client || back->reqq != h->reqq ||
      back->listen_port != h->listen_port || back->metadata_size != h->metadata_size) {
    std::abort();
  }
  return 0;
}
