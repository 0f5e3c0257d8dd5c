#pragma once
// The global budget for ICMP error messages, a token bucket as Linux's
// icmp_global_allow: net.ipv4.icmp_msgs_per_sec (1000) tokens a second, at
// most net.ipv4.icmp_msgs_burst (50) saved up. RFC 1812 §4.3.2.8 and
// RFC 1122 §3.2.2 let a host limit the rate of the errors it sends; without
// a limit a flood of UDP to closed ports is reflected one for one.
// (Linux also limits per destination, icmp_ratelimit; kbt does not.)
#include <algorithm>
#include <cstdint>

namespace kbt::ip {

class icmp_rate_limit {
 public:
  static constexpr std::uint32_t kDefaultPerSecond = 1000;  // icmp_msgs_per_sec
  static constexpr std::uint32_t kDefaultBurst = 50;        // icmp_msgs_burst

  explicit icmp_rate_limit(std::uint32_t per_second = kDefaultPerSecond,
                           std::uint32_t burst = kDefaultBurst) noexcept
      : _per_second(per_second), _burst(burst), _tokens(burst) {}

  // True if one more error may be sent at `now_ns` (and takes its token).
  bool allow(std::uint64_t now_ns) noexcept {
    if (!_started) {
      _started = true;
      _last_ns = now_ns;
    }
    if (now_ns > _last_ns) {
      // Whole tokens only; the remainder of the interval is kept by moving
      // _last_ns forward by exactly what was paid for.
      const std::uint64_t elapsed = now_ns - _last_ns;
      const std::uint64_t earned = elapsed * _per_second / kNsPerSecond;
      if (earned > 0) {
        _tokens = static_cast<std::uint32_t>(std::min<std::uint64_t>(_burst, _tokens + earned));
        _last_ns = _tokens == _burst ? now_ns : _last_ns + earned * kNsPerSecond / _per_second;
      }
    }
    if (_tokens == 0) return false;
    --_tokens;
    return true;
  }

 private:
  static constexpr std::uint64_t kNsPerSecond = 1'000'000'000ULL;
  std::uint32_t _per_second;
  std::uint32_t _burst;
  std::uint32_t _tokens;
  std::uint64_t _last_ns = 0;
  bool _started = false;
};

}  // namespace kbt::ip
