#include "http_handler.hh"

#include <ctime>

namespace kbt::httpd {

namespace {
constexpr std::uint64_t kSecondNs = 1'000'000'000;
// Waits handled per loop iteration: bounded work, the rest next time.
constexpr std::size_t kExpiryBatch = 256;
}  // namespace

void append_stats(std::string& line, const httpd_counters* per_core, std::size_t n) {
  std::uint64_t header = 0, idle = 0, send = 0;
  for (std::size_t i = 0; i < n; ++i) {
    header += per_core[i].header_timeouts.get();
    idle += per_core[i].idle_timeouts.get();
    send += per_core[i].send_timeouts.get();
  }
  const auto add = [&line](const char* name, std::uint64_t v) {
    if (v != 0) line += std::string(" httpd_") + name + '=' + std::to_string(v);
  };
  add("header_timeouts", header);
  add("idle_timeouts", idle);
  add("send_timeouts", send);
}

http_handler::http_handler(const httpd_options& opts, httpd_counters& counters)
    : _responses(std::make_unique<response_table>(opts.body_size)),
      _pool(std::make_unique<session_pool>(opts.max_conns)),
      _timers(std::make_unique<session_timers>(opts.waits)),
      _files(opts.root != nullptr ? std::make_unique<file_responses>(*opts.root) : nullptr),
      _env(std::make_unique<session_env>(session_env{_responses.get(), _files.get(),
                                                     opts.max_uri_bytes, opts.max_header_bytes})),
      _counters(&counters) {}

void http_handler::on_accept(api::connection c) noexcept {
  http_session* s = _pool->acquire();
  if (s == nullptr) {
    // Not expected (the pool has a session per TCB), but never serve
    // without one: reset, and on_closed() finds no session.
    c.set_user(nullptr);
    c.abort();
    return;
  }
  c.set_user(s);
  // A response goes out whole at once; Nagle would only hold back the
  // tail of one that is larger than a segment.
  c.set_nodelay(true);
  s->start(c, *_env, *_timers);
}

void http_handler::on_data(api::connection c, api::rx_data& d) noexcept {
  if (http_session* s = session_of(c)) {
    s->on_data(d);
    close_if_done(*s);
  }
}

void http_handler::on_peer_fin(api::connection c) noexcept {
  if (http_session* s = session_of(c)) {
    s->on_peer_fin();
    close_if_done(*s);
  }
}

void http_handler::on_writable(api::connection c) noexcept {
  if (http_session* s = session_of(c)) {
    s->on_writable();
    close_if_done(*s);
  }
}

void http_handler::on_closed(api::connection c, api::close_reason) noexcept {
  if (http_session* s = session_of(c)) {
    c.set_user(nullptr);
    give_back(*s);
  }
}

// The Date changes in place. A response whose tail is still pending may go
// out with a date that changed after its head was sent: still a valid date,
// at most a second off, and only when the send buffer had room for less than
// the status line and first headers.
void http_handler::on_poll(api::core_context& ctx) noexcept {
  const std::uint64_t now_ns = base::ns_since_start(ctx.now);
  _timers->set_now(now_ns);
  _timers->expire(kExpiryBatch, [this](http_session& s, wait_kind k) { expired(s, k); });
  if (now_ns < _next_date_ns) return;
  _next_date_ns = now_ns + kSecondNs;
  const std::time_t now = std::time(nullptr);
  _responses->set_date(now);
  if (_files) _files->set_date(now);
}

void http_handler::close_if_done(http_session& s) noexcept {
  if (!s.done()) return;
  api::connection c = s.conn();
  c.set_user(nullptr);
  c.close();  // no callbacks after this: the session goes back now
  give_back(s);
}

void http_handler::expired(http_session& s, wait_kind kind) noexcept {
  api::connection c = s.conn();
  c.set_user(nullptr);
  switch (kind) {
    case wait_kind::header: _counters->header_timeouts.add(); break;
    case wait_kind::idle: _counters->idle_timeouts.add(); break;
    case wait_kind::send:
      // The peer takes nothing: a FIN would only wait behind the response.
      _counters->send_timeouts.add();
      c.abort();
      break;
    case wait_kind::none: break;
  }
  c.close();  // FIN after what is queued; no callbacks after this
  give_back(s);
}

void http_handler::give_back(http_session& s) noexcept {
  s.finish();
  _pool->release(&s);
}

}  // namespace kbt::httpd
