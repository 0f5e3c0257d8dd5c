#include "tcp/congestion.hh"

#include <algorithm>
#include <array>
#include <cctype>

namespace kbt::tcp {

namespace {

bool equals_lower(std::string_view text, std::string_view lower) noexcept {
  return text.size() == lower.size() &&
         std::equal(text.begin(), text.end(), lower.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

constexpr std::uint32_t kMaxSmss = 65'535;  // the MSS option is 16 bits

}  // namespace

std::optional<cc_algorithm> parse_cc_algorithm(std::string_view name) noexcept {
  if (equals_lower(name, "newreno") || equals_lower(name, "reno")) return cc_algorithm::newreno;
  if (equals_lower(name, "cubic")) return cc_algorithm::cubic;
  return std::nullopt;
}

std::string_view to_string(cc_algorithm algo) noexcept {
  switch (algo) {
    case cc_algorithm::newreno:
      return "newreno";
    case cc_algorithm::cubic:
      return "cubic";
  }
  return "invalid";
}

void congestion_control::init(cc_algorithm algo, std::uint32_t smss,
                              [[maybe_unused]] std::uint64_t now_ns) noexcept {
  _algo = algo;
  _smss = smss == 0 ? kDefaultSmss : std::min(smss, kMaxSmss);
  // RFC 5681 §3.1: IW (RFC 6928, see initial_window()) and ssthresh
  // "arbitrarily high" so the first slow start ends only on loss.
  _cwnd = initial_window(_smss);
  _ssthresh = kInfiniteSsthresh;
  _in_recovery = false;
  _recovery = recovery_kind::newreno;
  switch (_algo) {
    case cc_algorithm::newreno:
      _reno = newreno_state{};
      break;
    case cc_algorithm::cubic:
      _cubic = cubic_state{};
      break;
  }
}

void congestion_control::on_ack(std::uint32_t bytes_acked, std::uint64_t now_ns,
                                std::uint64_t srtt_ns) noexcept {
  // During recovery the recovery hooks own cwnd (RFC 6582 §3.2, RFC 6675 §5).
  if (_in_recovery || bytes_acked == 0) return;

  std::uint32_t left = bytes_acked;
  if (_cwnd < _ssthresh) {
    // RFC 5681 §3.1 slow start with RFC 3465 §2.2 byte counting:
    // cwnd += min(N, L) with L = 2*SMSS, which undoes the halving of
    // growth that delayed ACKs cause without allowing line-rate bursts
    // from stretch ACKs. Stop at ssthresh; what the ACK covered beyond
    // that point counts toward congestion avoidance (as Linux's
    // tcp_slow_start returns it).
    const std::uint32_t room = std::min(_ssthresh, kMaxCwnd) - _cwnd;
    const std::uint32_t grow = std::min(bytes_acked, 2 * _smss);
    if (grow < room || _ssthresh > kMaxCwnd) {
      _cwnd += std::min(grow, room);
      return;
    }
    _cwnd += room;
    left = bytes_acked - room;
    if (left == 0) return;
  }

  std::uint32_t next = _cwnd;
  switch (_algo) {
    case cc_algorithm::newreno:
      next = newreno_avoidance(_reno, _cwnd, _smss, left);
      break;
    case cc_algorithm::cubic:
      next = cubic_avoidance(_cubic, _cwnd, _smss, left, now_ns, srtt_ns);
      break;
  }
  _cwnd = std::min(next, kMaxCwnd);
}

std::uint32_t congestion_control::loss_ssthresh(std::uint32_t flight_size) noexcept {
  switch (_algo) {
    case cc_algorithm::newreno:
      _reno.bytes_acked = 0;
      return newreno_ssthresh(flight_size, _smss);
    case cc_algorithm::cubic:
      return cubic_on_congestion(_cubic, _cwnd, flight_size, _smss);
  }
  return newreno_ssthresh(flight_size, _smss);
}

void congestion_control::on_enter_recovery(std::uint32_t flight_size,
                                           [[maybe_unused]] std::uint64_t now_ns,
                                           recovery_kind kind) noexcept {
  // RFC 6582 §3.2 step 1: no new reduction while recovering from the
  // same window of losses (the sender's `recover` check; we guard too).
  if (_in_recovery) return;
  _in_recovery = true;
  _recovery = kind;
  _ssthresh = loss_ssthresh(flight_size);
  switch (kind) {
    case recovery_kind::newreno:
      // RFC 6582 §3.2 step 3 (RFC 5681 §3.2 step 3): cwnd = ssthresh +
      // 3*SMSS, the three segments that left the network to trigger the
      // three duplicate ACKs.
      _cwnd = std::min(_ssthresh + 3 * _smss, kMaxCwnd);
      break;
    case recovery_kind::sack:
      // RFC 6675 §5 step (4.2): cwnd = ssthresh (RFC 9438 §4.6 for CUBIC:
      // cwnd = max(ssthresh, 2*SMSS), which ssthresh already is).
      _cwnd = std::min(_ssthresh, kMaxCwnd);
      break;
  }
}

void congestion_control::on_recovery_dupack() noexcept {
  if (!_in_recovery || _recovery != recovery_kind::newreno) return;
  _cwnd = std::min(_cwnd + _smss, kMaxCwnd);
}

void congestion_control::on_partial_ack(std::uint32_t bytes_acked) noexcept {
  if (!_in_recovery || _recovery != recovery_kind::newreno) return;
  // RFC 6582 §3.2 step 5 (partial acknowledgment): "Deflate the congestion
  // window by the amount of new data acknowledged ... If the partial ACK
  // acknowledges at least one SMSS of new data, then add back SMSS bytes".
  // Kept at one SMSS at least so the retransmission can go out.
  std::uint32_t cwnd = _cwnd > bytes_acked ? _cwnd - bytes_acked : 0;
  if (bytes_acked >= _smss) cwnd += _smss;
  _cwnd = std::max(cwnd, _smss);
}

void congestion_control::on_exit_recovery(std::uint32_t flight_size) noexcept {
  if (!_in_recovery) return;
  _in_recovery = false;
  // RFC 6582 §3.2 step 5 (full acknowledgment), option (1).
  const std::uint32_t burst_safe = std::max(flight_size, _smss) + _smss;
  _cwnd = std::min({_ssthresh, burst_safe, kMaxCwnd});
}

void congestion_control::on_rto(std::uint32_t flight_size, [[maybe_unused]] std::uint64_t now_ns,
                                bool repeated) noexcept {
  // A timeout ends fast recovery (RFC 6582 §3.2 step 6).
  _in_recovery = false;
  if (!repeated) _ssthresh = loss_ssthresh(flight_size);
  switch (_algo) {
    case cc_algorithm::newreno:
      _reno.bytes_acked = 0;
      break;
    case cc_algorithm::cubic:
      cubic_on_timeout(_cubic);
      break;
  }
  // RFC 5681 §3.1: cwnd = LW, "1 full-sized segment (regardless of the
  // value of IW)".
  _cwnd = _smss;
}

void congestion_control::on_idle_restart(std::uint64_t idle_ns, std::uint64_t rto_ns,
                                         std::uint64_t now_ns) noexcept {
  if (_algo == cc_algorithm::cubic) cubic_on_idle(_cubic, idle_ns, now_ns);
  if (idle_ns <= rto_ns || _in_recovery) return;
  // RFC 5681 §4.1: after an idle period longer than the RTO, restart from
  // RW = min(IW, cwnd) since the ACK clock is gone.
  const std::uint32_t restart = std::min(initial_window(_smss), _cwnd);
  if (restart == _cwnd) return;
  // RFC 2861's ssthresh memory: slow start climbs back to 3/4 of the old
  // window instead of probing from scratch.
  const std::uint32_t three_quarters =
      static_cast<std::uint32_t>(std::uint64_t{_cwnd} * 3 / 4);
  _ssthresh = std::max(_ssthresh, three_quarters);
  _cwnd = restart;
  switch (_algo) {
    case cc_algorithm::newreno:
      _reno.bytes_acked = 0;
      break;
    case cc_algorithm::cubic:
      // The old epoch's curve started from a cwnd we no longer have; the
      // next congestion avoidance stage starts a new one (W_max is kept).
      _cubic.in_epoch = false;
      break;
  }
}

}  // namespace kbt::tcp
