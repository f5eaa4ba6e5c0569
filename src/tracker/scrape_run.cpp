// scrape_trackers(): every tracker scraped in parallel on a private io_context.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "http_client.hpp"
#include "peerwire/tracker_policy.hpp"
#include "peerwire/tracker_scrape_run.hpp"
#include "udp_io.hpp"

namespace peerwire::tracker {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

asio::awaitable<void> scrape_one(udp_tracker* udp, const scrape_run_options* opts,
                                 std::vector<sha1_hash> hashes, scrape_outcome* out,
                                 std::size_t* finished) {
  auto started = steady::now();
  auto kind = tracker_url_kind(out->tracker);
  if (!kind) {
    out->error = kind.error().message;
  } else if (*kind == url_kind::udp) {
    if (!udp) {
      out->error = "no UDP socket";
    } else {
      udp_options uo;
      uo.base_timeout = opts->udp_retransmit;
      uo.deadline = opts->timeout;
      // One request per 74 hashes (BEP 15 packet size).
      for (std::size_t i = 0; i < hashes.size(); i += udp::max_scrape_hashes) {
        std::vector<sha1_hash> part(
            hashes.begin() + static_cast<std::ptrdiff_t>(i),
            hashes.begin() +
                static_cast<std::ptrdiff_t>(std::min(hashes.size(), i + udp::max_scrape_hashes)));
        auto r = co_await udp->scrape(out->tracker, std::move(part), uo);
        if (!r) {
          out->error = r.error().message;
          out->stats.clear();
          break;
        }
        out->stats.insert(out->stats.end(), r->begin(), r->end());
      }
      out->ok = out->error.empty();
    }
  } else {
    http_options ho;
    ho.timeout = opts->timeout;
    auto r = co_await scrape(out->tracker, hashes, ho);
    if (!r) {
      out->error = r.error().message;
    } else if (r->failure_reason) {
      out->error = "tracker says: " + *r->failure_reason;
    } else {
      out->ok = true;
      out->notes = std::move(r->notes);
      // Keep what was asked about, in the order asked (a tracker may send more or fewer).
      for (const auto& h : hashes) {
        for (const auto& s : r->files) {
          if (s.info_hash == h) {
            out->stats.push_back(s);
            break;
          }
        }
      }
    }
  }
  out->seconds = std::chrono::duration<double>(steady::now() - started).count();
  ++*finished;
}

}  // namespace

std::vector<scrape_outcome> scrape_trackers(const std::vector<std::string>& trackers,
                                            const std::vector<sha1_hash>& hashes,
                                            const scrape_run_options& opts) {
  std::vector<scrape_outcome> out(trackers.size());
  asio::io_context io;
  net::udp_socket socket(io.get_executor());
  std::unique_ptr<udp_transactions> transactions;
  std::unique_ptr<udp_tracker> udp;
  std::string udp_error;
  bool need_udp = false;
  for (const auto& t : trackers) {
    auto kind = tracker_url_kind(t);
    need_udp = need_udp || (kind && *kind == url_kind::udp);
  }
  if (need_udp) {
    auto port = socket.open(opts.bind_address, 0);
    if (port) {
      transactions = std::make_unique<udp_transactions>(socket);
      udp = std::make_unique<udp_tracker>(*transactions);
    } else {
      udp_error = port.error().message;
    }
  }
  std::size_t finished = 0;
  for (std::size_t i = 0; i < trackers.size(); ++i) {
    out[i].tracker = trackers[i];
    asio::co_spawn(io, scrape_one(udp.get(), &opts, hashes, &out[i], &finished), asio::detached);
  }
  // Every call is bounded by opts.timeout, so this returns; the receive loop ends with close.
  while (finished < trackers.size() && io.run_one() > 0) {
  }
  if (transactions) transactions->close();
  socket.close();
  io.run();
  for (auto& o : out) {
    if (!o.ok && o.error == "no UDP socket") o.error = "no UDP socket: " + udp_error;
  }
  return out;
}

}  // namespace peerwire::tracker
