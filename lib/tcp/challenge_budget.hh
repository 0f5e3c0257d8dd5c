#pragma once
// The per-core budget of RFC 5961 §7 challenge ACKs.
//
// RFC 5961 §7 asks for a limit on challenge ACKs so that they cannot be
// turned into an amplifier. A fixed limit shared by every connection is a
// side channel: an off-path attacker spends the budget itself and counts how
// many challenge ACKs reach it, and the one missing tells it that another
// connection drew a challenge ACK, i.e. that a guessed port or sequence
// number was right (CVE-2016-5696, Cao et al., "Off-Path TCP Exploits",
// USENIX Security 2016). Linux's answer since 4.7, taken here: the limit
// applies per second, and each second's budget is drawn anew, uniformly
// from [limit/2, limit*3/2) ("half + prandom_u32_max(limit)"), so counting
// ACKs against a budget of unknown size tells nothing. The per-connection
// limit (tcp/invalid_ack_limit.hh) comes first and keeps one noisy
// connection from spending the budget of the others.
//
// The draws are SipHash-2-4 in counter mode under a key derived from the
// layer's two configured secrets and its core: unpredictable to whoever
// sees the budgets without the key (where a small linear generator's state
// could be solved from them), and the same run after run under the
// simulator's fixed keys. No rte_rand() or std::random_device: neither is
// reproducible, and this is the packet path.
#include <cstdint>

#include "base/clock.hh"
#include "tcp/isn.hh"

namespace kbt::tcp {

class challenge_budget {
 public:
  challenge_budget(const siphash_key& isn_key, const siphash_key& cookie_key, std::uint16_t core,
                   std::uint32_t limit) noexcept;

  // Takes one challenge ACK from the budget of now's second (drawing
  // that budget first if the second is new); false when it is spent.
  [[nodiscard]] bool take(base::instant now) noexcept;

  // The budget drawn for the second of the last take(), spent or not.
  [[nodiscard]] std::uint32_t drawn() const noexcept { return _drawn; }

 private:
  std::uint32_t draw() noexcept;

  siphash_key _key{};
  std::uint32_t _limit;
  std::uint32_t _draws = 0;           // the counter of the counter mode
  std::uint64_t _second = ~0ULL;      // now / 1 s of the budget in hand (none yet)
  std::uint32_t _drawn = 0;
  std::uint32_t _left = 0;
};

}  // namespace kbt::tcp
