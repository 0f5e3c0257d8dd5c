#pragma once
// Connections with news for the application, in the order the news came:
// an intrusive list through the TCB (no allocation), each TCB on it once
// however many events it collects before the application's turn.
#include <cstdint>

#include "tcp/tcb.hh"

namespace kbt::tcp {

class event_queue {
 public:
  // Adds `ev` (event:: bits) to what `c` has to report.
  void post(tcb& c, std::uint8_t ev) noexcept {
    c.events |= ev;
    if (c.on_event_list) return;
    c.on_event_list = true;
    c.next_event = nullptr;
    if (_tail != nullptr) {
      _tail->next_event = &c;
    } else {
      _head = &c;
    }
    _tail = &c;
  }

  // The oldest connection with news, off the list (its events still set),
  // or nullptr.
  tcb* pop() noexcept {
    tcb* c = _head;
    if (c == nullptr) return nullptr;
    _head = c->next_event;
    if (_head == nullptr) _tail = nullptr;
    c->next_event = nullptr;
    c->on_event_list = false;
    return c;
  }

  bool empty() const noexcept { return _head == nullptr; }

 private:
  tcb* _head = nullptr;
  tcb* _tail = nullptr;
};

}  // namespace kbt::tcp
