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
// Strictness on top of http_parser (RFC 9112): a 1.1 request needs exactly
// one Host (§3.2), a field name is a token with no space before the colon
// (§5.1), the major version is 1 (505 otherwise, RFC 9110 §15.6.6), the
// target and the header are bounded (414, 431), an HTTP/0.9 request gets
// the body alone and a close (as nginx answers it). Every refusal closes.
#include <http_parser.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "api/connection.hh"
#include "file_responses.hh"
#include "request_target.hh"
#include "responses.hh"
#include "session_timers.hh"

namespace kbt::httpd {

// What every session of a core shares: its responses and limits.
struct session_env {
  const response_table* responses = nullptr;
  const file_responses* files = nullptr;  // --root, or nullptr: the generated body
  std::size_t max_uri_bytes = 8192;
  std::size_t max_header_bytes = 32768;
};

class http_session {
 public:
  http_session() noexcept = default;
  http_session(const http_session&) = delete;
  http_session& operator=(const http_session&) = delete;

  // A new connection: a fresh parser, nothing pending, and its first
  // request's header awaited (session_timers.hh).
  void start(api::connection c, const session_env& env, session_timers& timers) noexcept;
  // The connection is gone (or handed back): frees what it held.
  void finish() noexcept;

  // Callbacks of the connection (see api/app.hh).
  void on_data(api::rx_data& d) noexcept;
  void on_writable() noexcept;
  void on_peer_fin() noexcept { _peer_fin = true; }

  // True when nothing is left to do but close: the peer has finished, and
  // every request it sent is answered and queued in the send buffer.
  bool done() const noexcept {
    return _peer_fin && !pending() && (_closing || _conn.unread_bytes() == 0);
  }
  api::connection& conn() noexcept { return _conn; }
  // Its place in the timers' lists (session_timers.cc only).
  timer_hook& hook() noexcept { return _hook; }
  const timer_hook& hook() const noexcept { return _hook; }

 private:
  // http_parser callbacks; parser->data is the session.
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, std::size_t len);
  static int on_header_field(http_parser* p, const char* at, std::size_t len);
  static int on_header_value(http_parser* p, const char* at, std::size_t len);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, std::size_t len);
  static int on_message_complete(http_parser* p);
  static const http_parser_settings kSettings;

  // Runs the parser over `bytes`; returns how many it consumed (fewer when
  // a response is pending or the connection is closing).
  std::size_t parse(std::span<const std::byte> bytes) noexcept;
  // Queues a response; what the send buffer cannot take stays pending.
  void respond(status s, bool head, bool keep_alive) noexcept;
  // The request is refused from a parser callback: the status to answer
  // with once the parser stops (parse()); returns the callbacks' error.
  int reject(status s) noexcept;
  // HTTP/0.9 "GET /path": the body alone, then close.
  void respond_http09() noexcept;
  void send_pending() noexcept;
  // Decides the status (and file) of the request whose target is in.
  status resolve() noexcept;
  bool if_none_match(const static_file& f) const noexcept;
  bool count_header(std::size_t n) noexcept {
    _header_bytes += n;
    return _header_bytes <= _env->max_header_bytes;
  }
  bool pending() const noexcept { return !_pending.empty() || !_pending_body.empty(); }
  bool reading() const noexcept { return !_closing && !pending(); }
  void begin_request() noexcept;

  api::connection _conn;
  const session_env* _env = nullptr;
  session_timers* _timers = nullptr;
  timer_hook _hook;
  http_parser _parser{};
  std::span<const std::byte> _pending;       // unsent tail of the current response
  std::span<const std::byte> _pending_body;  // then this (a --root file's body)

  // The request being parsed.
  enum class field_kind : std::uint8_t { other, host, expect, if_none_match };
  request_target _target;
  std::size_t _url_len = 0;
  std::size_t _header_bytes = 0;  // target, names and values, 4 per line
  static constexpr std::size_t kNameKeep = 16;  // longest name we look for
  char _name[kNameKeep] = {};                   // the field name, lower case
  std::size_t _name_len = 0;
  bool _name_bad = false;  // a byte that is no tchar (RFC 9110 §5.6.2)
  bool _in_value = true;   // the next field callback starts a new name
  field_kind _kind = field_kind::other;
  std::uint8_t _hosts = 0;
  static constexpr std::size_t kExpectKeep = 16;
  char _expect[kExpectKeep] = {};
  std::size_t _expect_len = 0;
  static constexpr std::size_t kInmKeep = 128;
  char _inm[kInmKeep] = {};
  std::size_t _inm_len = 0;  // kInmKeep + 1: too long to have matched
  status _reject = status::ok;  // ok: not refused
  status _status = status::ok;
  const static_file* _file = nullptr;
  bool _not_modified = false;
  bool _closing = false;   // the last response says "close": no more requests
  bool _shut = false;      // our FIN is queued
  bool _peer_fin = false;  // the peer has sent its FIN
};

}  // namespace kbt::httpd
