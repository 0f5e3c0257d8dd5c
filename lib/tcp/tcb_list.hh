#pragma once
// A FIFO of connections threaded through one tcb_link of each (tcb.hh):
// doubly linked, so a connection that goes away leaves it at once, and a
// connection is on it at most once. Nothing allocates.
#include "tcp/tcb.hh"

namespace kbt::tcp {

template <tcb_link tcb::*Link>
class tcb_list {
 public:
  bool empty() const noexcept { return _head == nullptr; }
  tcb* front() const noexcept { return _head; }
  static bool contains(const tcb& c) noexcept { return (c.*Link).linked; }

  // At the back, unless it is on the list already.
  void push_back(tcb& c) noexcept {
    tcb_link& l = c.*Link;
    if (l.linked) return;
    l = tcb_link{_tail, nullptr, true};
    if (_tail != nullptr) {
      (_tail->*Link).next = &c;
    } else {
      _head = &c;
    }
    _tail = &c;
  }

  void remove(tcb& c) noexcept {
    tcb_link& l = c.*Link;
    if (!l.linked) return;
    if (l.prev != nullptr) {
      (l.prev->*Link).next = l.next;
    } else {
      _head = l.next;
    }
    if (l.next != nullptr) {
      (l.next->*Link).prev = l.prev;
    } else {
      _tail = l.prev;
    }
    l = tcb_link{};
  }

 private:
  tcb* _head = nullptr;
  tcb* _tail = nullptr;
};

}  // namespace kbt::tcp
