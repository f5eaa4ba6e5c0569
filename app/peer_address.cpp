#include "peer_address.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

namespace peerwire::app {

std::optional<std::string> resolve_peer_address(const std::string& text, std::string& error) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    error = "'" + text + "' is not HOST:PORT";
    return std::nullopt;
  }
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  bool port_ok = !port.empty() && port.size() <= 5 &&
                 port.find_first_not_of("0123456789") == std::string::npos &&
                 std::stoul(port) >= 1 && std::stoul(port) <= 65535;
  if (host.empty() || !port_ok) {
    error = "'" + text + "' is not HOST:PORT with a port from 1 to 65535";
    return std::nullopt;
  }
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
