// The session: one network thread running an io_context (all protocol state lives there, no
// locks around it), a disk/hash thread pool, the listening port, and the torrents.
#include "peerwire/session.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "peer_host.hpp"
#include "peerwire/wire_peer_id.hpp"
#include "torrent.hpp"
#include "udp_io.hpp"
#include "udp_socket.hpp"

namespace peerwire {

using namespace session_detail;

struct session::impl : torrent_host, peer::torrent_directory {
  explicit impl(session_settings s)
      : settings_(std::move(s)),
        disk_(std::max(1u, settings_.disk_threads)),
        ticker_(io_),
        id_(wire::random_peer_id()) {}

  // torrent_host
  asio::any_io_executor executor() override { return io_.get_executor(); }
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::now();
  }
  asio::thread_pool& disk_pool() override { return disk_; }
  std::shared_ptr<peer::peer_connection> dial(const peer_address& to, const sha1_hash& h) override {
    return host_->connect(to, h);
  }
  const session_settings& settings() const override { return settings_; }
  std::uint16_t listen_port() const override { return host_ ? host_->listen_port() : 0; }
  const wire::peer_id& peer_id() const override { return id_; }
  std::size_t total_connections() const override { return host_ ? host_->connections().size() : 0; }
  tracker::udp_tracker* udp_tracker() override { return udp_tracker_.get(); }
  std::string udp_error() const override { return udp_error_; }
  void torrent_done() override {
    // Posted: the torrent finishes its own bookkeeping first.
    asio::post(io_, [this] { publish(now()); });
  }
  void log(const std::string& torrent_name, const std::string& text) override {
    if (settings_.log) settings_.log(torrent_name, text);
  }

  // torrent_directory: incoming connections find their torrent here (with current pieces).
  std::optional<peer::torrent_ref> find(const sha1_digest& h) const override {
    for (const auto& t : torrents_) {
      if (t->info_hash().bytes == h && !t->done()) return t->ref();
    }
    return std::nullopt;
  }

  std::shared_ptr<torrent> torrent_for(const peer::peer_connection& c) {
    if (!c.torrent()) return nullptr;
    for (auto& t : torrents_) {
      if (t->info_hash() == c.torrent()->info_hash) return t;
    }
    return nullptr;
  }

  void tick() {
    auto t_now = now();
    for (auto& t : torrents_) t->tick(t_now);
    publish(t_now);
    ticker_.expires_after(settings_.tick);
    ticker_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopping_) tick();
    });
  }

  void publish(std::chrono::steady_clock::time_point now) {
    std::vector<torrent_status> snap;
    bool done = true;
    for (auto& t : torrents_) {
      snap.push_back(t->status(now));
      done = done && t->done();
    }
    std::lock_guard lock(mu_);  // pending_adds_ is written by add_torrent() on other threads
    snapshot_ = std::move(snap);
    all_done_ = done && pending_adds_ == 0 && !torrents_.empty();
    if (all_done_) done_cv_.notify_all();
  }

  session_settings settings_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::thread_pool disk_;
  asio::steady_timer ticker_;
  wire::peer_id id_;
  std::unique_ptr<peer::peer_host> host_;
  // The session's one UDP socket. Each datagram goes to the owner of its kind, registered
  // with udp_->on_datagram() (and on_batch_end()): tracker replies to udp_transactions_; uTP
  // (BEP 29) and KRPC (BEP 5, the DHT) register theirs on udp_ next to it when they exist.
  // Until then their datagrams are only counted as dropped (udp_->counters()).
  std::unique_ptr<net::udp_socket> udp_;
  std::unique_ptr<tracker::udp_transactions> udp_transactions_;
  std::unique_ptr<tracker::udp_tracker> udp_tracker_;
  std::string udp_error_;
  std::vector<std::shared_ptr<torrent>> torrents_;
  std::thread thread_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::size_t pending_adds_ = 0;  // guarded by mu_ for the count only

  mutable std::mutex mu_;
  std::condition_variable done_cv_;  // all_done_ became true
  std::vector<torrent_status> snapshot_;
  bool all_done_ = false;
};

session::session(session_settings settings) : impl_(std::make_unique<impl>(std::move(settings))) {}

session::~session() {
  stop();
}

result<std::uint16_t> session::start() {
  auto& s = *impl_;
  peer::connection_settings cs;
  cs.our_id = s.id_;
  cs.reqq = static_cast<std::uint32_t>(served_queue_limit);
  s.host_ = std::make_unique<peer::peer_host>(s.io_.get_executor(), cs, s.settings_.trace, &s);
  peer::listen_options lo;
  boost::system::error_code ec;
  lo.address = boost::asio::ip::make_address(s.settings_.bind_address, ec);
  if (ec) return make_error("'" + s.settings_.bind_address + "' is not an IP address to listen on");
  lo.port = s.settings_.listen_port;
  s.host_->set_max_connections(s.settings_.max_peers_total);
  auto port = s.host_->listen(lo);
  if (!port) return port.error();
  // UDP on the same port as TCP when it is free (where uTP will expect it), else any port.
  // Without a UDP socket the session still works; UDP trackers then report why.
  s.udp_ = std::make_unique<net::udp_socket>(s.io_.get_executor());
  auto udp_port = s.udp_->open(s.settings_.bind_address, *port);
  if (!udp_port) udp_port = s.udp_->open(s.settings_.bind_address, 0);
  if (udp_port) {
    s.udp_transactions_ = std::make_unique<tracker::udp_transactions>(*s.udp_);
    s.udp_tracker_ = std::make_unique<tracker::udp_tracker>(*s.udp_transactions_);
  } else {
    s.udp_error_ = udp_port.error().message;
  }
  s.host_->on_connection = [&s](peer::peer_connection& c) {
    c.on_ready = [&s](peer::peer_connection& ready) {
      if (auto t = s.torrent_for(ready)) {
        t->attach(ready.shared_from_this());
      } else {
        ready.close("torrent no longer active");
      }
    };
  };
  s.host_->on_closed = [&s](peer::peer_connection& c) {
    if (auto t = s.torrent_for(c)) t->detach(c);
  };
  boost::asio::post(s.io_, [&s] { s.tick(); });
  s.thread_ = std::thread([&s] { s.io_.run(); });
  return *port;
}

std::size_t session::add_torrent(add_torrent_params params) {
  auto& s = *impl_;
  std::size_t index;
  {
    std::lock_guard lock(s.mu_);
    index = s.snapshot_.size() + s.pending_adds_;
    ++s.pending_adds_;
  }
  boost::asio::post(s.io_, [&s, p = std::move(params)]() mutable {
    auto t = std::make_shared<torrent>(s, std::move(p));
    s.torrents_.push_back(t);
    {
      std::lock_guard lock(s.mu_);
      --s.pending_adds_;
    }
    t->start();
    s.publish(s.now());
  });
  return index;
}

std::vector<torrent_status> session::status() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->snapshot_;
}

bool session::all_done() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->all_done_;
}

bool session::wait_done(std::chrono::milliseconds max) const {
  std::unique_lock lock(impl_->mu_);
  impl_->done_cv_.wait_for(lock, max, [&] { return impl_->all_done_; });
  return impl_->all_done_;
}

void session::stop() {
  auto& s = *impl_;
  if (s.stopped_) return;
  s.stopped_ = true;
  if (!s.thread_.joinable()) return;
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  boost::asio::post(s.io_, [&] {
    auto remaining = std::make_shared<std::size_t>(s.torrents_.size());
    auto all_stopped = [&] {
      s.stopping_ = true;
      s.ticker_.cancel();
      s.publish(s.now());
      if (s.host_) s.host_->shutdown("session stopped");
      if (s.udp_transactions_) s.udp_transactions_->close();
      if (s.udp_) s.udp_->close();
      s.work_.reset();
      std::lock_guard lock(m);
      finished = true;
      cv.notify_all();
    };
    if (*remaining == 0) {
      all_stopped();
      return;
    }
    for (auto& t : s.torrents_) {
      t->stop([remaining, all_stopped] {
        if (--*remaining == 0) all_stopped();
      });
    }
  });
  {
    // The stopped announces are bounded (3 s each); do not hang a Ctrl-C beyond that.
    std::unique_lock lock(m);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return finished; });
  }
  // Let the closing connections finish, then leave.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline && !s.io_.stopped()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  s.io_.stop();
  s.thread_.join();
  s.disk_.join();
}

}  // namespace peerwire
