#include "tcp/newreno.hh"

namespace kbt::tcp {

std::uint32_t newreno_avoidance(newreno_state& s, std::uint32_t cwnd, std::uint32_t smss,
                                std::uint32_t bytes_acked) noexcept {
  // 64-bit sum: a stretch ACK of nearly 4 GiB must not wrap the counter.
  const std::uint64_t acked = std::uint64_t{s.bytes_acked} + bytes_acked;
  if (acked < cwnd) {
    s.bytes_acked = static_cast<std::uint32_t>(acked);
    return cwnd;
  }
  // RFC 5681 §3.1: "When the number of bytes acknowledged reaches cwnd,
  // then cwnd can be incremented by up to SMSS bytes." The remainder is
  // kept (RFC 3465 §2.1 subtracts cwnd rather than zeroing), but at most
  // one cwnd of it, so one huge ACK cannot bank growth for later RTTs.
  s.bytes_acked = static_cast<std::uint32_t>(std::min<std::uint64_t>(acked - cwnd, cwnd));
  return cwnd + smss;
}

}  // namespace kbt::tcp
