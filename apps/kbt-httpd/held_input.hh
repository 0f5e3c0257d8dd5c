#pragma once
// Received bytes the parser has not reached yet (it stops while a response
// waits for send buffer space), kept in the mbufs they arrived in: no copy,
// no heap. Segments are freed one by one as they are consumed.
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace kbt::httpd {

class held_input {
 public:
  held_input() noexcept = default;
  ~held_input() { clear(); }
  held_input(const held_input&) = delete;
  held_input& operator=(const held_input&) = delete;

  bool empty() const noexcept { return _head == nullptr; }
  std::size_t size() const noexcept { return _bytes; }
  // Mbufs held (each one a received segment).
  std::size_t segments() const noexcept { return _segments; }

  // Takes an mbuf chain (from rx_data::take()) and queues its bytes last.
  void push(rte_mbuf* chain) noexcept;
  // The unread bytes of the first segment; empty only when empty().
  std::span<const std::byte> front() const noexcept {
    if (_head == nullptr) return {};
    return {rte_pktmbuf_mtod_offset(_head, const std::byte*, _offset), _head->data_len - _offset};
  }
  // Drops the first `n` unread bytes (n <= size()).
  void consume(std::size_t n) noexcept;
  void clear() noexcept;

 private:
  void drop_read_segments() noexcept;

  rte_mbuf* _head = nullptr;
  rte_mbuf* _tail = nullptr;
  std::uint32_t _offset = 0;  // bytes of _head already read
  std::size_t _bytes = 0;
  std::size_t _segments = 0;
};

}  // namespace kbt::httpd
