#include "peer_address.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

namespace peerwire::app {

bool split_host_port(const std::string& text, std::string& host, std::uint16_t& port) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  host = text.substr(0, colon);
  std::string digits = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  unsigned long v = std::stoul(digits);
  if (v < 1 || v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

std::optional<std::string> resolve_peer_address(const std::string& text, std::string& error) {
  std::string host;
  std::uint16_t port_number = 0;
  if (!split_host_port(text, host, port_number)) {
    error = "'" + text + "' is not HOST:PORT with a port from 1 to 65535";
    return std::nullopt;
  }
  std::string port = std::to_string(port_number);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    error = "cannot resolve '" + host + "': " + ::gai_strerror(rc);
    return std::nullopt;
  }
  char address[NI_MAXHOST] = {};
  rc = ::getnameinfo(found->ai_addr, found->ai_addrlen, address, sizeof address, nullptr, 0,
                     NI_NUMERICHOST);
  bool v6 = found->ai_family == AF_INET6;
  ::freeaddrinfo(found);
  if (rc != 0) {
    error = "cannot resolve '" + host + "': " + ::gai_strerror(rc);
    return std::nullopt;
  }
  return v6 ? "[" + std::string(address) + "]:" + port : std::string(address) + ":" + port;
}

}  // namespace peerwire::app
