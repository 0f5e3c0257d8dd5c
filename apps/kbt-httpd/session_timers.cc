#include "session_timers.hh"

#include "http_session.hh"

namespace kbt::httpd {

std::uint64_t session_timers::timeout_of(wait_kind k) const noexcept {
  switch (k) {
    case wait_kind::header: return _timeouts.header_ns;
    case wait_kind::idle: return _timeouts.idle_ns;
    case wait_kind::send: return _timeouts.send_ns;
    case wait_kind::none: break;
  }
  return 0;
}

bool session_timers::due(const http_session& s) const noexcept {
  return s.hook().deadline_ns <= _now_ns;
}

void session_timers::arm(http_session& s, wait_kind kind) noexcept {
  cancel(s);
  if (kind == wait_kind::none || timeout_of(kind) == 0) return;
  timer_hook& h = s.hook();
  h.kind = kind;
  h.deadline_ns = _now_ns + timeout_of(kind);
  fifo& l = _lists[static_cast<std::size_t>(kind)];
  h.prev = l.tail;
  h.next = nullptr;
  if (l.tail != nullptr) {
    l.tail->hook().next = &s;
  } else {
    l.head = &s;
  }
  l.tail = &s;
}

void session_timers::cancel(http_session& s) noexcept {
  timer_hook& h = s.hook();
  if (h.kind == wait_kind::none) return;
  fifo& l = _lists[static_cast<std::size_t>(h.kind)];
  if (h.prev != nullptr) {
    h.prev->hook().next = h.next;
  } else {
    l.head = h.next;
  }
  if (h.next != nullptr) {
    h.next->hook().prev = h.prev;
  } else {
    l.tail = h.prev;
  }
  h = timer_hook{};
}

}  // namespace kbt::httpd
