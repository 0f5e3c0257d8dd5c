#pragma once
// One connection's congestion window: slow start, congestion avoidance and
// the loss responses, for NewReno (RFC 5681, RFC 6582) or CUBIC (RFC 9438),
// chosen per connection at init().
//
// No virtual call per packet: the algorithm is a one-byte tag and its state
// a union member; each operation switches on the tag (a well-predicted
// branch, since a core's connections mostly share one algorithm). Adding an
// algorithm means a case in each switch and a member in the union.
//
// All quantities are bytes (byte counting, RFC 3465) with the connection's
// SMSS. Time is the caller's now as a count of ns (the connection passes
// base::ns_since_start(now)): RFC 9438's formulas are arithmetic on
// numbers, and so are its tests. Nothing here reads a clock or allocates.
//
// Loss recovery: the sender owns the recovery procedure and tells this
// class what happens, in one of two styles chosen when recovery starts:
//  * recovery_kind::newreno (RFC 6582): cwnd = ssthresh + 3*SMSS at entry,
//    +SMSS per further duplicate ACK (on_recovery_dupack), deflated by
//    partial ACKs (on_partial_ack), and set on the full ACK
//    (on_exit_recovery).
//  * recovery_kind::sack (RFC 6675): the sender limits transmission with
//    its pipe estimate against cwnd; cwnd = ssthresh at entry and stays
//    there (on_recovery_dupack and on_partial_ack do nothing) until
//    on_exit_recovery.
// While in recovery, on_ack() does not grow the window.
//
// Application-limited flows (RFC 7661, RFC 9438 §5.8): the caller should
// only call on_ack() when the window was actually used (the flight filled
// cwnd before this ACK); otherwise cwnd grows without being validated.
#include <cstdint>
#include <optional>
#include <string_view>

#include "tcp/config.hh"
#include "tcp/cubic.hh"
#include "tcp/newreno.hh"

namespace kbt::tcp {

// "newreno" (or "reno", Linux's name) and "cubic", any case. For a
// command-line flag; not for the hot path.
[[nodiscard]] std::optional<cc_algorithm> parse_cc_algorithm(std::string_view name) noexcept;
[[nodiscard]] std::string_view to_string(cc_algorithm algo) noexcept;

enum class recovery_kind : std::uint8_t {
  newreno,  // RFC 6582 window inflation and deflation
  sack,     // RFC 6675: pipe-limited, cwnd = ssthresh
};

class congestion_control {
 public:
  // RFC 9293 §3.7.1: the send MSS when the peer sent no MSS option.
  static constexpr std::uint32_t kDefaultSmss = 536;
  // RFC 5681 §3.1: initial ssthresh "arbitrarily high".
  static constexpr std::uint32_t kInfiniteSsthresh = UINT32_MAX;
  // cwnd never exceeds 1 GiB: RFC 7323 §2.3 caps the peer's window at
  // 2^30 (65535 << 14), so more could never be used, and the cap keeps
  // cwnd + increments far from wrapping 32 bits.
  static constexpr std::uint32_t kMaxCwnd = std::uint32_t{1} << 30;

  // NewReno with kDefaultSmss: a valid state for a pooled, unused TCB.
  congestion_control() noexcept { init(cc_algorithm::newreno, kDefaultSmss, 0); }
  congestion_control(cc_algorithm algo, std::uint32_t smss, std::uint64_t now_ns) noexcept {
    init(algo, smss, now_ns);
  }

  // Start (or restart, for a reused TCB) with the connection's SMSS: cwnd
  // = initial_window(smss), ssthresh = kInfiniteSsthresh. An SMSS of 0 is
  // taken as kDefaultSmss; above 65535 (the MSS option's range) is capped.
  void init(cc_algorithm algo, std::uint32_t smss, std::uint64_t now_ns) noexcept;

  // RFC 6928 §2: IW = min(10*SMSS, max(2*SMSS, 14600)). We take RFC 6928's
  // ten segments (as Linux does) but keep its byte bound for jumbo frames
  // (9000-byte SMSS: 2 segments, not 90 KB).
  [[nodiscard]] static constexpr std::uint32_t initial_window(std::uint32_t smss) noexcept {
    const std::uint32_t floor = 2 * smss > 14'600 ? 2 * smss : 14'600;
    return 10 * smss < floor ? 10 * smss : floor;
  }

  // `bytes_acked` new bytes were cumulatively acknowledged at now_ns;
  // `srtt_ns` is the smoothed RTT (CUBIC looks one RTT ahead, RFC 9438
  // §4.2; NewReno ignores it). Slow start below ssthresh (RFC 5681 §3.1
  // with RFC 3465 §2.2 byte counting, L = 2*SMSS), congestion avoidance
  // from ssthresh on. No-op during recovery.
  void on_ack(std::uint32_t bytes_acked, std::uint64_t now_ns, std::uint64_t srtt_ns) noexcept;

  // Loss detected by duplicate ACKs or SACK (fast retransmit): sets
  // ssthresh (NewReno: RFC 5681 eq. 4, max(FlightSize/2, 2*SMSS); CUBIC:
  // RFC 9438 §4.6, max(FlightSize*0.7, 2*SMSS)) and cwnd per `kind` (see
  // the top of this file). `flight_size` is the data outstanding when the
  // loss was detected. Ignored if already in recovery.
  void on_enter_recovery(std::uint32_t flight_size, std::uint64_t now_ns,
                         recovery_kind kind) noexcept;
  // RFC 6582 §3.2 step 4: each duplicate ACK after the third inflates cwnd
  // by SMSS (a segment has left the network). recovery_kind::newreno only.
  void on_recovery_dupack() noexcept;
  // RFC 6582 §3.2 step 5, partial ACK of `bytes_acked` new bytes: deflate
  // cwnd by that amount, then add back SMSS if it was at least SMSS.
  // recovery_kind::newreno only.
  void on_partial_ack(std::uint32_t bytes_acked) noexcept;
  // The ACK covering the recovery point arrived (RFC 6582 §3.2 step 5,
  // full ACK). `flight_size` is what is outstanding after it. cwnd =
  // min(ssthresh, max(FlightSize, SMSS) + SMSS), RFC 6582's first option:
  // it avoids a burst when little is in flight, and we use it for both
  // kinds (RFC 6675 leaves the exit window open).
  void on_exit_recovery(std::uint32_t flight_size) noexcept;

  // The retransmission timer expired (RFC 5681 §3.1 eq. 4 and the loss
  // window; CUBIC: RFC 9438 §4.8): ssthresh as at fast retransmit, cwnd =
  // 1 SMSS, recovery ends. `repeated` is true when the segment timed out
  // already: then ssthresh is left alone (RFC 5681 §3.1 sets it only for a
  // segment "not yet ... resent by way of the retransmission timer", since
  // FlightSize by then is about one segment and would collapse ssthresh).
  void on_rto(std::uint32_t flight_size, std::uint64_t now_ns, bool repeated = false) noexcept;

  // Sending new data after `idle_ns` with nothing in flight. If idle_ns
  // exceeds `rto_ns`, RFC 5681 §4.1: cwnd = min(cwnd, RW) with RW =
  // min(IW, cwnd); ssthresh first keeps 3/4 of the old cwnd (RFC 2861's
  // "ssthresh saves the previous cwnd", as Linux's tcp_cwnd_restart does)
  // so slow start climbs back quickly. CUBIC
  // also takes the idle time out of its epoch (RFC 9438 §5.8) whatever
  // its length.
  void on_idle_restart(std::uint64_t idle_ns, std::uint64_t rto_ns, std::uint64_t now_ns) noexcept;

  [[nodiscard]] std::uint32_t cwnd() const noexcept { return _cwnd; }
  [[nodiscard]] std::uint32_t ssthresh() const noexcept { return _ssthresh; }
  [[nodiscard]] std::uint32_t smss() const noexcept { return _smss; }
  // RFC 5681 §3.1: slow start while cwnd < ssthresh (at equality we use
  // congestion avoidance, which §3.1 allows).
  [[nodiscard]] bool in_slow_start() const noexcept { return _cwnd < _ssthresh; }
  [[nodiscard]] bool in_recovery() const noexcept { return _in_recovery; }
  [[nodiscard]] cc_algorithm algorithm() const noexcept { return _algo; }

  // The algorithm's own state, for tests and telemetry; nullptr when the
  // connection runs the other algorithm.
  [[nodiscard]] const cubic_state* cubic() const noexcept {
    return _algo == cc_algorithm::cubic ? &_cubic : nullptr;
  }
  [[nodiscard]] const newreno_state* newreno() const noexcept {
    return _algo == cc_algorithm::newreno ? &_reno : nullptr;
  }

 private:
  // The loss threshold for the running algorithm (updates CUBIC's W_max).
  std::uint32_t loss_ssthresh(std::uint32_t flight_size) noexcept;

  std::uint32_t _smss = kDefaultSmss;
  std::uint32_t _cwnd = 0;
  std::uint32_t _ssthresh = kInfiniteSsthresh;
  cc_algorithm _algo = cc_algorithm::newreno;
  recovery_kind _recovery = recovery_kind::newreno;
  bool _in_recovery = false;
  union {
    newreno_state _reno;
    cubic_state _cubic;
  };
};

}  // namespace kbt::tcp
