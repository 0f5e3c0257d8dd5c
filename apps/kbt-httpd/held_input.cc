#include "held_input.hh"

#include <algorithm>

namespace kbt::httpd {

namespace {

// Frees the first segment of a chain and returns the rest. The segments of
// a chain are freed one at a time here, so the head's nb_segs and pkt_len
// (which would be stale) are never used.
rte_mbuf* free_first(rte_mbuf* m) noexcept {
  rte_mbuf* next = m->next;
  m->next = nullptr;
  m->nb_segs = 1;
  rte_pktmbuf_free_seg(m);
  return next;
}

}  // namespace

void held_input::push(rte_mbuf* chain) noexcept {
  if (chain == nullptr) return;
  rte_mbuf* last = chain;
  _bytes += chain->data_len;
  ++_segments;
  while (last->next != nullptr) {
    last = last->next;
    _bytes += last->data_len;
    ++_segments;
  }
  if (_head == nullptr) {
    _head = chain;
  } else {
    _tail->next = chain;
  }
  _tail = last;
  drop_read_segments();
}

void held_input::consume(std::size_t n) noexcept {
  while (n > 0 && _head != nullptr) {
    const std::size_t here = std::min<std::size_t>(n, _head->data_len - _offset);
    _offset += static_cast<std::uint32_t>(here);
    _bytes -= here;
    n -= here;
    drop_read_segments();
  }
}

void held_input::clear() noexcept {
  while (_head != nullptr) _head = free_first(_head);
  _tail = nullptr;
  _offset = 0;
  _bytes = 0;
  _segments = 0;
}

// Keeps the invariant that the first segment has unread bytes.
void held_input::drop_read_segments() noexcept {
  while (_head != nullptr && _offset >= _head->data_len) {
    _head = free_first(_head);
    _offset = 0;
    --_segments;
  }
  if (_head == nullptr) _tail = nullptr;
}

}  // namespace kbt::httpd
