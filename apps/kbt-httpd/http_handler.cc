#include "http_handler.hh"

#include <ctime>

namespace kbt::httpd {

namespace {
constexpr std::uint64_t kSecondNs = 1'000'000'000;
}  // namespace

http_handler::http_handler(const httpd_options& opts)
    : _responses(std::make_unique<response_table>(opts.body_size)),
      _pool(std::make_unique<session_pool>(opts.max_conns)) {}

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
  s->start(c, *_responses);
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
  if (ctx.now_ns < _next_date_ns) return;
  _next_date_ns = ctx.now_ns + kSecondNs;
  _responses->set_date(std::time(nullptr));
}

void http_handler::close_if_done(http_session& s) noexcept {
  if (!s.done()) return;
  api::connection c = s.conn();
  c.set_user(nullptr);
  c.close();  // no callbacks after this: the session goes back now
  give_back(s);
}

void http_handler::give_back(http_session& s) noexcept {
  s.finish();
  _pool->release(&s);
}

}  // namespace kbt::httpd
