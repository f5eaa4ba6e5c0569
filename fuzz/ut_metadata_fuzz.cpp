// BEP 9 ut_metadata payloads come straight from peers: parsing must never crash, what it
// accepts must re-encode to an equivalent message, and accepted data must be accepted by an
// assembler sized from the message.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "peerwire/ext_metadata.hpp"

using namespace peerwire;

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto m = ext::parse_metadata_message(std::span(data, size));
  if (!m) return 0;
  if (m->type == ext::metadata_msg_type::unknown) return 0;

  std::string again;
  switch (m->type) {
    case ext::metadata_msg_type::request:
      again = ext::encode_metadata_request(m->piece);
      break;
    case ext::metadata_msg_type::reject:
      again = ext::encode_metadata_reject(m->piece);
      break;
    default:
      again = ext::encode_metadata_data(m->piece, m->total_size, m->data);
      break;
  }
  auto back = ext::parse_metadata_message(bytes_of(again));
  if (!back || back->type != m->type || back->piece != m->piece ||
      back->total_size != m->total_size || back->data.size() != m->data.size() ||
      !std::equal(m->data.begin(), m->data.end(), back->data.begin())) {
    std::abort();
  }

  if (m->type == ext::metadata_msg_type::data) {
    auto a = ext::metadata_assembler::create(sha1_hash{}, m->total_size);
    if (!a) std::abort();
    auto r = a->add_piece(*m, 1);
    if (!r) std::abort();
    if (a->piece_count() == 1 && r->state == ext::metadata_assembler::status::accepted)
      std::abort();  // a one-piece metadata must be finished by its only piece
  }
  return 0;
}
