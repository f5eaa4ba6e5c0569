// Announce load generator for `peerwire tracker` and opentracker (bench/tracker_bench.sh).
//
//   bench_tracker_load --write-hashes FILE [--torrents N]      the info-hashes it will use
//   bench_tracker_load --udp PORT  [options]                   BEP 15 announces
//   bench_tracker_load --http PORT [options]                   HTTP GET /announce
//
// Options: --torrents N (1000), --peers-per-torrent P (200), --seconds S (5), --max N
// (2 000 000 announces), --clients C (UDP sockets or TCP connections; 8), --window W (UDP
// requests in flight per socket; 16), --keep-alive (HTTP: reuse connections; default is one
// connection per announce, as most clients do). Prints one line: "<mode> <announces/s> ...".
//
// Announce j is for torrent j % N from peer (j / N) % P (its port), half of them seeders, so
// the trackers hold N * P peers at steady state and every reply carries peers (numwant 50).
// Plain POSIX sockets and poll(): the generator must cost less than the trackers it drives.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  int udp_port = 0, http_port = 0;
  std::string write_hashes;
  std::uint32_t torrents = 1000, peers = 200;
  double seconds = 5;
  std::uint64_t max = 2'000'000;
  int clients = 8, window = 16;
  bool keep_alive = false;
};

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::array<std::uint8_t, 20> info_hash(std::uint32_t t) {
  std::array<std::uint8_t, 20> h{};
  for (int i = 0; i < 20; i += 8) {
    std::uint64_t v = splitmix(t * 3ULL + static_cast<std::uint64_t>(i));
    std::memcpy(h.data() + i, &v, static_cast<std::size_t>(std::min(8, 20 - i)));
  }
  return h;
}

struct announce_spec {
  std::array<std::uint8_t, 20> hash, peer_id;
  std::uint16_t port;
  bool seed;
};

announce_spec spec_for(const options& o, std::uint64_t j) {
  announce_spec s;
  auto t = static_cast<std::uint32_t>(j % o.torrents);
  auto p = static_cast<std::uint32_t>((j / o.torrents) % o.peers);
  s.hash = info_hash(t);
  char id[21];
  std::snprintf(id, sizeof id, "-LG0001-%06u%06u", t % 1000000, p % 1000000);
  std::memcpy(s.peer_id.data(), id, 20);
  s.port = static_cast<std::uint16_t>(1024 + p);
  s.seed = (p & 1) != 0;
  return s;
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void put_be(std::uint8_t* p, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}

std::uint64_t get_be(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// ---- UDP --------------------------------------------------------------------------------

struct udp_client {
  int fd = -1;
  std::uint64_t cid = 0;
  int in_flight = 0;
  clock_type::time_point last_reply;
};

bool udp_connect(udp_client& c, std::uint32_t tid) {
  std::uint8_t req[16], rep[64];
  put_be(req, 0x41727101980ULL, 8);
  put_be(req + 8, 0, 4);
  put_be(req + 12, tid, 4);
  for (int attempt = 0; attempt < 20; ++attempt) {
    send(c.fd, req, sizeof req, 0);
    pollfd pfd{c.fd, POLLIN, 0};
    if (poll(&pfd, 1, 200) <= 0) continue;
    ssize_t n = recv(c.fd, rep, sizeof rep, 0);
    if (n >= 16 && get_be(rep, 4) == 0 && get_be(rep + 4, 4) == tid) {
      c.cid = get_be(rep + 8, 8);
      return true;
    }
  }
  return false;
}

int run_udp(const options& o) {
  std::vector<udp_client> cs(static_cast<std::size_t>(o.clients));
  auto server = loopback(o.udp_port);
  for (std::size_t i = 0; i < cs.size(); ++i) {
    cs[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
    int buf = 4 << 20;
    setsockopt(cs[i].fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    if (connect(cs[i].fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0 ||
        !udp_connect(cs[i], static_cast<std::uint32_t>(i + 1))) {
      std::fprintf(stderr, "tracker_load: no UDP connect reply from port %d\n", o.udp_port);
      return 1;
    }
    fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
  }
  std::uint64_t next = 0, replies = 0, errors = 0, peers_seen = 0, lost = 0;
  std::array<std::uint8_t, 98> req{};
  std::array<std::uint8_t, 2048> rep{};
  auto send_one = [&](udp_client& c) {
    auto s = spec_for(o, next);
    put_be(req.data(), c.cid, 8);
    put_be(req.data() + 8, 1, 4);
    put_be(req.data() + 12, static_cast<std::uint32_t>(next), 4);
    std::memcpy(req.data() + 16, s.hash.data(), 20);
    std::memcpy(req.data() + 36, s.peer_id.data(), 20);
    put_be(req.data() + 56, 0, 8);
    put_be(req.data() + 64, s.seed ? 0 : 1000000, 8);
    put_be(req.data() + 72, 0, 8);
    put_be(req.data() + 80, 0, 4);
    put_be(req.data() + 84, 0, 4);
    put_be(req.data() + 88, 0x1234, 4);
    put_be(req.data() + 92, 50, 4);
    put_be(req.data() + 96, s.port, 2);
    if (send(c.fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size())) {
      ++c.in_flight;
      ++next;
    }
  };
  const auto start = clock_type::now();
  const auto end = start + std::chrono::duration<double>(o.seconds);
  for (auto& c : cs) {
    c.last_reply = start;
    for (int w = 0; w < o.window; ++w) send_one(c);
  }
  std::vector<pollfd> pfds(cs.size());
  while (next < o.max && clock_type::now() < end) {
    for (std::size_t i = 0; i < cs.size(); ++i) pfds[i] = {cs[i].fd, POLLIN, 0};
    poll(pfds.data(), pfds.size(), 50);
    const auto now = clock_type::now();
    for (std::size_t i = 0; i < cs.size(); ++i) {
      auto& c = cs[i];
      for (;;) {
        ssize_t n = recv(c.fd, rep.data(), rep.size(), 0);
        if (n < 0) break;
        c.last_reply = now;
        if (c.in_flight > 0) --c.in_flight;
        if (n >= 20 && get_be(rep.data(), 4) == 1) {
          ++replies;
          peers_seen += static_cast<std::uint64_t>(n - 20) / 6;
        } else {
          ++errors;
        }
        if (next < o.max) send_one(c);
      }
      // Replies dropped (socket buffers full): refill the window after 200 ms of silence.
      if (now - c.last_reply > std::chrono::milliseconds(200)) {
        lost += static_cast<std::uint64_t>(c.in_flight);
        c.in_flight = 0;
        c.last_reply = now;
        for (int w = 0; w < o.window; ++w) send_one(c);
      }
    }
  }
  double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf(
      "udp %.0f announces/s (%llu replies in %.2f s, %llu errors, %llu lost, %.1f peers "
      "per reply)\n",
      static_cast<double>(replies) / secs, static_cast<unsigned long long>(replies), secs,
      static_cast<unsigned long long>(errors), static_cast<unsigned long long>(lost),
      replies ? static_cast<double>(peers_seen) / static_cast<double>(replies) : 0.0);
  for (auto& c : cs) close(c.fd);
  return replies > 0 && errors == 0 ? 0 : 1;
}

// ---- HTTP -------------------------------------------------------------------------------

std::string escape(const std::array<std::uint8_t, 20>& b) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (auto c : b) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

struct http_client {
  int fd = -1;
  std::string in;
  bool busy = false;
};

int run_http(const options& o) {
  auto server = loopback(o.http_port);
  std::vector<http_client> cs(static_cast<std::size_t>(o.clients));
  std::uint64_t next = 0, replies = 0, errors = 0, connects = 0;
  auto open_conn = [&](http_client& c) {
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Blocking connect on loopback completes at once; the socket is then made non-blocking.
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
      close(c.fd);
      c.fd = -1;
      return false;
    }
    fcntl(c.fd, F_SETFL, O_NONBLOCK);
    ++connects;
    return true;
  };
  auto send_one = [&](http_client& c) {
    if (c.fd < 0 && !open_conn(c)) return;
    auto s = spec_for(o, next);
    std::string req = "GET /announce?info_hash=" + escape(s.hash) +
                      "&peer_id=" + escape(s.peer_id) + "&port=" + std::to_string(s.port) +
                      "&uploaded=0&downloaded=0&left=" + (s.seed ? "0" : "1000000") +
                      "&numwant=50&compact=1&key=1234" + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                      (o.keep_alive ? "" : "Connection: close\r\n") + "\r\n";
    if (send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      c.busy = true;
      c.in.clear();
      ++next;
    } else {
      close(c.fd);
      c.fd = -1;
    }
  };
  const auto start = clock_type::now();
  const auto end = start + std::chrono::duration<double>(o.seconds);
  for (auto& c : cs) send_one(c);
  std::vector<pollfd> pfds(cs.size());
  char buf[16384];
  while (next < o.max && clock_type::now() < end) {
    for (std::size_t i = 0; i < cs.size(); ++i) pfds[i] = {cs[i].fd, POLLIN, 0};
    poll(pfds.data(), pfds.size(), 50);
    for (auto& c : cs) {
      if (c.fd < 0) {
        send_one(c);
        continue;
      }
      bool closed = false;
      for (;;) {
        ssize_t n = recv(c.fd, buf, sizeof buf, 0);
        if (n > 0) {
          c.in.append(buf, static_cast<std::size_t>(n));
          continue;
        }
        closed = n == 0;
        break;
      }
      // A response is complete when its Content-Length worth of body is in.
      auto head_end = c.in.find("\r\n\r\n");
      bool complete = false, server_keeps = false;
      if (head_end != std::string::npos) {
        std::string_view head(c.in.data(), head_end);
        auto cl = head.find("Content-Length: ");
        if (cl == std::string_view::npos) cl = head.find("content-length: ");
        if (cl != std::string_view::npos) {
          std::size_t len = std::strtoul(c.in.c_str() + cl + 16, nullptr, 10);
          complete = c.in.size() >= head_end + 4 + len;
        } else {
          complete = closed;
        }
        server_keeps = head.substr(0, 8) == "HTTP/1.1" &&
                       head.find("onnection: close") == std::string_view::npos;
      }
      if (complete && c.busy) {
        c.busy = false;
        bool ok =
            c.in.compare(9, 3, "200") == 0 && c.in.find("failure reason") == std::string::npos;
        ok ? ++replies : ++errors;
        if (!o.keep_alive || !server_keeps || closed) {
          close(c.fd);
          c.fd = -1;
        }
        if (next < o.max) send_one(c);
      } else if (closed) {
        if (c.busy) ++errors;
        close(c.fd);
        c.fd = -1;
        c.busy = false;
        send_one(c);
      }
    }
  }
  double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("http %.0f announces/s (%llu replies in %.2f s, %llu errors, %llu connections)\n",
              static_cast<double>(replies) / secs, static_cast<unsigned long long>(replies), secs,
              static_cast<unsigned long long>(errors), static_cast<unsigned long long>(connects));
  for (auto& c : cs) {
    if (c.fd >= 0) close(c.fd);
  }
  return replies > 0 && errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tracker_load: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--udp") {
      o.udp_port = std::atoi(val());
    } else if (a == "--http") {
      o.http_port = std::atoi(val());
    } else if (a == "--write-hashes") {
      o.write_hashes = val();
    } else if (a == "--torrents") {
      o.torrents = static_cast<std::uint32_t>(std::max(1L, std::atol(val())));
    } else if (a == "--peers-per-torrent") {
      o.peers = static_cast<std::uint32_t>(std::max(1L, std::atol(val())));
    } else if (a == "--seconds") {
      o.seconds = std::atof(val());
    } else if (a == "--max") {
      o.max = std::strtoull(val(), nullptr, 10);
    } else if (a == "--clients") {
      o.clients = std::max(1, std::atoi(val()));
    } else if (a == "--window") {
      o.window = std::max(1, std::atoi(val()));
    } else if (a == "--keep-alive") {
      o.keep_alive = true;
    } else {
      std::fprintf(stderr, "tracker_load: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (o.seconds <= 0 || o.seconds > 120) {
    std::fprintf(stderr, "tracker_load: --seconds must be in (0, 120]\n");
    return 2;
  }
  if (!o.write_hashes.empty()) {
    std::ofstream f(o.write_hashes);
    for (std::uint32_t t = 0; t < o.torrents; ++t) {
      char hex[41];
      auto h = info_hash(t);
      for (int i = 0; i < 20; ++i)
        std::snprintf(hex + 2 * i, 3, "%02x", h[static_cast<std::size_t>(i)]);
      f << hex << '\n';
    }
    return f ? 0 : 1;
  }
  if (o.udp_port > 0) return run_udp(o);
  if (o.http_port > 0) return run_http(o);
  std::fprintf(stderr, "tracker_load: give --udp PORT, --http PORT or --write-hashes FILE\n");
  return 2;
}
