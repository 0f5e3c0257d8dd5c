#pragma once
// --pipeline N (h2load's -m): the requests one connection has sent, or is
// sending, whose responses have not come yet, oldest first. HTTP/1.1
// answers pipelined requests in the order they were sent (RFC 9112 §9.3.2),
// so the next response always belongs to the oldest entry. Each entry is
// where that request's latency starts: its send (closed loop) or its
// scheduled time (--rate). A ring over room the handler reserves at start-up:
// nothing allocates per request.
#include <cstdint>
#include <span>

namespace kbt::load {

class request_window {
 public:
  request_window() = default;
  explicit request_window(std::span<std::uint64_t> room) noexcept : _room(room) {}

  std::uint32_t size() const noexcept { return _size; }
  std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(_room.size()); }
  bool empty() const noexcept { return _size == 0; }
  bool full() const noexcept { return _size == _room.size(); }

  // A request goes out; false (nothing kept) when the window is full.
  bool push(std::uint64_t origin) noexcept {
    if (full()) return false;
    _room[(_head + _size) % _room.size()] = origin;
    ++_size;
    return true;
  }
  // The oldest request's response is in: its origin (0 when none is outstanding).
  std::uint64_t pop() noexcept {
    if (empty()) return 0;
    const std::uint64_t origin = _room[_head];
    _head = static_cast<std::uint32_t>((_head + 1) % _room.size());
    --_size;
    return origin;
  }
  void clear() noexcept {
    _head = 0;
    _size = 0;
  }

 private:
  std::span<std::uint64_t> _room;
  std::uint32_t _head = 0;
  std::uint32_t _size = 0;
};

}  // namespace kbt::load
