// One-line descriptions of messages and decoder errors, for --trace and logs.
#include "peerwire/wire.hpp"

namespace peerwire::wire {

namespace {

std::string str(std::uint64_t v) {
  return std::to_string(v);
}

std::string block(const char* name, std::uint32_t index, std::uint32_t offset,
                  std::uint64_t length) {
  return std::string(name) + " #" + str(index) + " off " + str(offset) + " len " + str(length);
}

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace

const char* message_name(const message& m) {
  return std::visit(overloaded{
                        [](const keep_alive&) { return "keep-alive"; },
                        [](const choke&) { return "choke"; },
                        [](const unchoke&) { return "unchoke"; },
                        [](const interested&) { return "interested"; },
                        [](const not_interested&) { return "not interested"; },
                        [](const have&) { return "have"; },
                        [](const bitfield&) { return "bitfield"; },
                        [](const request&) { return "request"; },
                        [](const piece&) { return "piece"; },
                        [](const cancel&) { return "cancel"; },
                        [](const port&) { return "port"; },
                        [](const suggest_piece&) { return "suggest piece"; },
                        [](const have_all&) { return "have all"; },
                        [](const have_none&) { return "have none"; },
                        [](const reject_request&) { return "reject request"; },
                        [](const allowed_fast&) { return "allowed fast"; },
                        [](const extended&) { return "extended"; },
                        [](const unknown_message&) { return "unknown"; },
                    },
                    m);
}

std::string describe(const message& m, std::uint32_t piece_count) {
  return std::visit(
      overloaded{
          [](const have& h) { return "have #" + str(h.index); },
          [piece_count](const bitfield& b) {
            if (piece_count == 0)
              return "bitfield " + str(b.bits.size()) + " bytes, " + str(count_pieces(b.bits)) +
                     " set";
            return "bitfield " + str(count_pieces(b.bits, piece_count)) + "/" + str(piece_count) +
                   " pieces";
          },
          [](const request& r) { return block("request", r.index, r.offset, r.length); },
          [](const piece& p) { return block("piece", p.index, p.offset, p.data.size()); },
          [](const cancel& c) { return block("cancel", c.index, c.offset, c.length); },
          [](const port& p) { return "port " + str(p.number); },
          [](const suggest_piece& s) { return "suggest piece #" + str(s.index); },
          [](const reject_request& r) {
            return block("reject request", r.index, r.offset, r.length);
          },
          [](const allowed_fast& a) { return "allowed fast #" + str(a.index); },
          [](const extended& e) {
            // Id 0 is fixed by BEP 10; the others are whatever the peers negotiated.
            return "extended id " + str(e.id) + (e.id == 0 ? " (handshake) " : " ") +
                   str(e.payload.size()) + " bytes";
          },
          [](const unknown_message& u) {
            return "unknown id " + str(u.id) + ", " + str(u.payload.size()) + " bytes";
          },
          [&m](const auto&) { return std::string(message_name(m)); },
      },
      m);
}

const char* describe(wire_error e) {
  switch (e) {
    case wire_error::message_too_long:
      return "message too long";
    case wire_error::wrong_payload_size:
      return "wrong payload size";
    case wire_error::bad_bitfield_size:
      return "bitfield of the wrong size";
    case wire_error::bitfield_spare_bits:
      return "bitfield with spare bits set";
    case wire_error::index_out_of_range:
      return "piece index out of range";
    case wire_error::bad_block_length:
      return "bad block length";
    case wire_error::block_out_of_range:
      return "block beyond the end of the piece";
    case wire_error::fast_not_negotiated:
      return "fast extension message not negotiated";
    case wire_error::extensions_not_negotiated:
      return "extended message not negotiated";
    case wire_error::extended_too_long:
      return "extended message too long";
  }
  return "?";
}

}  // namespace peerwire::wire
