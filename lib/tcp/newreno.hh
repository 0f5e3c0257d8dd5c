#pragma once
// NewReno's window arithmetic (RFC 5681 §3.1, RFC 3465, RFC 6582), in
// bytes. Only the parts that differ from CUBIC live here: congestion
// avoidance growth and the loss threshold. Slow start and the recovery
// window bookkeeping are shared and live in congestion_control.
#include <algorithm>
#include <cstdint>

namespace kbt::tcp {

// Trivial on purpose: it sits in congestion_control's union, which a TCB
// pool may hold by the million.
struct newreno_state {
  // RFC 3465 §2.1 ("bytes_acked"): bytes acknowledged in congestion
  // avoidance since cwnd last grew.
  std::uint32_t bytes_acked;
};

constexpr void newreno_reset(newreno_state& s) noexcept { s.bytes_acked = 0; }

// Congestion avoidance for an ACK of `bytes_acked` new bytes; returns the
// new cwnd. RFC 5681 §3.1 (and RFC 3465 §2.1): count acknowledged bytes and
// add SMSS to cwnd each time they reach cwnd, i.e. one SMSS per RTT
// however the receiver spaces its ACKs (delayed ACKs do not slow growth,
// and ACK division cannot speed it up).
std::uint32_t newreno_avoidance(newreno_state& s, std::uint32_t cwnd, std::uint32_t smss,
                                std::uint32_t bytes_acked) noexcept;

// RFC 5681 §3.1 eq. (4), used at fast retransmit (§3.2 step 2) and at a
// retransmission timeout: ssthresh = max(FlightSize / 2, 2*SMSS).
constexpr std::uint32_t newreno_ssthresh(std::uint32_t flight_size, std::uint32_t smss) noexcept {
  return std::max(flight_size / 2, 2 * smss);
}

}  // namespace kbt::tcp
