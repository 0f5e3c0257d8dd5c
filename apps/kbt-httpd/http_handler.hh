#pragma once
// kbt-httpd's per-core handler (api/app.hh): gives each accepted connection
// a session from the core's pool, passes the connection's callbacks to it,
// and closes the connection when the session is done. The responses are
// this core's own copy, their Date refreshed once a second from on_poll.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "api/app.hh"
#include "core/counters.hh"
#include "file_responses.hh"
#include "responses.hh"
#include "session_pool.hh"
#include "session_timers.hh"

namespace kbt::httpd {

struct httpd_options {
  std::size_t body_size = 64;     // bytes of the body of GET /
  std::uint32_t max_conns = 1024;  // sessions per core
  timeouts waits;                 // session_timers.hh; 0: none
  std::size_t max_uri_bytes = 8192;      // longer targets: 414
  std::size_t max_header_bytes = 32768;  // larger headers: 431
  const static_files* root = nullptr;    // --root's files, shared by the cores
};

// What one core's handler counts, read by the stats thread.
struct alignas(64) httpd_counters {
  base::counter header_timeouts;  // closed: a request's header (or body) stalled
  base::counter idle_timeouts;    // closed: keep-alive with no request
  base::counter send_timeouts;    // reset: the peer took none of a response
};

// " httpd_<name>=N" for each counter that is not zero, summed over `n` cores.
void append_stats(std::string& line, const httpd_counters* per_core, std::size_t n);

class http_handler {
 public:
  http_handler(const httpd_options& opts, httpd_counters& counters);

  void on_accept(api::connection c) noexcept;
  void on_data(api::connection c, api::rx_data& d) noexcept;
  void on_peer_fin(api::connection c) noexcept;
  void on_writable(api::connection c) noexcept;
  void on_closed(api::connection c, api::close_reason why) noexcept;
  void on_poll(api::core_context& ctx) noexcept;

 private:
  static http_session* session_of(const api::connection& c) noexcept {
    return static_cast<http_session*>(c.user());
  }
  // Closes the connection (FIN after what is queued) once the session is done.
  void close_if_done(http_session& s) noexcept;
  void give_back(http_session& s) noexcept;
  // A wait ran out: idle and header end in a close, send in a reset.
  void expired(http_session& s, wait_kind kind) noexcept;

  // Heap-held so that sessions' pointers to them survive moving the handler.
  std::unique_ptr<response_table> _responses;
  std::unique_ptr<session_pool> _pool;
  std::unique_ptr<session_timers> _timers;
  std::unique_ptr<file_responses> _files;  // with --root
  std::unique_ptr<session_env> _env;
  httpd_counters* _counters;
  std::uint64_t _next_date_ns = 0;
};

}  // namespace kbt::httpd
