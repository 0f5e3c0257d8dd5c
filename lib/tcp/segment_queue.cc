#include "tcp/segment_queue.hh"

#include <algorithm>

namespace kbt::tcp {

segment_queue::~segment_queue() {
  for (std::size_t i = 0; i < _count; ++i) rte_pktmbuf_free(_out[i].m);
}

void segment_queue::flush() noexcept {
  if (_count == 0) return;
  const std::size_t n = _count;
  const std::size_t taken = std::min(n, _flush(_ctx, std::span<const out_packet>(_out.data(), n)));
  // What the owner could not take now waits at the front, in order, and
  // nothing more is made until the next iteration gives room again.
  std::copy(_out.begin() + static_cast<std::ptrdiff_t>(taken),
            _out.begin() + static_cast<std::ptrdiff_t>(n), _out.begin());
  _count = n - taken;
  if (_count > 0) _room = 0;
}

}  // namespace kbt::tcp
