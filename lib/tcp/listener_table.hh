#pragma once
// The ports one core listens on, each with its two queues (RFC 9293
// §3.10.1; RFC 4987 §3.1). A TCB names its listener by slot, so a closed
// listener's slot is reused only once no passive open counts on it.
#include <array>
#include <cstddef>
#include <cstdint>

#include "tcp/syn_queue_lengths.hh"

namespace kbt::tcp {

struct listener {
  std::uint16_t port = 0;          // 0: a closed listener's slot (unlisten)
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
  listener* find(std::uint16_t port) noexcept;
  const listener* find(std::uint16_t port) const noexcept;
  std::uint8_t slot_of(const listener& l) const noexcept {
    return static_cast<std::uint8_t>(&l - _slots.data());
  }
  listener& at(std::uint8_t slot) noexcept { return _slots[slot]; }
  // Each slot's passive opens in SYN_RCVD (kept by the connections).
  syn_queue_lengths& syn_queues() noexcept { return _syn_queues; }
  // Those of `l`, one of this table's listeners.
  std::uint32_t syn_queue(const listener& l) const noexcept {
    return _syn_queues.of(slot_of(l));
  }

 private:
  std::array<listener, kMax> _slots{};
  syn_queue_lengths _syn_queues;
  std::size_t _count = 0;
};

}  // namespace kbt::tcp
