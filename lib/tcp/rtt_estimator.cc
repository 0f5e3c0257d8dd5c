#include "tcp/rtt_estimator.hh"

#include <algorithm>

namespace kbt::tcp {

namespace {
// RFC 6298 §2: K = 4 (alpha = 1/8 and beta = 1/4 appear in on_sample()).
constexpr std::uint64_t kK = 4;
}  // namespace

rtt_estimator::rtt_estimator(const rtt_config& config) noexcept : _config(config) {
  // A maximum below the minimum would make the clamp order matter; the
  // minimum wins, as it is the safety bound against spurious timeouts.
  _config.max_rto_ns = std::max(_config.max_rto_ns, _config.min_rto_ns);
  reset();
}

void rtt_estimator::reset() noexcept {
  _srtt_ns = 0;
  _rttvar_ns = 0;
  _latest_ns = 0;
  _min_ns = 0;
  _backoffs = 0;
  _has_sample = false;
  // RFC 6298 §2.1: until a measurement is made, RTO = 1 s (configurable;
  // kept inside [min, max] so every value rto_ns() returns obeys both).
  _rto_ns = std::clamp(_config.initial_rto_ns, _config.min_rto_ns, _config.max_rto_ns);
}

std::uint64_t rtt_estimator::computed_rto() const noexcept {
  const std::uint64_t rto = _srtt_ns + std::max(_config.granularity_ns, kK * _rttvar_ns);
  // RFC 6298 §2.4 (minimum, see rtt_config::min_rto_ns) and §2.5 (maximum).
  return std::clamp(rto, _config.min_rto_ns, _config.max_rto_ns);
}

void rtt_estimator::on_sample(std::uint64_t rtt_ns) noexcept {
  const std::uint64_t r = std::min(rtt_ns, kMaxSampleNs);
  _latest_ns = r;
  if (!_has_sample) {
    // RFC 6298 §2.2: SRTT <- R, RTTVAR <- R/2.
    _srtt_ns = r;
    _rttvar_ns = r / 2;
    _min_ns = r;
    _has_sample = true;
  } else {
    // RFC 6298 §2.3, in this order since RTTVAR uses the SRTT from before
    // the update:
    //   RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|, beta = 1/4
    //   SRTT   <- (1 - alpha) * SRTT  + alpha * R',         alpha = 1/8
    const std::uint64_t delta = _srtt_ns > r ? _srtt_ns - r : r - _srtt_ns;
    _rttvar_ns = (3 * _rttvar_ns + delta) / 4;
    _srtt_ns = (7 * _srtt_ns + r) / 8;
    _min_ns = std::min(_min_ns, r);
  }
  _backoffs = 0;
  _rto_ns = computed_rto();
}

void rtt_estimator::on_timeout() noexcept {
  // RFC 6298 §5.5: RTO <- RTO * 2, with §2.5's maximum. The cap also keeps
  // the doubling from overflowing however long the peer stays away.
  _rto_ns = _rto_ns >= _config.max_rto_ns / 2 ? _config.max_rto_ns : _rto_ns * 2;
  ++_backoffs;
}

void rtt_estimator::on_handshake_after_syn_timeout() noexcept {
  if (_has_sample) return;
  // RFC 6298 §5.7: "the RTO MUST be re-initialized to 3 seconds when data
  // transmission begins" when the implementation uses an initial RTO below
  // 3 s (ours is 1 s). Like Linux (TCP_TIMEOUT_FALLBACK) we also bring a
  // SYN backoff that went above 3 s back down: it measured the handshake's
  // losses, not the path. Still bounded by the configured range.
  _rto_ns = std::clamp(kSynFallbackRtoNs, _config.min_rto_ns, _config.max_rto_ns);
  _backoffs = 0;
}

}  // namespace kbt::tcp
