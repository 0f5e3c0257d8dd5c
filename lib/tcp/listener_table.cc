#include "tcp/listener_table.hh"

namespace kbt::tcp {

listening_port* listener_table::find(std::uint16_t port) noexcept {
  if (port == 0) return nullptr;  // 0 marks a closed listener's slot
  for (std::size_t i = 0; i < _count; ++i) {
    if (_slots[i].port == port) return &_slots[i];
  }
  return nullptr;
}

const listening_port* listener_table::find(std::uint16_t port) const noexcept {
  return const_cast<listener_table*>(this)->find(port);
}

bool listener_table::listen(std::uint16_t port) noexcept {
  if (port == 0 || find(port) != nullptr) return port != 0;
  for (std::size_t i = 0; i < _count; ++i) {
    listening_port& l = _slots[i];
    if (l.port == 0 && _syn_queues.of(static_cast<std::uint8_t>(i)) == 0 &&
        l.accept_queue == 0) {
      l = listening_port{.port = port};
      return true;
    }
  }
  if (_count == kMax) return false;
  _slots[_count++] = listening_port{.port = port};
  return true;
}

// Handshakes already under way finish and reach the application, as
// established connections do; a new SYN gets RST as for any closed port
// (RFC 9293 §3.10.7.1).
bool listener_table::unlisten(std::uint16_t port) noexcept {
  listening_port* l = find(port);
  if (l == nullptr) return false;
  l->port = 0;
  return true;
}

}  // namespace kbt::tcp
