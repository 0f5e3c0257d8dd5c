#include "tcp/challenge_budget.hh"

#include "tcp/config.hh"

namespace kbt::tcp {

namespace {

// Domain separation: the inputs under which the two secrets yield this
// key ("chal", "lnge" as addresses) are no 4-tuple an ISN or a cookie is
// made of in practice, and the derived key is a third secret besides them.
constexpr wire::ipv4_addr kDomainLocal{0x6368616c};
constexpr wire::ipv4_addr kDomainRemote{0x6c6e6765};

void store_le64(std::uint8_t* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace

challenge_budget::challenge_budget(const siphash_key& isn_key, const siphash_key& cookie_key,
                                   std::uint16_t core, std::uint32_t limit) noexcept
    : _limit(limit) {
  // Both secrets go in, so the key is as unknown as the stronger of them;
  // the core too, so the cores of one process draw unrelated budgets.
  store_le64(_key.data(), hash_tuple(isn_key, kDomainLocal, core, kDomainRemote, 0));
  store_le64(_key.data() + 8, hash_tuple(cookie_key, kDomainLocal, core, kDomainRemote, 1));
}

// Uniform in [half, half + limit) with half = ceil(limit / 2): for 1000,
// [500, 1500). The high 32 bits of a draw scaled by multiplication (as
// Linux's prandom_u32_max): the bias is at most limit / 2^32.
std::uint32_t challenge_budget::draw() noexcept {
  const std::uint64_t r = hash_tuple(_key, kDomainLocal, 0, kDomainRemote, 0, _draws++);
  const auto scaled = static_cast<std::uint32_t>(((r >> 32) * _limit) >> 32);
  return (_limit + 1) / 2 + scaled;
}

bool challenge_budget::take(base::instant now) noexcept {
  // Seconds of the clock, as Linux counts jiffies / HZ: a flood that straddles
  // a boundary meets two budgets, each unknown.
  const std::uint64_t second = base::ns_since_start(now) / kSec;
  if (second != _second) {
    _second = second;
    _drawn = _limit == 0 ? 0 : draw();
    _left = _drawn;
  }
  if (_left == 0) return false;
  --_left;
  return true;
}

}  // namespace kbt::tcp
