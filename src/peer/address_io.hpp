// Conversions between the pure peer_address and Asio's endpoints, and the text forms used in
// logs, trace lines and PEX ("1.2.3.4", "::1"; "1.2.3.4:6881", "[::1]:6881").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "peerwire/address.hpp"

namespace peerwire::peer {

ip_address from_asio(const boost::asio::ip::address& a);
boost::asio::ip::address to_asio(const ip_address& a);

peer_address from_endpoint(const boost::asio::ip::tcp::endpoint& e,
                           transport kind = transport::tcp);
peer_address from_endpoint(const boost::asio::ip::udp::endpoint& e,
                           transport kind = transport::utp);
boost::asio::ip::tcp::endpoint to_tcp_endpoint(const peer_address& a);
boost::asio::ip::udp::endpoint to_udp_endpoint(const peer_address& a);

// A numeric address ("1.2.3.4", "::1", no brackets); nullopt when it is not one.
std::optional<ip_address> parse_ip(std::string_view text);
// "1.2.3.4:6881" or "[::1]:6881" with a port of 1..65535; nullopt otherwise.
std::optional<peer_address> parse_peer_address(std::string_view text,
                                               transport kind = transport::tcp);

std::string to_string(const ip_address& a);
// "1.2.3.4:6881", "[::1]:6881" (the transport is not part of it).
std::string to_string(const peer_address& a);

}  // namespace peerwire::peer
