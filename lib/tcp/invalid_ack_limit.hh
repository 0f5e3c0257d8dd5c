#pragma once
// RFC 5961 §7: "An implementation SHOULD include an ACK throttling
// mechanism": one ACK per interval for each connection (and each TIME_WAIT
// record) in answer to segments it should not have had, as Linux's
// __tcp_oow_rate_limited() does with tcp_invalid_ratelimit. A blind
// attacker's flood of guesses then draws two ACKs a second, not one per
// guess, and no peer can make two hosts ACK each other in a loop.
#include <cstdint>

#include "base/counter.hh"
#include "tcp/config.hh"

namespace kbt::tcp {

// Whether an ACK may answer an invalid segment now on the connection or
// record whose stamp is `last_ms` (moved to now if so); when not, counts
// in `limited`. Every such answer asks here, challenge ACKs first of all.
// The stamp is 32 bits of milliseconds: after 24.8 days of silence the
// difference reads negative and the answer goes, which is what it should.
inline bool may_answer_invalid(std::uint32_t& last_ms, base::instant now,
                               base::nanos interval, base::counter& limited) noexcept {
  const auto now_ms = static_cast<std::uint32_t>(base::ns_since_start(now) / kMs);
  const auto interval_ms = static_cast<std::int64_t>(interval.count() / kMs);
  if (last_ms != 0) {
    const auto elapsed = static_cast<std::int32_t>(now_ms - last_ms);
    if (elapsed >= 0 && elapsed < interval_ms) {
      limited.add();
      return false;
    }
  }
  last_ms = now_ms;
  return true;
}

}  // namespace kbt::tcp
