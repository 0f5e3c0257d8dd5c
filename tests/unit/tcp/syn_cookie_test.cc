// RFC 4987 §3.6 SYN cookies: a SipHash-2-4 cookie with a 3-bit MSS index,
// valid for the current and the previous 64-second period, and Linux-style
// window scale / SACK-permitted bits in the SYN-ACK's TSval.
#include "tcp/syn_cookie.hh"

#include <gtest/gtest.h>
#include <sodium/crypto_shorthash_siphash24.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace kbt::tcp {
namespace {

using wire::ipv4_addr;
using wire::seq32;

constexpr base::nanos kPeriod{syn_cookie_jar::kPeriodNs};

// Key 00 01 .. 0f, as in the SipHash paper's test vectors.
siphash_key counting_key() {
  siphash_key k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i);
  return k;
}

siphash_key other_key() {
  siphash_key k = counting_key();
  k[0] ^= 0x01;  // one bit different
  return k;
}

// From our side: we are 198.18.0.1:80, the peer 198.18.0.2:40000.
const four_tuple kTuple{.local_ip = ipv4_addr::from_octets(198, 18, 0, 1),
                        .remote_ip = ipv4_addr::from_octets(198, 18, 0, 2),
                        .local_port = 80,
                        .remote_port = 40'000};
constexpr seq32 kPeerIsn{0x12345678U};
// Some time into the run, at the start of a period.
constexpr base::instant kT0{1000 * kPeriod};

// check() as the listener calls it on the handshake's final ACK: SEG.SEQ is
// the peer's ISN + 1, SEG.ACK our ISS (the cookie) + 1.
std::optional<std::uint16_t> check_ack(const syn_cookie_jar& jar, const four_tuple& t,
                                       seq32 peer_isn, seq32 cookie, base::instant now) {
  return jar.check(t, peer_isn + 1, cookie + 1, now);
}

TEST(SynCookie, MssTableIsSortedAndFitsTheIndexBits) {
  const auto& tab = syn_cookie_jar::kMssTable;
  EXPECT_TRUE(std::is_sorted(tab.begin(), tab.end()));
  EXPECT_EQ(tab.size(), syn_cookie_jar::kMssIndexMask + 1);
  // RFC 9293 §3.7.1: 536 is the default every host accepts.
  EXPECT_EQ(tab[0], 536);
}

TEST(SynCookie, MssIndexRoundsDownToTheTable) {
  const auto mss_of = [](std::uint16_t peer_mss) {
    return syn_cookie_jar::kMssTable[syn_cookie_jar::mss_index(peer_mss)];
  };
  EXPECT_EQ(mss_of(1459), 1452);
  EXPECT_EQ(mss_of(100), 536);  // below the table: its smallest entry
  EXPECT_EQ(mss_of(0), 536);
  EXPECT_EQ(mss_of(535), 536);
  EXPECT_EQ(mss_of(9000), 8960);
  EXPECT_EQ(mss_of(65535), 8960);
  EXPECT_EQ(mss_of(1199), 536);
  EXPECT_EQ(mss_of(1460), 1460);
  EXPECT_EQ(mss_of(1461), 1460);
  EXPECT_EQ(mss_of(8959), 1460);
  // Every table entry maps to itself, and one below it to the entry before.
  for (std::size_t i = 0; i < syn_cookie_jar::kMssTable.size(); ++i) {
    const std::uint16_t m = syn_cookie_jar::kMssTable[i];
    EXPECT_EQ(syn_cookie_jar::mss_index(m), i);
    if (i > 0) {
      EXPECT_EQ(syn_cookie_jar::mss_index(static_cast<std::uint16_t>(m - 1)), i - 1);
    }
  }
}

TEST(SynCookie, CookieIsTheDocumentedLayout) {
  // H = low 32 bits of SipHash-2-4 over local_ip | remote_ip | local_port |
  // remote_port | peer_isn | counter | mss_idx, big-endian; cookie =
  // (H & ~7) | mss_idx.
  const syn_cookie_jar jar(counting_key());
  const std::uint32_t counter = 1000;  // kT0 / 64 s
  const unsigned char msg[24] = {198,  18,   0,    1,    198, 18, 0,    2,    0, 80, 0x9c, 0x40,
                                 0x12, 0x34, 0x56, 0x78, 0,   0,  0x03, 0xe8, 0, 0,  0,    6};
  unsigned char out[8];
  crypto_shorthash_siphash24(out, msg, sizeof(msg), counting_key().data());
  const std::uint32_t h = std::uint32_t{out[0]} | (std::uint32_t{out[1]} << 8) |
                          (std::uint32_t{out[2]} << 16) | (std::uint32_t{out[3]} << 24);
  ASSERT_EQ(kT0.time_since_epoch() / kPeriod, counter);
  // 1460 is index 6.
  EXPECT_EQ(jar.make(kTuple, kPeerIsn, 1460, kT0).value, (h & ~7U) | 6U);
}

TEST(SynCookie, RoundTripsEveryMssWindowScaleAndSack) {
  const syn_cookie_jar jar(counting_key());
  std::vector<std::optional<std::uint8_t>> scales{std::nullopt};
  for (std::uint8_t ws = 0; ws <= 14; ++ws) scales.emplace_back(ws);
  std::uint32_t n = 0;
  for (std::size_t idx = 0; idx < syn_cookie_jar::kMssTable.size(); ++idx) {
    for (const auto& ws : scales) {
      for (const bool sack : {false, true}) {
        SCOPED_TRACE(testing::Message() << "mss index " << idx << " wscale " << (ws ? int{*ws} : -1)
                                        << " sack " << sack);
        ++n;
        // A different peer and ISN for each combination.
        four_tuple t = kTuple;
        t.remote_port = static_cast<std::uint16_t>(40'000 + n);
        const seq32 peer_isn{0x9e3779b9U * n};
        const std::uint16_t mss = syn_cookie_jar::kMssTable[idx];
        const base::instant now = kT0 + base::nanos{n * 7 * kSec};

        const seq32 cookie = jar.make(t, peer_isn, mss, now);
        EXPECT_EQ(cookie.value & 7U, idx);
        EXPECT_EQ(check_ack(jar, t, peer_isn, cookie, now), mss);
        EXPECT_EQ(check_ack(jar, t, peer_isn, cookie, now + kPeriod), mss);

        const std::uint32_t ts_now = 0x40000000U + n * 1009;
        const std::uint32_t tsval = syn_cookie_jar::encode_ts(ts_now, ws, sack);
        const auto opts = syn_cookie_jar::decode_ts(tsval);
        ASSERT_TRUE(opts.has_value());
        EXPECT_EQ(opts->wscale, ws);
        EXPECT_EQ(opts->sack_permitted, sack);
        EXPECT_EQ(opts->mss, 536);  // left for the caller, from check()
      }
    }
  }
  EXPECT_EQ(n, 8U * 16U * 2U);
}

TEST(SynCookie, AcceptedForTwoPeriodsAtMost) {
  const syn_cookie_jar jar(counting_key());
  // Made at the very start of period c (kT0): accepted while the counter is
  // c or c + 1, i.e. up to kT0 + 2 periods - 1 ns, 128 s minus 1 ns later.
  const seq32 early = jar.make(kTuple, kPeerIsn, 1460, kT0);
  constexpr base::nanos k1ns{1};
  for (const base::nanos dt : {base::nanos{0}, kPeriod - k1ns, kPeriod, 2 * kPeriod - k1ns}) {
    EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, early, kT0 + dt), 1460) << "dt " << dt.count();
  }
  for (const base::nanos dt : {2 * kPeriod, 2 * kPeriod + k1ns, 3 * kPeriod, 100 * kPeriod}) {
    EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, early, kT0 + dt), std::nullopt)
        << "dt " << dt.count();
  }

  // Made at the last nanosecond of period c: the same end, only 64 s later.
  const base::instant t_late = kT0 + kPeriod - k1ns;
  const seq32 late = jar.make(kTuple, kPeerIsn, 1460, t_late);
  EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, late, t_late + kPeriod), 1460);
  EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, late, t_late + kPeriod + k1ns), std::nullopt);
}

TEST(SynCookie, CounterFromTheFutureIsRejected) {
  const syn_cookie_jar jar(counting_key());
  const seq32 cookie = jar.make(kTuple, kPeerIsn, 1460, kT0);
  EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, cookie, kT0 - base::nanos{1}), std::nullopt);
  EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, cookie, kT0 - kPeriod), std::nullopt);
}

TEST(SynCookie, WorksFromClockZero) {
  // The first period has no previous one to try; nothing wraps.
  const syn_cookie_jar jar(counting_key());
  const base::instant zero = base::instant_from_ns(0);
  const seq32 cookie = jar.make(kTuple, kPeerIsn, 536, zero);
  EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, cookie, zero), 536);
  EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, cookie, zero + 2 * kPeriod - base::nanos{1}), 536);
  EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, cookie, zero + 2 * kPeriod), std::nullopt);
}

TEST(SynCookie, RejectsEveryFlippedBit) {
  const syn_cookie_jar jar(counting_key());
  const seq32 cookie = jar.make(kTuple, kPeerIsn, 1440, kT0);
  ASSERT_EQ(check_ack(jar, kTuple, kPeerIsn, cookie, kT0), 1440);
  for (std::uint32_t bit = 0; bit < 32; ++bit) {
    const seq32 bad{cookie.value ^ (1U << bit)};
    // In the current period and in the previous one (the second hash).
    EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, bad, kT0), std::nullopt) << "bit " << bit;
    EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, bad, kT0 + kPeriod), std::nullopt) << "bit " << bit;
  }
}

TEST(SynCookie, MssIndexCannotBeRaised) {
  // The index is in the clear but authenticated: a peer that rewrites the
  // low bits to ask for a larger MSS fails the check.
  const syn_cookie_jar jar(counting_key());
  const seq32 cookie = jar.make(kTuple, kPeerIsn, 536, kT0);
  for (std::uint32_t idx = 1; idx < 8; ++idx) {
    const seq32 bad{(cookie.value & ~7U) | idx};
    EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, bad, kT0), std::nullopt) << "index " << idx;
  }
}

TEST(SynCookie, RejectsAnotherTuple) {
  const syn_cookie_jar jar(counting_key());
  const seq32 cookie = jar.make(kTuple, kPeerIsn, 1460, kT0);
  const ipv4_addr other_ip = ipv4_addr::from_octets(198, 18, 0, 3);
  four_tuple t = kTuple;
  t.local_ip = other_ip;
  EXPECT_EQ(check_ack(jar, t, kPeerIsn, cookie, kT0), std::nullopt);
  t = kTuple;
  t.remote_ip = other_ip;
  EXPECT_EQ(check_ack(jar, t, kPeerIsn, cookie, kT0), std::nullopt);
  t = kTuple;
  t.local_port = 81;
  EXPECT_EQ(check_ack(jar, t, kPeerIsn, cookie, kT0), std::nullopt);
  t = kTuple;
  t.remote_port = 40'001;
  EXPECT_EQ(check_ack(jar, t, kPeerIsn, cookie, kT0), std::nullopt);
  // The reverse direction is a different tuple too.
  const four_tuple swapped{.local_ip = kTuple.remote_ip,
                           .remote_ip = kTuple.local_ip,
                           .local_port = kTuple.remote_port,
                           .remote_port = kTuple.local_port};
  EXPECT_EQ(check_ack(jar, swapped, kPeerIsn, cookie, kT0), std::nullopt);
  // Control: the right tuple still passes.
  EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn, cookie, kT0), 1460);
}

TEST(SynCookie, RejectsWrongSequenceNumber) {
  // SEG.SEQ must be the SYN's ISN + 1 (RFC 4987 §3.6: the peer ISN is
  // part of what the cookie authenticates).
  const syn_cookie_jar jar(counting_key());
  const seq32 cookie = jar.make(kTuple, kPeerIsn, 1460, kT0);
  for (const std::uint32_t delta : {1U, 0xffffffffU, 2U, 0x80000000U, 1448U}) {
    EXPECT_EQ(check_ack(jar, kTuple, kPeerIsn + delta, cookie, kT0), std::nullopt)
        << "delta " << delta;
  }
  // The raw check() call: seg_seq = peer ISN (forgetting the + 1) fails too.
  EXPECT_EQ(jar.check(kTuple, kPeerIsn, cookie + 1, kT0), std::nullopt);
  EXPECT_EQ(jar.check(kTuple, kPeerIsn + 1, cookie + 1, kT0), 1460);
}

TEST(SynCookie, RejectsAnotherKey) {
  const syn_cookie_jar jar(counting_key());
  const syn_cookie_jar other(other_key());
  const seq32 cookie = jar.make(kTuple, kPeerIsn, 1460, kT0);
  EXPECT_EQ(check_ack(other, kTuple, kPeerIsn, cookie, kT0), std::nullopt);
  EXPECT_NE(other.make(kTuple, kPeerIsn, 1460, kT0), cookie);
}

TEST(SynCookie, BlindForgeriesFail) {
  // A blind attacker guesses 29 bits: 2^-28 per try with two periods open.
  // 100000 random final ACKs (fixed seed): none passes.
  const syn_cookie_jar jar(counting_key());
  std::mt19937 rng(4987);
  int passed = 0;
  for (int i = 0; i < 100'000; ++i) {
    const seq32 seq{static_cast<std::uint32_t>(rng())};
    const seq32 ack{static_cast<std::uint32_t>(rng())};
    if (jar.check(kTuple, seq, ack, kT0)) ++passed;
  }
  EXPECT_EQ(passed, 0);
}

TEST(SynCookie, DecodeTsRejectsBitFiveAndReadsTheRest) {
  for (std::uint32_t low = 0; low < 64; ++low) {
    SCOPED_TRACE(testing::Message() << "low bits " << low);
    // The upper bits are the clock's and do not matter.
    const auto o = syn_cookie_jar::decode_ts(0xabcdef00U | low);
    if ((low & 0x20U) != 0) {
      EXPECT_EQ(o, std::nullopt);
      continue;
    }
    ASSERT_TRUE(o.has_value());
    if ((low & 0xfU) == 0xfU) {
      EXPECT_EQ(o->wscale, std::nullopt);
    } else {
      EXPECT_EQ(o->wscale, low & 0xfU);
    }
    EXPECT_EQ(o->sack_permitted, (low & 0x10U) != 0);
  }
}

TEST(SynCookie, EncodeTsNeverRunsAheadOfTheClock) {
  std::vector<std::uint32_t> clocks;
  for (std::uint32_t t = 0; t < 200; ++t) clocks.push_back(t);  // the wrap below 64
  for (std::uint32_t t = 0xffffff00U; t != 0; ++t) clocks.push_back(t);
  std::mt19937 rng(7323);
  for (int i = 0; i < 1000; ++i) clocks.push_back(static_cast<std::uint32_t>(rng()));

  std::vector<std::optional<std::uint8_t>> scales{std::nullopt};
  for (std::uint8_t ws = 0; ws <= 14; ++ws) scales.emplace_back(ws);
  for (const std::uint32_t ts_now : clocks) {
    for (const auto& ws : scales) {
      for (const bool sack : {false, true}) {
        const std::uint32_t ts = syn_cookie_jar::encode_ts(ts_now, ws, sack);
        // At most 63 behind, never ahead, modulo 2^32 (seq32 order).
        EXPECT_LE(ts_now - ts, 63U) << ts_now;
        EXPECT_FALSE(seq32{ts} > seq32{ts_now}) << ts_now;
        // In plain numbers too, once the clock is past the first block.
        if (ts_now >= 64) {
          EXPECT_LE(ts, ts_now) << ts_now;
        }
        const auto o = syn_cookie_jar::decode_ts(ts);
        ASSERT_TRUE(o.has_value());
        EXPECT_EQ(o->wscale, ws);
        EXPECT_EQ(o->sack_permitted, sack);
      }
    }
  }
  // Exactly ts_now when its low bits already hold the encoding.
  EXPECT_EQ(syn_cookie_jar::encode_ts(0x1000'0017U, std::uint8_t{7}, true), 0x1000'0017U);
  // One block back when they are smaller: 0x..05 with "no wscale" (0xf).
  EXPECT_EQ(syn_cookie_jar::encode_ts(0x1000'0045U, std::nullopt, false), 0x1000'000fU);
}

TEST(SynCookie, EncodeTsClampsWindowScaleTo14) {
  // RFC 7323 §2.3: a shift above 14 is taken as 14.
  for (unsigned ws = 15; ws < 256; ++ws) {
    const auto o = syn_cookie_jar::decode_ts(
        syn_cookie_jar::encode_ts(0x5555'5555U, static_cast<std::uint8_t>(ws), false));
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->wscale, 14) << ws;
  }
}

}  // namespace
}  // namespace kbt::tcp
