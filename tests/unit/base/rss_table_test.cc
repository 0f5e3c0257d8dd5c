// The software RSS model: Toeplitz hash checked against a bit-by-bit
// reference and Microsoft's published vectors, against rte_softrss as DPDK
// documents its use, and the RETA's spread over queues.
#include "base/rss_table.hh"

#include <gtest/gtest.h>
#include <rte_thash.h>

#include <array>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>


namespace kbt::base {
namespace {

using wire::ipv4_addr;

// The 40-byte key of Microsoft's "Verifying the RSS Hash Calculation".
constexpr std::array<std::uint8_t, 40> kMicrosoftKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

// Toeplitz as the RSS specification states it: for every set bit of the
// input, most significant bit of the first byte first, XOR in the 32 key
// bits that start at that bit's position. No DPDK code involved.
std::uint32_t reference_toeplitz(std::span<const std::uint8_t> key,
                                 std::span<const std::uint8_t> input) {
  auto key_bit = [&](std::size_t bit) { return (key[bit / 8] >> (7 - bit % 8)) & 1U; };
  std::uint32_t h = 0;
  for (std::size_t bit = 0; bit < input.size() * 8; ++bit) {
    if (((input[bit / 8] >> (7 - bit % 8)) & 1U) == 0) continue;
    std::uint32_t window = 0;
    for (std::size_t k = 0; k < 32; ++k) window = (window << 1) | key_bit(bit + k);
    h ^= window;
  }
  return h;
}

// The RSS input of an IPv4/TCP packet: src ip, dst ip, src port, dst port,
// each big-endian, as they sit in the headers.
std::array<std::uint8_t, 12> rss_input(ipv4_addr src, ipv4_addr dst, std::uint16_t sport,
                                       std::uint16_t dport) {
  std::array<std::uint8_t, 12> b{};
  for (int i = 0; i < 4; ++i) {
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(src.value >> (24 - 8 * i));
    b[static_cast<std::size_t>(4 + i)] = static_cast<std::uint8_t>(dst.value >> (24 - 8 * i));
  }
  b[8] = static_cast<std::uint8_t>(sport >> 8);
  b[9] = static_cast<std::uint8_t>(sport);
  b[10] = static_cast<std::uint8_t>(dport >> 8);
  b[11] = static_cast<std::uint8_t>(dport);
  return b;
}

// DPDK's documented use: an rte_ipv4_tuple in CPU order and the key as is.
std::uint32_t dpdk_softrss(std::span<const std::uint8_t> key, ipv4_addr src, ipv4_addr dst,
                           std::uint16_t sport, std::uint16_t dport) {
  alignas(4) std::array<std::uint8_t, 40> aligned_key{};
  std::copy(key.begin(), key.end(), aligned_key.begin());
  rte_ipv4_tuple t{};
  t.src_addr = src.value;
  t.dst_addr = dst.value;
  t.sport = sport;
  t.dport = dport;
  return rte_softrss(reinterpret_cast<std::uint32_t*>(&t), sizeof(t) / 4, aligned_key.data());
}

struct tuple {
  ipv4_addr remote;
  ipv4_addr local;
  std::uint16_t remote_port;
  std::uint16_t local_port;
};

std::vector<tuple> random_tuples(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<tuple> out(n);
  for (auto& t : out) {
    t = {ipv4_addr{static_cast<std::uint32_t>(rng())}, ipv4_addr{static_cast<std::uint32_t>(rng())},
         static_cast<std::uint16_t>(rng()), static_cast<std::uint16_t>(rng())};
  }
  return out;
}

TEST(RssTable, ReferenceToeplitzMatchesMicrosoftVector) {
  // The reference itself, on the verification suite's first IPv4/TCP example.
  const auto in = rss_input(ipv4_addr::from_octets(66, 9, 149, 187),
                            ipv4_addr::from_octets(161, 142, 100, 80), 2794, 1766);
  EXPECT_EQ(reference_toeplitz(kMicrosoftKey, in), 0x51ccc178U);
}

TEST(RssTable, HashMatchesMicrosoftVectors) {
  // Microsoft, "Verifying the RSS Hash Calculation", IPv4 with TCP. The
  // packet's source is the remote end, its destination us.
  struct ms_vector {
    ipv4_addr src;
    std::uint16_t sport;
    ipv4_addr dst;
    std::uint16_t dport;
    std::uint32_t hash;
  };
  const ms_vector vectors[] = {
      {ipv4_addr::from_octets(66, 9, 149, 187), 2794, ipv4_addr::from_octets(161, 142, 100, 80),
       1766, 0x51ccc178},
      {ipv4_addr::from_octets(199, 92, 111, 2), 14230, ipv4_addr::from_octets(65, 69, 140, 83),
       4739, 0xc626b0ea},
      {ipv4_addr::from_octets(24, 19, 198, 95), 12898, ipv4_addr::from_octets(12, 22, 207, 184),
       38024, 0x5c2b394a},
      {ipv4_addr::from_octets(38, 27, 205, 30), 48228, ipv4_addr::from_octets(209, 142, 163, 6),
       2217, 0xafc7327f},
      {ipv4_addr::from_octets(153, 39, 163, 191), 44251, ipv4_addr::from_octets(202, 188, 127, 2),
       1303, 0x10e828a2},
  };
  const rss_table rss(1, kMicrosoftKey);
  for (const auto& v : vectors) {
    EXPECT_EQ(rss.hash(v.src, v.dst, v.sport, v.dport), v.hash) << to_string(v.src);
    EXPECT_EQ(reference_toeplitz(kMicrosoftKey, rss_input(v.src, v.dst, v.sport, v.dport)), v.hash);
  }
}

TEST(RssTable, HashEqualsRteSoftrssAndReference) {
  for (std::span<const std::uint8_t> key :
       {std::span<const std::uint8_t>(kMicrosoftKey), symmetric_rss_key()}) {
    const rss_table rss(4, key);
    for (const auto& t : random_tuples(2000, 7)) {
      const std::uint32_t h = rss.hash(t.remote, t.local, t.remote_port, t.local_port);
      ASSERT_EQ(h, dpdk_softrss(key, t.remote, t.local, t.remote_port, t.local_port));
      ASSERT_EQ(h, reference_toeplitz(key, rss_input(t.remote, t.local, t.remote_port,
                                                     t.local_port)));
    }
  }
}

TEST(RssTable, SymmetricKeyGivesBothDirectionsOneHash) {
  const rss_table rss(4);
  for (const auto& t : random_tuples(10'000, 11)) {
    ASSERT_EQ(rss.hash(t.remote, t.local, t.remote_port, t.local_port),
              rss.hash(t.local, t.remote, t.local_port, t.remote_port));
    ASSERT_EQ(rss.owner(t.remote, t.local, t.remote_port, t.local_port),
              rss.owner(t.local, t.remote, t.local_port, t.remote_port));
  }
}

TEST(RssTable, SoftwareTableSpreadsFlowsEvenly) {
  constexpr std::size_t kFlows = 10'000;
  for (std::uint16_t queues : {2, 4}) {
    const rss_table rss(queues);
    std::vector<std::size_t> per_queue(queues);
    for (const auto& t : random_tuples(kFlows, 23)) {
      const std::uint16_t q = rss.owner(t.remote, t.local, t.remote_port, t.local_port);
      ASSERT_LT(q, queues);
      ++per_queue[q];
    }
    const double fair = static_cast<double>(kFlows) / queues;
    for (std::uint16_t q = 0; q < queues; ++q) {
      EXPECT_NEAR(static_cast<double>(per_queue[q]), fair, 0.1 * fair)
          << "queue " << q << " of " << queues;
    }
  }
}

TEST(RssTable, SoftwareRetaIsRoundRobin) {
  const rss_table rss(3, symmetric_rss_key(), 64);
  EXPECT_EQ(rss.queues(), 3);
  EXPECT_EQ(rss.reta_size(), 64);
  EXPECT_EQ(rss.reta_mask(), 63U);
  for (std::uint16_t i = 0; i < 64; ++i) EXPECT_EQ(rss.reta_at(i), i % 3);
  // Only the low bits pick the entry.
  EXPECT_EQ(rss.queue_of_hash(0xffffff00U | 5U), 5 % 3);
  EXPECT_EQ(rss.queue_of_hash(0x12345640U | 7U), 7 % 3);
  const auto key = rss.key();
  ASSERT_EQ(key.size(), symmetric_rss_key().size());
  EXPECT_TRUE(std::equal(key.begin(), key.end(), symmetric_rss_key().begin()));
}

TEST(RssTable, ExplicitRetaIsUsedAsGiven) {
  std::vector<std::uint16_t> reta(16, 0);
  reta[3] = 1;
  const rss_table rss(reta, 2);
  for (std::uint16_t i = 0; i < 16; ++i) EXPECT_EQ(rss.reta_at(i), i == 3 ? 1 : 0);
  EXPECT_EQ(rss.queue_of_hash(0x10U | 3U), 1);
}

TEST(RssTable, RejectsBadArguments) {
  EXPECT_THROW(rss_table(0), std::invalid_argument);
  EXPECT_THROW(rss_table(2, symmetric_rss_key(), 100), std::invalid_argument);
  EXPECT_THROW(rss_table(2, symmetric_rss_key(), 0), std::invalid_argument);
  const std::array<std::uint8_t, 12> short_key{};
  EXPECT_THROW(rss_table(2, short_key), std::invalid_argument);
  const std::array<std::uint8_t, 18> odd_key{};
  EXPECT_THROW(rss_table(2, odd_key), std::invalid_argument);
  const std::vector<std::uint16_t> too_far = {0, 1, 2, 0};
  EXPECT_THROW(rss_table(too_far, 2), std::invalid_argument);
  EXPECT_NO_THROW(rss_table(too_far, 3));
}

}  // namespace
}  // namespace kbt::base
