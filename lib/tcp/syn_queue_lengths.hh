#pragma once
// How many passive opens each listener has in SYN_RCVD: its SYN queue
// (RFC 9293 §3.10.7.2, the backlog's first half). Counted where a
// connection changes state, by the connection itself, so it needs to see
// this and not the listeners.
#include <array>
#include <cstdint>

namespace kbt::tcp {

class syn_queue_lengths {
 public:
  static constexpr std::size_t kListeners = 16;  // listener::kMaxPorts

  void enter(std::uint8_t listener_slot) noexcept { ++_n[listener_slot]; }
  void leave(std::uint8_t listener_slot) noexcept { --_n[listener_slot]; }
  std::uint32_t of(std::uint8_t listener_slot) const noexcept { return _n[listener_slot]; }

 private:
  std::array<std::uint32_t, kListeners> _n{};
};

}  // namespace kbt::tcp
