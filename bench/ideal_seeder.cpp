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
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "peerwire/metainfo.hpp"

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

std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

void put_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
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
  std::vector<std::uint8_t> greeting(68);
  greeting[0] = 19;
  std::memcpy(&greeting[1], "BitTorrent protocol", 19);
  std::copy(ih.begin(), ih.end(), greeting.begin() + 28);
  std::memcpy(&greeting[48], "-PWIDEAL-0000000000-", 20);
  std::size_t pieces = m.piece_count();
  std::vector<std::uint8_t> bits((pieces + 7) / 8, 0xff);
  if (pieces % 8) bits.back() = static_cast<std::uint8_t>(0xff << (8 - pieces % 8));
  std::uint8_t head[5];
  put_u32(head, static_cast<std::uint32_t>(1 + bits.size()));
  head[4] = 5;  // bitfield
  greeting.insert(greeting.end(), head, head + 5);
  greeting.insert(greeting.end(), bits.begin(), bits.end());
  const std::uint8_t unchoke[5] = {0, 0, 0, 1, 1};
  greeting.insert(greeting.end(), unchoke, unchoke + 5);
  iovec g{greeting.data(), greeting.size()};
  if (!write_all(s, &g, 1)) return;

  std::vector<std::uint8_t> in(1 << 20);
  std::size_t have = 0;
  std::vector<std::uint8_t> headers;
  std::vector<iovec> out;
  for (;;) {
    ssize_t r = read(s, in.data() + have, in.size() - have);
    if (r <= 0) return;
    have += static_cast<std::size_t>(r);
    std::size_t pos = 0;
    std::vector<std::pair<std::int64_t, std::uint32_t>> blocks;  // (torrent offset, length)
    std::vector<std::pair<std::uint32_t, std::uint32_t>> where;  // (piece, offset)
    while (have - pos >= 4) {
      std::uint32_t len = get_u32(&in[pos]);
      if (len > in.size() - 4) return;  // not a peer this instrument serves
      if (have - pos < 4 + std::size_t{len}) break;
      if (len == 13 && in[pos + 4] == 6) {  // request
        std::uint32_t piece = get_u32(&in[pos + 5]), begin = get_u32(&in[pos + 9]),
                      length = get_u32(&in[pos + 13]);
        if (piece < pieces && length <= (1u << 17) &&
            std::int64_t{begin} + length <= m.piece_size(piece)) {
          blocks.emplace_back(std::int64_t{piece} * m.piece_length + begin, length);
          where.emplace_back(piece, begin);
        }
      }
      pos += 4 + std::size_t{len};
    }
    std::memmove(in.data(), in.data() + pos, have - pos);
    have -= pos;
    headers.resize(blocks.size() * 13);
    out.clear();
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      std::uint8_t* h = &headers[i * 13];
      put_u32(h, 9 + blocks[i].second);
      h[4] = 7;  // piece
      put_u32(h + 5, where[i].first);
      put_u32(h + 9, where[i].second);
      out.push_back({h, 13});
      add_range(files, blocks[i].first, blocks[i].second, out);
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
