// --peer HOST:PORT arguments: validated and resolved once, up front, so a typo is a usage
// error instead of a peer silently never tried.
#pragma once

#include <optional>
#include <string>

namespace peerwire::app {

// "host:port", "1.2.3.4:port" or "[v6]:port" → "ADDRESS:PORT" / "[ADDRESS]:PORT" with a
// numeric address (the first one the resolver returns). nullopt with `error` set otherwise.
std::optional<std::string> resolve_peer_address(const std::string& text, std::string& error);

}  // namespace peerwire::app
