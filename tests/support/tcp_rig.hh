#pragma once
// One tcp_layer on its own, as unit tests, fuzz targets and benchmarks drive
// it: fixed ISN and cookie keys, a virtual clock, the peer's segments built
// by segment_factory, and a segment_capture of what the layer sends
// (every packet parsed and its checksums checked, as the receiving kernel
// would; a wrong one goes to the failure hook). The stack is 198.18.0.2, the
// peer 198.18.0.1.
#include <rte_mbuf.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "segment_capture.hh"
#include "base/clock.hh"
#include "segment_factory.hh"
#include "tcp/tcp_layer.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::support {

inline constexpr auto kStackIp = wire::ipv4_addr::from_octets(198, 18, 0, 2);
inline constexpr auto kPeerIp = wire::ipv4_addr::from_octets(198, 18, 0, 1);
inline constexpr tcp::siphash_key kIsnKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
inline constexpr tcp::siphash_key kCookieKey = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};

// Time as the rig's layer sees it: moved only by the test (quiche's
// MockClock). It outlives the rig, so a test can rebuild the layer and keep
// its time.
struct virtual_clock {
  base::instant now = base::instant_from_ns(1'000'000'000);
};

struct rig_config {
  // NewReno unless a test asks for CUBIC: its window arithmetic is what the
  // unit tests' expectations are written in.
  tcp::tcp_config tcp = [] {
    tcp::tcp_config t;
    t.cc = tcp::cc_algorithm::newreno;
    return t;
  }();
  std::uint32_t max_conns = 16;
  std::uint16_t port_first = tcp::port_pool::kFirst;
  std::uint16_t port_last = tcp::port_pool::kLast;
  wire::ipv4_range sources;  // source addresses of connect(); empty: kStackIp
  tcp::siphash_key cookie_key = kCookieKey;
  rte_mempool* pool = nullptr;
  // The layer leaves checksums to a NIC: what it sends then fails the
  // rig's checks (a test of the checks themselves).
  bool tx_cksum_offload = false;
};

class tcp_rig {
 public:
  // `on_failure` nullptr: print `what` and abort.
  tcp_rig(const rig_config& config, virtual_clock& clock, rig_failure_fn on_failure = nullptr,
          void* fail_ctx = nullptr);
  ~tcp_rig();
  tcp_rig(const tcp_rig&) = delete;
  tcp_rig& operator=(const tcp_rig&) = delete;

  tcp::tcp_layer& layer() noexcept { return *_layer; }
  base::instant now() const noexcept { return _clock.now; }
  rte_mempool* pool() const noexcept { return _pool; }

  // The peer sends `s` now: unset addresses become kPeerIp -> kStackIp; the
  // bytes are parsed back as the engine would before tcp_layer::input.
  void input(segment_spec s);
  // Moves the clock by `ns` nanoseconds and runs the timers.
  void advance_ns(std::uint64_t ns);

  // Everything sent since the last call, parsed and checked (flushes first).
  std::vector<captured_segment> sent();
  void set_capture(capture_mode m) noexcept { _capture.set_mode(m); }
  std::uint64_t discarded() const noexcept { return _capture.discarded(); }

  // Application events: with auto_poll, collected after every input and
  // timer run (which also empties the accept queue).
  bool auto_poll = true;
  void poll();
  std::vector<std::pair<tcp::tcb*, std::uint8_t>>& events() noexcept { return _events; }
  // The events of `c` since the last take (all others are dropped too).
  std::uint8_t take_events(const tcp::tcb* c);

  // A rule broke: the failure hook hears of it.
  void fail(const char* what) const { _capture.fail(what); }

 private:
  virtual_clock& _clock;
  rte_mempool* _pool;
  segment_capture _capture;  // before _layer, which flushes into it until it goes
  std::vector<std::pair<tcp::tcb*, std::uint8_t>> _events;
  std::unique_ptr<tcp::tcp_layer> _layer;
};

}  // namespace kbt::support
