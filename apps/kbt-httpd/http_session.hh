#pragma once
// One HTTP/1.1 connection: its http_parser and the response being sent.
// Requests are answered in order as the parser completes them; while a
// response waits for send buffer space the parser stops, the input it has
// not reached goes back to the stack (rx_data::put_back_from) and reading
// pauses, so at most one response is ever outstanding per connection and
// the session holds no received mbufs: a client that pipelines and never
// reads fills its own receive window, not the core's pool. Sessions live in
// a per-core pool (session_pool.hh); start() and finish() bracket each
// connection.
#include <http_parser.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "api/connection.hh"
#include "responses.hh"
#include "session_timers.hh"

namespace kbt::httpd {

class http_session {
 public:
  http_session() noexcept = default;
  http_session(const http_session&) = delete;
  http_session& operator=(const http_session&) = delete;

  // A new connection: a fresh parser, nothing pending, and its first
  // request's header awaited (session_timers.hh).
  void start(api::connection c, const response_table& responses, session_timers& timers) noexcept;
  // The connection is gone (or handed back): frees what it held.
  void finish() noexcept;

  // Callbacks of the connection (see api/app.hh).
  void on_data(api::rx_data& d) noexcept;
  void on_writable() noexcept;
  void on_peer_fin() noexcept { _peer_fin = true; }

  // True when nothing is left to do but close: the peer has finished, and
  // every request it sent is answered and queued in the send buffer.
  bool done() const noexcept {
    return _peer_fin && _pending.empty() && (_closing || _conn.unread_bytes() == 0);
  }
  api::connection& conn() noexcept { return _conn; }
  // Its place in the timers' lists (session_timers.cc only).
  timer_hook& hook() noexcept { return _hook; }
  const timer_hook& hook() const noexcept { return _hook; }

 private:
  // http_parser callbacks; parser->data is the session.
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, std::size_t len);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, std::size_t len);
  static int on_message_complete(http_parser* p);
  static const http_parser_settings kSettings;

  // Runs the parser over `bytes`; returns how many it consumed (fewer when
  // a response is pending or the connection is closing).
  std::size_t parse(std::span<const std::byte> bytes) noexcept;
  // Queues a response; what the send buffer cannot take stays pending.
  void respond(status s, bool head, bool keep_alive) noexcept;
  void send_pending() noexcept;
  bool request_is_root() const noexcept;
  bool reading() const noexcept { return !_closing && _pending.empty(); }

  api::connection _conn;
  const response_table* _responses = nullptr;
  session_timers* _timers = nullptr;
  timer_hook _hook;
  http_parser _parser{};
  std::span<const std::byte> _pending;  // unsent tail of the current response
  // The request target as far as it matters: its first bytes and length.
  static constexpr std::size_t kUrlKeep = 8;
  char _url[kUrlKeep] = {};
  std::size_t _url_len = 0;
  bool _closing = false;   // the last response says "close": no more requests
  bool _shut = false;      // our FIN is queued
  bool _peer_fin = false;  // the peer has sent its FIN
};

}  // namespace kbt::httpd
