#pragma once
// The ports one core listens on, each with the lengths of its two queues
// (RFC 9293 §3.10.1; RFC 4987 §3.1), for the listener (listener.hh). A TCB
// names its port by slot, so a closed port's slot is reused only once no
// passive open counts on it.
#include <array>
#include <cstddef>
#include <cstdint>

#include "tcp/syn_queue_lengths.hh"

namespace kbt::tcp {

struct listening_port {
  std::uint16_t port = 0;          // 0: a closed port's slot (unlisten)
  std::uint32_t accept_queue = 0;  // established, not yet handed to the application
};

class listener_table {
 public:
  static constexpr std::size_t kMax = syn_queue_lengths::kListeners;

  // False when kMax ports listen already; true (and nothing changes) when
  // `port` listens already.
  bool listen(std::uint16_t port) noexcept;
  // RFC 9293 §3.10.4 CLOSE in LISTEN; false when nothing listens on `port`.
  bool unlisten(std::uint16_t port) noexcept;
  listening_port* find(std::uint16_t port) noexcept;
  const listening_port* find(std::uint16_t port) const noexcept;
  std::uint8_t slot_of(const listening_port& l) const noexcept {
    return static_cast<std::uint8_t>(&l - _slots.data());
  }
  listening_port& at(std::uint8_t slot) noexcept { return _slots[slot]; }
  // Each slot's passive opens in SYN_RCVD (kept by the connections).
  syn_queue_lengths& syn_queues() noexcept { return _syn_queues; }
  // Those of `l`, one of this table's ports.
  std::uint32_t syn_queue(const listening_port& l) const noexcept {
    return _syn_queues.of(slot_of(l));
  }

 private:
  std::array<listening_port, kMax> _slots{};
  syn_queue_lengths _syn_queues;
  std::size_t _count = 0;
};

}  // namespace kbt::tcp
