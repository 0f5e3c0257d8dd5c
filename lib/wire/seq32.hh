#pragma once
// TCP sequence numbers (RFC 9293 §3.4): 32-bit values compared modulo 2^32.
// "a < b" means b lies less than 2^31 ahead of a, computed as
// int32_t(a - b) < 0 (as Seastar's tcp_seq and Linux's before()/after() do).
// The type has no conversion from or to a bare uint32_t and no raw
// comparison, so a wrap-around bug cannot hide behind `a.value < b.value`.
//
// The order is not transitive across more than half the space; callers keep
// windows below 2^31 (RFC 7323 §2.3 caps the scaled window at 2^30).
#include <cstdint>

namespace kbt::wire {

struct seq32 {
  std::uint32_t value = 0;

  constexpr seq32& operator+=(std::uint32_t n) noexcept {
    value += n;  // unsigned: wraps modulo 2^32 by definition
    return *this;
  }
  constexpr seq32& operator-=(std::uint32_t n) noexcept {
    value -= n;
    return *this;
  }
  constexpr seq32& operator++() noexcept { return *this += 1; }

  friend constexpr seq32 operator+(seq32 s, std::uint32_t n) noexcept { return s += n; }
  friend constexpr seq32 operator-(seq32 s, std::uint32_t n) noexcept { return s -= n; }

  // Signed distance from b to a: positive when a is after b. C++20 defines
  // the unsigned-to-signed conversion as modular, so this is not UB.
  friend constexpr std::int32_t operator-(seq32 a, seq32 b) noexcept {
    return static_cast<std::int32_t>(a.value - b.value);
  }

  friend constexpr bool operator==(seq32, seq32) noexcept = default;
  friend constexpr bool operator<(seq32 a, seq32 b) noexcept { return (a - b) < 0; }
  friend constexpr bool operator<=(seq32 a, seq32 b) noexcept { return (a - b) <= 0; }
  friend constexpr bool operator>(seq32 a, seq32 b) noexcept { return (a - b) > 0; }
  friend constexpr bool operator>=(seq32 a, seq32 b) noexcept { return (a - b) >= 0; }
};

constexpr seq32 seq_min(seq32 a, seq32 b) noexcept { return a < b ? a : b; }
constexpr seq32 seq_max(seq32 a, seq32 b) noexcept { return a < b ? b : a; }

// start <= s < start + len, modulo 2^32: the acceptability tests of RFC 9293
// §3.10.7.4 ("RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND"). Computed as one
// unsigned offset so it stays right when the window straddles the wrap.
// An empty window (len == 0) contains nothing.
constexpr bool in_window(seq32 s, seq32 start, std::uint32_t len) noexcept {
  return s.value - start.value < len;
}

// lo <= s <= hi, modulo 2^32, e.g. "SND.UNA < SEG.ACK =< SND.NXT" is
// in_range_closed(ack, una + 1, nxt). Requires lo <= hi.
constexpr bool in_range_closed(seq32 s, seq32 lo, seq32 hi) noexcept {
  return s.value - lo.value <= hi.value - lo.value;
}

}  // namespace kbt::wire
