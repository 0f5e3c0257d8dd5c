#pragma once
// The deadlines kbt-httpd's sessions wait on, as nginx has them:
// - header: a request's header must be complete this long after the
//   connection opened or the request's first byte came (client_header_timeout);
// - idle: a keep-alive connection with no request under way is closed after
//   this long (keepalive_timeout);
// - send: a response waiting for send buffer room is given up when the
//   peer takes nothing for this long (send_timeout).
// One FIFO list per kind: every entry of a list has the same timeout, so
// appending keeps it in deadline order and expiry costs O(expired), with no
// allocation (the hooks live in the sessions).
#include <array>
#include <cstddef>
#include <cstdint>

namespace kbt::httpd {

class http_session;

enum class wait_kind : std::uint8_t { none, header, idle, send };

// A session's place in one of the lists.
struct timer_hook {
  http_session* prev = nullptr;
  http_session* next = nullptr;
  wait_kind kind = wait_kind::none;
  std::uint64_t deadline_ns = 0;
};

struct timeouts {
  std::uint64_t header_ns = 0;  // 0: never
  std::uint64_t idle_ns = 0;
  std::uint64_t send_ns = 0;
};

class session_timers {
 public:
  explicit session_timers(const timeouts& t) noexcept : _timeouts(t) {}

  // The time of this loop iteration (http_handler::on_poll).
  void set_now(std::uint64_t now_ns) noexcept { _now_ns = now_ns; }
  std::uint64_t now_ns() const noexcept { return _now_ns; }

  // Starts (or restarts) `kind`'s wait for `s`, which leaves any other.
  void arm(http_session& s, wait_kind kind) noexcept;
  void cancel(http_session& s) noexcept;

  // Calls f(session, kind) for each wait that is due (at most `limit`),
  // after taking it off its list.
  template <class F>
  void expire(std::size_t limit, F&& f) {
    for (std::size_t i = 1; i < _lists.size(); ++i) {
      while (limit > 0 && _lists[i].head != nullptr && due(*_lists[i].head)) {
        http_session& s = *_lists[i].head;
        cancel(s);
        --limit;
        f(s, static_cast<wait_kind>(i));
      }
    }
  }

 private:
  struct fifo {
    http_session* head = nullptr;
    http_session* tail = nullptr;
  };
  std::uint64_t timeout_of(wait_kind k) const noexcept;
  bool due(const http_session& s) const noexcept;

  timeouts _timeouts;
  std::uint64_t _now_ns = 0;
  std::array<fifo, 4> _lists{};  // by wait_kind; none is unused
};

}  // namespace kbt::httpd
