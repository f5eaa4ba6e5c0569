// Throughput of bencode decoding, metainfo parsing and re-encoding on one large multi-file
// torrent (issue: "bencode decode throughput (MB/s) of a large multi-file torrent").
//
// The torrent comes from $PEERWIRE_BENCH_TORRENT (bench/run-all.sh points it at the output
// of bench/make_big_torrent.py, so this and the whole-process `peerwire info` comparison
// measure the same bytes). Without it, a torrent of the same shape is built in-process, so
// the binary also runs on its own. Every benchmark reports bytes/s of the *torrent file*,
// which makes the numbers directly comparable with each other.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "peerwire/bencode.hpp"
#include "peerwire/bencode_value.hpp"
#include "peerwire/metainfo.hpp"

namespace {

namespace bc = peerwire::bencode;

// splitmix64: a fixed, portable generator. std:: distributions are implementation-defined,
// and the in-process torrent must be the same on every toolchain for results to compare.
struct rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

// Same shape as bench/make_big_torrent.py (nested dirs, varied names, log-uniform sizes
// 512 B..16 MiB, 4 MiB pieces), not byte-identical: only the statistics matter here.
std::string make_torrent(std::size_t n_files) {
  static constexpr const char* words[] = {
      "alpha",   "beta",   "gamma", "delta",  "summer", "winter", "archive", "backup",  "holiday",
      "project", "report", "draft", "final",  "scan",   "track",  "remix",   "lecture", "notes",
      "dataset", "sample", "raw",   "export", "frame",  "clip",   "camera"};
  static constexpr const char* exts[] = {"jpg", "jpg", "png", "flac", "mp3", "txt", "pdf", "cpp"};
  constexpr std::size_t n_words = std::size(words);
  rng r{1};
  bc::list files;
  files.reserve(n_files);
  std::int64_t total = 0;
  const std::size_t top = n_files / 2000 + 1;
  for (std::size_t i = 0; i < n_files; ++i) {
    bc::list path;
    path.emplace_back(std::string(words[i % top % n_words]) + "-" + std::to_string(i % top));
    path.emplace_back(std::to_string(2000 + r.below(20)) + "-" + std::to_string(1 + r.below(12)));
    if (r.below(10) < 3) path.emplace_back(words[r.below(n_words)]);
    std::string name = words[r.below(n_words)];
    for (auto k = r.below(3); k > 0; --k) name += std::string("_") + words[r.below(n_words)];
    name += "_" + std::to_string(i) + "." + exts[r.below(std::size(exts))];
    path.emplace_back(std::move(name));
    // 2^(9 + 15 * u), u uniform in [0, 1): log-uniform like the Python generator.
    auto size = static_cast<std::int64_t>(
        std::exp2(9.0 + 15.0 * static_cast<double>(r.next() >> 11) / 9007199254740992.0));
    total += size;
    files.emplace_back(bc::dict{{"length", size}, {"path", std::move(path)}});
  }
  constexpr std::int64_t piece_length = 4 << 20;
  std::string pieces(static_cast<std::size_t>((total + piece_length - 1) / piece_length) * 20, 0);
  for (char& c : pieces) c = static_cast<char>(r.next());
  bc::dict info{{"name", "peerwire-bench-in-process"},
                {"piece length", piece_length},
                {"pieces", std::move(pieces)},
                {"files", std::move(files)}};
  bc::dict torrent{{"announce", "http://tracker.example.org:6969/announce"},
                   {"created by", "peerwire bench_bencode"},
                   {"creation date", 1700000000},
                   {"info", std::move(info)}};
  return bc::encode(bc::value(std::move(torrent)));
}

// Loaded once, before any benchmark runs, so file I/O never lands in a timed region.
std::string g_torrent;

void BM_Decode(benchmark::State& state) {
  for (auto _ : state) {
    auto doc = bc::decode(g_torrent);
    if (!doc) {
      state.SkipWithError(doc.error().describe().c_str());
      return;
    }
    benchmark::DoNotOptimize(doc->token_count());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_torrent.size()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

// Decode + validation + building the owning metainfo (100k file_entry with path vectors,
// SHA-1 of the info dict): the library part of `peerwire info`.
void BM_ParseMetainfo(benchmark::State& state) {
  std::size_t files = 0;
  for (auto _ : state) {
    auto m = peerwire::parse_metainfo(g_torrent);
    if (!m) {
      state.SkipWithError(m.error().describe().c_str());
      return;
    }
    files = m->files.size();
    benchmark::DoNotOptimize(m->files.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_torrent.size()));
  state.counters["files"] = static_cast<double>(files);
}
BENCHMARK(BM_ParseMetainfo)->Unit(benchmark::kMillisecond);

// Canonical re-encoding straight from the decoded token table (what create/BEP 9 paths use
// when they re-serialise a received dict).
void BM_EncodeNode(benchmark::State& state) {
  auto doc = bc::decode(g_torrent);
  if (!doc) {
    state.SkipWithError(doc.error().describe().c_str());
    return;
  }
  for (auto _ : state) {
    std::string out = bc::encode(doc->root());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_torrent.size()));
}
BENCHMARK(BM_EncodeNode)->Unit(benchmark::kMillisecond);

// Encoding an owning value tree (the deep copy is made once, outside the timed loop).
void BM_EncodeValue(benchmark::State& state) {
  auto doc = bc::decode(g_torrent);
  if (!doc) {
    state.SkipWithError(doc.error().describe().c_str());
    return;
  }
  const bc::value tree = bc::to_value(doc->root());
  for (auto _ : state) {
    std::string out = bc::encode(tree);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_torrent.size()));
}
BENCHMARK(BM_EncodeValue)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  std::string source;
  if (const char* path = std::getenv("PEERWIRE_BENCH_TORRENT"); path && *path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "bench_bencode: cannot read %s\n", path);
      return 1;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    g_torrent = std::move(ss).str();
    source = path;
  } else {
    g_torrent = make_torrent(100'000);
    source = "in-process, 100000 files (set PEERWIRE_BENCH_TORRENT to use a file)";
  }

  // Fail loudly up front rather than print a table of skipped rows.
  auto doc = bc::decode(g_torrent);
  if (!doc) {
    std::fprintf(stderr, "bench_bencode: torrent does not decode: %s\n",
                 doc.error().describe().c_str());
    return 1;
  }
  benchmark::AddCustomContext("torrent", source);
  benchmark::AddCustomContext("torrent_bytes", std::to_string(g_torrent.size()));
  benchmark::AddCustomContext("bencode_tokens", std::to_string(doc->token_count()));
  // A canonical input re-encodes to itself; if not, BM_Encode* would measure other work.
  benchmark::AddCustomContext("reencode_identical",
                              bc::encode(doc->root()) == g_torrent ? "yes" : "no");

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
