// The cheapest seeder there can be, for bench/transfer_bench.py's "ideal-lt" case: how fast
// libtorrent's downloader goes when its seeder costs next to nothing, the ceiling for our
// "peerwire seeder -> libtorrent" target on a 2-core machine where the two share the CPU.
//
//   bench_ideal_seeder TORRENT DATA_DIR PORT_FILE
//
// Listens on 127.0.0.1 (any port, written to PORT_FILE once listening), serves one connection
// at a time: handshake (no extension bits), a full bitfield and an unchoke, then answers each
// batch of requests with one blocking writev straight from the files mapped in memory (the
// page cache): no reads, no copies in user space, no choking, no checks beyond bounds. A
// benchmark instrument only: trusts its files (mmap) and its one loopback peer.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <variant>
#include <vector>

#include "peerwire/metainfo.hpp"
#include "peerwire/wire.hpp"

namespace {

struct mapped_file {
  const std::uint8_t* data = nullptr;
  std::int64_t offset = 0, size = 0;  // in the torrent's byte stream
};

bool read_exactly(int fd, std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool write_all(int fd, iovec* iov, std::size_t count) {
  while (count > 0) {
    ssize_t w = writev(fd, iov, static_cast<int>(std::min<std::size_t>(count, IOV_MAX)));
    if (w < 0) return false;
    auto left = static_cast<std::size_t>(w);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

// Appends iovecs for torrent bytes [at, at + len), which may span files.
void add_range(const std::vector<mapped_file>& files, std::int64_t at, std::int64_t len,
               std::vector<iovec>& out) {
  auto it = std::upper_bound(files.begin(), files.end(), at,
                             [](std::int64_t v, const mapped_file& f) { return v < f.offset; });
  for (--it; len > 0 && it != files.end(); ++it) {
    std::int64_t in_file = std::min(len, it->offset + it->size - at);
    if (in_file <= 0) continue;
    out.push_back({const_cast<std::uint8_t*>(it->data + (at - it->offset)),
                   static_cast<std::size_t>(in_file)});
    at += in_file;
    len -= in_file;
  }
}

void serve(int s, const peerwire::metainfo& m, const std::vector<mapped_file>& files) {
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::uint8_t theirs[68];
  const auto& ih = m.hash.v1->bytes;
  if (!read_exactly(s, theirs, sizeof theirs) || !std::equal(ih.begin(), ih.end(), theirs + 28))
    return;
  peerwire::wire::handshake ours;
  ours.info_hash = ih;
  const char id[] = "-PWIDEAL-0000000000-";
  std::copy(id, id + ours.id.size(), ours.id.begin());
  std::vector<std::uint8_t> greeting;
  peerwire::wire::encode_handshake(ours, greeting);
  std::size_t pieces = m.piece_count();
  std::vector<std::uint8_t> bits((pieces + 7) / 8, 0xff);
  if (pieces % 8) bits.back() = static_cast<std::uint8_t>(0xff << (8 - pieces % 8));
  peerwire::wire::encode(peerwire::wire::bitfield{bits}, greeting);
  peerwire::wire::encode(peerwire::wire::unchoke{}, greeting);
  iovec g{greeting.data(), greeting.size()};
  if (!write_all(s, &g, 1)) return;

  // The project's own decoder: bounds-checked requests (up to 128 KiB, inside their piece);
  // anything malformed ends the connection.
  auto cfg = peerwire::wire::decoder_config::for_torrent(static_cast<std::uint32_t>(m.piece_length),
                                                         static_cast<std::uint64_t>(m.total_size));
  cfg.max_request_length = 1u << 17;
  peerwire::wire::message_decoder decoder(cfg);
  std::vector<peerwire::wire::request> blocks;
  std::vector<std::array<std::uint8_t, peerwire::wire::piece_header_size>> headers;
  std::vector<iovec> out;
  for (;;) {
    auto room = decoder.prepare(1 << 20);
    ssize_t r = read(s, room.data(), room.size());
    if (r <= 0) return;
    decoder.commit(static_cast<std::size_t>(r));
    blocks.clear();
    for (;;) {
      auto next = decoder.next();
      if (std::holds_alternative<peerwire::wire::need_more>(next)) break;
      const auto* msg = std::get_if<peerwire::wire::message>(&next);
      if (!msg) return;  // not a peer this instrument serves
      if (const auto* q = std::get_if<peerwire::wire::request>(msg)) blocks.push_back(*q);
    }
    headers.resize(blocks.size());  // before `out` points into it
    out.clear();
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const auto& b = blocks[i];
      headers[i] = peerwire::wire::piece_header(b.index, b.offset, b.length);
      out.push_back({headers[i].data(), headers[i].size()});
      add_range(files, std::int64_t{b.index} * m.piece_length + b.offset, b.length, out);
    }
    if (!out.empty() && !write_all(s, out.data(), out.size())) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_ideal_seeder TORRENT DATA_DIR PORT_FILE\n");
    return 2;
  }
  std::ifstream tf(argv[1], std::ios::binary);
  std::string torrent((std::istreambuf_iterator<char>(tf)), std::istreambuf_iterator<char>());
  auto parsed = peerwire::parse_metainfo(torrent);
  if (!parsed || !parsed->hash.v1) {
    std::fprintf(stderr, "bench_ideal_seeder: %s: not a v1 torrent\n", argv[1]);
    return 1;
  }
  const auto& m = *parsed;
  std::vector<mapped_file> files;
  for (const auto& f : m.files) {
    if (f.pad || f.size == 0) continue;
    std::string path = std::string(argv[2]) + "/" + f.joined_path();
    int fd = open(path.c_str(), O_RDONLY);
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size != f.size) {
      std::fprintf(stderr, "bench_ideal_seeder: %s: missing or not %lld bytes\n", path.c_str(),
                   static_cast<long long>(f.size));
      return 1;
    }
    void* p = mmap(nullptr, static_cast<std::size_t>(f.size), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return 1;
    files.push_back({static_cast<const std::uint8_t*>(p), f.offset, f.size});
  }
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(ls, 8) != 0 ||
      getsockname(ls, reinterpret_cast<sockaddr*>(&a), &alen) != 0) {
    std::perror("bench_ideal_seeder: listen");
    return 1;
  }
  std::string tmp = std::string(argv[3]) + ".tmp";
  if (FILE* pf = std::fopen(tmp.c_str(), "w")) {
    std::fprintf(pf, "%d\n", ntohs(a.sin_port));
    std::fclose(pf);
    std::rename(tmp.c_str(), argv[3]);  // readers see the whole line or nothing
  }
  for (;;) {  // until killed
    int s = accept(ls, nullptr, nullptr);
    if (s < 0) continue;
    serve(s, m, files);
    close(s);
  }
}
