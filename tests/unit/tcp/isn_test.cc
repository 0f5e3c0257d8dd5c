// RFC 6528 ISNs: ISN = M + F(4-tuple, key), M ticking every 4 us, F keyed
// SipHash-2-4.
#include "tcp/isn.hh"

#include <gtest/gtest.h>
#include <sodium/crypto_shorthash_siphash24.h>

#include <cstdint>
#include <set>

namespace kbt::tcp {
namespace {

using wire::ipv4_addr;
using wire::seq32;

constexpr std::uint64_t kUs = 1'000;

// Key 00 01 .. 0f, as in the SipHash paper's test vectors.
siphash_key counting_key() {
  siphash_key k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i);
  return k;
}

siphash_key other_key() {
  siphash_key k = counting_key();
  k[15] ^= 0x80;  // one bit different
  return k;
}

const ipv4_addr kLocal = ipv4_addr::from_octets(198, 18, 0, 1);
const ipv4_addr kRemote = ipv4_addr::from_octets(198, 18, 0, 2);
constexpr std::uint16_t kLocalPort = 80;
constexpr std::uint16_t kRemotePort = 40'000;

TEST(Isn, LibsodiumIsSipHash24) {
  // SipHash paper (Aumasson & Bernstein, 2012), Appendix A: key 00..0f,
  // message 00..0e (15 bytes) gives a129ca6149be45e5.
  const siphash_key key = counting_key();
  unsigned char msg[15];
  for (unsigned i = 0; i < sizeof(msg); ++i) msg[i] = static_cast<unsigned char>(i);
  unsigned char out[8];
  crypto_shorthash_siphash24(out, msg, sizeof(msg), key.data());
  std::uint64_t h = 0;
  for (int i = 7; i >= 0; --i) h = (h << 8) | out[i];
  EXPECT_EQ(h, 0xa129ca6149be45e5ULL);
}

TEST(Isn, HashTupleHashesDocumentedLayout) {
  // local_ip | remote_ip | local_port | remote_port | extra, big-endian.
  const siphash_key key = counting_key();
  const unsigned char msg[16] = {198, 18, 0, 1,  198, 18,   0,    2,
                                 0,   80, 0x9c, 0x40, 0xde, 0xad, 0xbe, 0xef};
  unsigned char out[8];
  crypto_shorthash_siphash24(out, msg, sizeof(msg), key.data());
  std::uint64_t expect = 0;
  for (int i = 7; i >= 0; --i) expect = (expect << 8) | out[i];
  EXPECT_EQ(hash_tuple(key, kLocal, kLocalPort, kRemote, kRemotePort, 0xdeadbeef), expect);
  isn_generator gen(key);
  EXPECT_EQ(gen.hash_tuple(kLocal, kLocalPort, kRemote, kRemotePort, 0xdeadbeef), expect);
}

TEST(Isn, SameTupleAndTimeGiveSameIsn) {
  const isn_generator a(counting_key());
  const isn_generator b(counting_key());
  for (std::uint64_t t : {0ULL, 123'456'789ULL, 86'400'000'000'000ULL}) {
    EXPECT_EQ(a.generate(kLocal, kLocalPort, kRemote, kRemotePort, t),
              b.generate(kLocal, kLocalPort, kRemote, kRemotePort, t));
  }
}

TEST(Isn, IsClockPlusKeyedHash) {
  // At now = 0, M = 0 and the ISN is F: the low 32 bits of the hash.
  const isn_generator gen(counting_key());
  const auto f = static_cast<std::uint32_t>(
      hash_tuple(counting_key(), kLocal, kLocalPort, kRemote, kRemotePort));
  EXPECT_EQ(gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, 0).value, f);
  // At 1 s, M = 250000.
  EXPECT_EQ(gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, 1'000'000'000).value,
            f + 250'000U);
}

TEST(Isn, DifferentKeysGiveDifferentIsns) {
  const isn_generator a(counting_key());
  const isn_generator b(other_key());
  EXPECT_NE(a.generate(kLocal, kLocalPort, kRemote, kRemotePort, 0),
            b.generate(kLocal, kLocalPort, kRemote, kRemotePort, 0));
  EXPECT_NE(a.hash_tuple(kLocal, kLocalPort, kRemote, kRemotePort),
            b.hash_tuple(kLocal, kLocalPort, kRemote, kRemotePort));
}

TEST(Isn, EveryTupleFieldMatters) {
  const isn_generator gen(counting_key());
  const std::uint64_t t = 42 * kUs;
  const seq32 base = gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, t);
  const ipv4_addr other_ip = ipv4_addr::from_octets(198, 18, 0, 3);
  EXPECT_NE(gen.generate(other_ip, kLocalPort, kRemote, kRemotePort, t), base);
  EXPECT_NE(gen.generate(kLocal, kLocalPort + 1, kRemote, kRemotePort, t), base);
  EXPECT_NE(gen.generate(kLocal, kLocalPort, other_ip, kRemotePort, t), base);
  EXPECT_NE(gen.generate(kLocal, kLocalPort, kRemote, kRemotePort + 1, t), base);
  // Swapping the ends is a different connection (no accidental symmetry).
  EXPECT_NE(gen.generate(kRemote, kRemotePort, kLocal, kLocalPort, t), base);
  EXPECT_NE(gen.hash_tuple(kLocal, kLocalPort, kRemote, kRemotePort, 1),
            gen.hash_tuple(kLocal, kLocalPort, kRemote, kRemotePort, 0));

  // Over many source ports: no collisions among 10000 ISNs (a birthday
  // collision in 32 bits has probability ~1%, so check 64-bit hashes for
  // that and only spread for the ISNs).
  std::set<std::uint64_t> hashes;
  std::set<std::uint32_t> top_bytes;
  for (std::uint32_t port = 1024; port < 11'024; ++port) {
    const auto p = static_cast<std::uint16_t>(port);
    hashes.insert(gen.hash_tuple(kLocal, kLocalPort, kRemote, p));
    top_bytes.insert(gen.generate(kLocal, kLocalPort, kRemote, p, t).value >> 24);
  }
  EXPECT_EQ(hashes.size(), 10'000U);
  EXPECT_EQ(top_bytes.size(), 256U);  // the ISNs cover the whole space
}

TEST(Isn, AdvancesByOneEveryFourMicroseconds) {
  // RFC 6528 §3: M is a 4-microsecond timer.
  const isn_generator gen(counting_key());
  const std::uint64_t t0 = 1'000'000 * isn_generator::kTickNs;  // on a tick
  const seq32 base = gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, t0);
  EXPECT_EQ(gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, t0 + 3'999), base);
  EXPECT_EQ(gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, t0 + 4 * kUs) - base, 1);
  EXPECT_EQ(gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, t0 + 8 * kUs - 1) - base, 1);
  EXPECT_EQ(gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, t0 + 400 * kUs) - base, 100);
  // One second: 250000 ticks.
  EXPECT_EQ(gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, t0 + 1'000'000 * kUs) - base,
            250'000);
}

TEST(Isn, NeverConstantAndWrapsWithTheClock) {
  const isn_generator gen(counting_key());
  std::set<std::uint32_t> seen;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    seen.insert(gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, i * kUs * 4).value);
  }
  EXPECT_EQ(seen.size(), 1000U);
  // M wraps modulo 2^32 after 2^32 * 4 us (about 4.77 hours); the ISN
  // keeps advancing by one per tick across the wrap.
  const std::uint64_t wrap = (std::uint64_t{1} << 32) * isn_generator::kTickNs;
  const seq32 before = gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, wrap - 4 * kUs);
  const seq32 after = gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, wrap);
  EXPECT_EQ(after - before, 1);
  EXPECT_EQ(after, gen.generate(kLocal, kLocalPort, kRemote, kRemotePort, 0));
}

TEST(Isn, RandomKeysDiffer) {
  // Two start-ups get unrelated keys (64-bit hashes collide with
  // probability 2^-64).
  const siphash_key k1 = random_siphash_key();
  const siphash_key k2 = random_siphash_key();
  EXPECT_NE(k1, k2);
  const isn_generator a = isn_generator::from_random();
  const isn_generator b = isn_generator::from_random();
  EXPECT_NE(a.hash_tuple(kLocal, kLocalPort, kRemote, kRemotePort),
            b.hash_tuple(kLocal, kLocalPort, kRemote, kRemotePort));
}

}  // namespace
}  // namespace kbt::tcp
