#include "address_io.hpp"

#include <charconv>

#include <fmt/format.h>

namespace peerwire::peer {

namespace ip = boost::asio::ip;

ip_address from_asio(const ip::address& a) {
  if (a.is_v4()) return ip_address::from_v4(a.to_v4().to_bytes());
  return ip_address::from_v6(a.to_v6().to_bytes());
}

ip::address to_asio(const ip_address& a) {
  if (a.v6) return ip::address_v6(a.bytes);
  return ip::address_v4(ip::address_v4::bytes_type{a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]});
}

peer_address from_endpoint(const ip::tcp::endpoint& e, transport kind) {
  return {from_asio(e.address()), e.port(), kind};
}

peer_address from_endpoint(const ip::udp::endpoint& e, transport kind) {
  return {from_asio(e.address()), e.port(), kind};
}

ip::tcp::endpoint to_tcp_endpoint(const peer_address& a) {
  return {to_asio(a.ip), a.port};
}

ip::udp::endpoint to_udp_endpoint(const peer_address& a) {
  return {to_asio(a.ip), a.port};
}

std::optional<ip_address> parse_ip(std::string_view text) {
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return from_asio(a);
}

std::optional<peer_address> parse_peer_address(std::string_view text, transport kind) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon), port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto ip = parse_ip(host);
  if (!ip) return std::nullopt;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return std::nullopt;
  return peer_address{*ip, static_cast<std::uint16_t>(port), kind};
}

std::string to_string(const ip_address& a) {
  return to_asio(a).to_string();
}

std::string to_string(const peer_address& a) {
  if (a.ip.v6) return fmt::format("[{}]:{}", to_string(a.ip), a.port);
  return fmt::format("{}:{}", to_string(a.ip), a.port);
}

}  // namespace peerwire::peer
