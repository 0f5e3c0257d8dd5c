#pragma once
// One core's budget of mbufs for one purpose (what send buffers hold, or
// what receive queues hold), shared by its connections the way Linux shares
// tcp_mem between sockets (net/core/sock.c __sk_mem_raise_allocated):
//
// - below half the limit, any connection may grow up to its own maximum
//   (Linux: below tcp_mem[0]);
// - above half ("pressure", tcp_mem[1]), a connection may grow only up to
//   its fair share, the limit divided among the connections holding any:
//   a few connections that never drain cannot take all of it;
// - at the limit (tcp_mem[2]) only a connection below the guaranteed
//   minimum may take more (tcp_wmem[0] / tcp_rmem[0]), so that a new
//   connection can still start; those minimums together may overshoot the
//   limit by an eighth of it, no more (the caller keeps that slack free).
//
// The counts are in mbufs because that is what runs out: a 1-byte segment
// pins a whole buffer. The owner (the core's tcp_layer) updates the counts
// whenever a connection's holding changes; nothing here allocates.
#include <algorithm>
#include <cstdint>

namespace kbt::tcp {

class mbuf_budget {
 public:
  mbuf_budget(std::uint32_t limit, std::uint32_t per_conn_max, std::uint32_t guaranteed) noexcept
      : _limit(std::max<std::uint32_t>(limit, 1)),
        _per_conn_max(std::max<std::uint32_t>(per_conn_max, 1)),
        _guaranteed(std::min(guaranteed, _per_conn_max)),
        _hard(_limit + _limit / 8) {}

  // How many more mbufs a connection that holds `held` may take now.
  std::uint32_t allowance(std::uint32_t held) const noexcept {
    if (held >= _per_conn_max) return 0;
    std::uint32_t cap = _per_conn_max;
    if (_used >= _limit) {
      cap = _guaranteed;
    } else if (_used >= _limit / 2) {
      // Share among the holders, counting this one if it holds nothing yet.
      const std::uint32_t holders = _holders + (held == 0 ? 1 : 0);
      cap = std::min(cap, std::max(_guaranteed, _limit / holders));
    }
    if (held >= cap) return 0;
    std::uint32_t room = cap - held;
    // Even the guaranteed minimum stays inside the hard bound.
    const std::uint32_t left = _used < _hard ? _hard - _used : 0;
    return std::min(room, left);
  }

  // A connection's holding went from `before` to `after` mbufs.
  void update(std::uint32_t before, std::uint32_t after) noexcept {
    _used = _used - before + after;
    if (before == 0 && after != 0) ++_holders;
    if (before != 0 && after == 0) --_holders;
  }

  std::uint32_t used() const noexcept { return _used; }
  std::uint32_t holders() const noexcept { return _holders; }
  std::uint32_t limit() const noexcept { return _limit; }
  std::uint32_t per_conn_max() const noexcept { return _per_conn_max; }
  std::uint32_t guaranteed() const noexcept { return _guaranteed; }
  // Under pressure: connections are held to their share.
  bool pressed() const noexcept { return _used >= _limit / 2; }

 private:
  std::uint32_t _limit;
  std::uint32_t _per_conn_max;
  std::uint32_t _guaranteed;
  std::uint32_t _hard;
  std::uint32_t _used = 0;
  std::uint32_t _holders = 0;
};

}  // namespace kbt::tcp
