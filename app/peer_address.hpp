// --peer HOST:PORT arguments: validated and resolved once, up front, so a typo is a usage
// error instead of a peer silently never tried.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace peerwire::app {

// Splits "host:port" / "[v6]:port" (brackets removed) and checks the port is 1..65535.
bool split_host_port(const std::string& text, std::string& host, std::uint16_t& port);

// "host:port", "1.2.3.4:port" or "[v6]:port" → "ADDRESS:PORT" / "[ADDRESS]:PORT" with a
// numeric address (the first one the resolver returns). nullopt with `error` set otherwise.
std::optional<std::string> resolve_peer_address(const std::string& text, std::string& error);

}  // namespace peerwire::app
