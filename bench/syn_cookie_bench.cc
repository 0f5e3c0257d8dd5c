// SYN cookies (RFC 4987 §3.6) per SYN and per final ACK: what a listener
// pays per packet of a SYN flood instead of a SYN queue entry. make() is one
// SipHash-2-4 of 24 bytes; check() one when the cookie is from the current
// period, two when it is from the previous period or forged (the worst
// case, and what every ACK of an ACK flood costs).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "tcp/syn_cookie.hh"

namespace {

using kbt::tcp::four_tuple;
using kbt::tcp::siphash_key;
using kbt::tcp::syn_cookie_jar;
using kbt::wire::ipv4_addr;
using kbt::wire::seq32;

constexpr kbt::base::instant kNow = kbt::base::instant_from_ns(1000 * syn_cookie_jar::kPeriodNs);
constexpr std::size_t kAcks = 1024;  // distinct handshakes cycled through

siphash_key fixed_key() {
  siphash_key k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i);
  return k;
}

four_tuple peer(std::uint32_t n) {
  return four_tuple{.local_ip = ipv4_addr::from_octets(198, 18, 0, 1),
                    .remote_ip = ipv4_addr{0x0a000000U + (n >> 16)},
                    .local_port = 80,
                    .remote_port = static_cast<std::uint16_t>(n)};
}

seq32 peer_isn(std::uint32_t n) { return seq32{0x9e3779b9U * (n + 1)}; }

// The final ACKs of kAcks handshakes whose SYN-ACK went out at kNow; with
// `forge`, each cookie has one bit flipped.
struct acks {
  std::vector<four_tuple> tuples;
  std::vector<seq32> seqs;
  std::vector<seq32> ack_nums;
};

acks make_acks(const syn_cookie_jar& jar, bool forge) {
  acks a;
  for (std::uint32_t n = 0; n < kAcks; ++n) {
    const seq32 cookie = jar.make(peer(n), peer_isn(n), 1460, kNow);
    a.tuples.push_back(peer(n));
    a.seqs.push_back(peer_isn(n) + 1);
    a.ack_nums.push_back(seq32{(cookie.value ^ (forge ? 1U << (n % 32) : 0U)) + 1});
  }
  return a;
}

void BM_CookieMake(benchmark::State& state) {
  const syn_cookie_jar jar(fixed_key());
  std::uint32_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(jar.make(peer(n), peer_isn(n), 1460, kNow));
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieMake);

// Arg: seconds after the SYN-ACK. 0: current period, one hash. 64: the
// previous period, two hashes.
void BM_CookieCheckValid(benchmark::State& state) {
  const syn_cookie_jar jar(fixed_key());
  const acks a = make_acks(jar, false);
  const kbt::base::instant now =
      kNow + kbt::base::nanos{static_cast<std::uint64_t>(state.range(0)) * kbt::tcp::kSec};
  std::size_t i = 0;
  for (auto _ : state) {
    const auto mss = jar.check(a.tuples[i], a.seqs[i], a.ack_nums[i], now);
    if (!mss) state.SkipWithError("a valid cookie was rejected");
    benchmark::DoNotOptimize(mss);
    i = (i + 1) % kAcks;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieCheckValid)->Arg(0)->Arg(64);

// Forged cookies: both periods are tried before the ACK is dropped.
void BM_CookieCheckInvalid(benchmark::State& state) {
  const syn_cookie_jar jar(fixed_key());
  const acks a = make_acks(jar, true);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto mss = jar.check(a.tuples[i], a.seqs[i], a.ack_nums[i], kNow);
    if (mss) state.SkipWithError("a forged cookie was accepted");
    benchmark::DoNotOptimize(mss);
    i = (i + 1) % kAcks;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieCheckInvalid);

}  // namespace
