// Making our peer id: the Azureus-style prefix plus random bytes.
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "peerwire/wire_peer_id.hpp"

namespace peerwire::wire {

static_assert(our_peer_id_prefix.size() == 8);

peer_id make_peer_id(std::span<const std::uint8_t, 12> random_bytes) {
  peer_id id{};
  std::copy(our_peer_id_prefix.begin(), our_peer_id_prefix.end(), id.begin());
  std::copy(random_bytes.begin(), random_bytes.end(), id.begin() + 8);
  return id;
}

peer_id random_peer_id() {
  std::array<std::uint8_t, 12> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
    throw std::runtime_error("OpenSSL: RAND_bytes failed");
  return make_peer_id(random);
}

}  // namespace peerwire::wire
