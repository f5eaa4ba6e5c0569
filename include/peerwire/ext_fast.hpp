// BEP 6 (Fast Extension): the canonical allowed-fast set.
//
// Kept in ext rather than wire so this pure helper can land without touching the wire module;
// it only needs SHA-1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "peerwire/info_hash.hpp"

namespace peerwire::ext {

// The pieces a peer at `ipv4_address_host_order` may request from us while choked, for a
// torrent of `piece_count` pieces: BEP 6's algorithm (the address masked to its /24, followed
// by the info-hash, hashed repeatedly with SHA-1; each digest gives five big-endian 32-bit
// values taken modulo piece_count; duplicates skipped). Returns min(k, piece_count) distinct
// indices in generation order; empty when piece_count is 0.
//
// Masking to /24 means peers in one subnet share a set, so opening many connections from
// neighbouring addresses does not unlock more pieces.
std::vector<std::uint32_t> allowed_fast_set(std::uint32_t ipv4_address_host_order,
                                            const sha1_hash& info_hash, std::uint32_t piece_count,
                                            std::size_t k);

}  // namespace peerwire::ext
