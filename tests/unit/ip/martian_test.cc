// The martian classifier (ip/martian.hh): every range at its edges, and our
// subnet's special addresses for the prefix lengths where they exist.
#include "ip/martian.hh"

#include <gtest/gtest.h>

#include "wire/addr.hh"

namespace kbt::ip {
namespace {

using wire::ipv4_addr;
using wire::ipv4_prefix;
using ac = address_class;

constexpr ipv4_addr ip(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
  return ipv4_addr::from_octets(a, b, c, d);
}
// The interop rig's address: 198.18.0.2/24.
constexpr ipv4_prefix kUs{ip(198, 18, 0, 2), 24};

// Constant-evaluated as well: the engine's hot path relies on it being a
// pure function of its two arguments.
static_assert(classify(ip(127, 0, 0, 1), kUs) == ac::loopback);
static_assert(classify(ip(198, 18, 0, 1), kUs) == ac::unicast);

TEST(Martian, ThisNetworkIsZeroSlashEight) {
  EXPECT_EQ(classify(ip(0, 0, 0, 0), kUs), ac::this_network);    // RFC 1122 (a)
  EXPECT_EQ(classify(ip(0, 1, 2, 3), kUs), ac::this_network);    // (b)
  EXPECT_EQ(classify(ip(0, 255, 255, 255), kUs), ac::this_network);
  EXPECT_EQ(classify(ip(1, 0, 0, 0), kUs), ac::unicast);
}

TEST(Martian, LoopbackIsOneTwoSevenSlashEight) {
  EXPECT_EQ(classify(ip(126, 255, 255, 255), kUs), ac::unicast);
  EXPECT_EQ(classify(ip(127, 0, 0, 0), kUs), ac::loopback);
  EXPECT_EQ(classify(ip(127, 0, 0, 1), kUs), ac::loopback);
  EXPECT_EQ(classify(ip(127, 255, 255, 255), kUs), ac::loopback);
  EXPECT_EQ(classify(ip(128, 0, 0, 0), kUs), ac::unicast);
}

TEST(Martian, MulticastStartsAt224) {
  EXPECT_EQ(classify(ip(223, 255, 255, 255), kUs), ac::unicast);
  EXPECT_EQ(classify(ip(224, 0, 0, 0), kUs), ac::multicast);
  EXPECT_EQ(classify(ip(224, 0, 0, 1), kUs), ac::multicast);
  EXPECT_EQ(classify(ip(239, 255, 255, 255), kUs), ac::multicast);
}

TEST(Martian, ClassEAndLimitedBroadcastAreReserved) {
  EXPECT_EQ(classify(ip(240, 0, 0, 0), kUs), ac::reserved);
  EXPECT_EQ(classify(ip(250, 1, 2, 3), kUs), ac::reserved);
  EXPECT_EQ(classify(ip(255, 255, 255, 254), kUs), ac::reserved);
  EXPECT_EQ(classify(ip(255, 255, 255, 255), kUs), ac::reserved);  // RFC 1122 (c)
}

TEST(Martian, OwnAddressIsALand) {
  EXPECT_EQ(classify(ip(198, 18, 0, 2), kUs), ac::own);
  EXPECT_EQ(classify(ip(198, 18, 0, 2), {ip(198, 18, 0, 2), 32}), ac::own);
  EXPECT_EQ(classify(ip(198, 18, 0, 0), {ip(198, 18, 0, 0), 31}), ac::own);
}

TEST(Martian, NetworkAndBroadcastOfASlash24) {
  EXPECT_EQ(classify(ip(198, 18, 0, 0), kUs), ac::subnet_network);
  EXPECT_EQ(classify(ip(198, 18, 0, 255), kUs), ac::subnet_broadcast);
  EXPECT_EQ(classify(ip(198, 18, 0, 1), kUs), ac::unicast);
  EXPECT_EQ(classify(ip(198, 18, 0, 254), kUs), ac::unicast);
  // Another subnet's special addresses are not ours to know: off-link,
  // 198.18.1.0 may well be a host of a /23 there.
  EXPECT_EQ(classify(ip(198, 18, 1, 0), kUs), ac::unicast);
  EXPECT_EQ(classify(ip(198, 18, 1, 255), kUs), ac::unicast);
}

TEST(Martian, NetworkAndBroadcastOfOtherLengths) {
  const ipv4_prefix p30{ip(198, 18, 0, 1), 30};
  EXPECT_EQ(classify(ip(198, 18, 0, 0), p30), ac::subnet_network);
  EXPECT_EQ(classify(ip(198, 18, 0, 2), p30), ac::unicast);
  EXPECT_EQ(classify(ip(198, 18, 0, 3), p30), ac::subnet_broadcast);
  EXPECT_EQ(classify(ip(198, 18, 0, 4), p30), ac::unicast);
  const ipv4_prefix p8{ip(10, 1, 2, 3), 8};
  EXPECT_EQ(classify(ip(10, 0, 0, 0), p8), ac::subnet_network);
  EXPECT_EQ(classify(ip(10, 255, 255, 255), p8), ac::subnet_broadcast);
  EXPECT_EQ(classify(ip(10, 0, 0, 255), p8), ac::unicast);
}

// RFC 3021: both addresses of a point-to-point /31 are hosts.
TEST(Martian, SlashThirtyOneHasNoNetworkOrBroadcastAddress) {
  const ipv4_prefix p31{ip(198, 18, 0, 1), 31};
  EXPECT_EQ(classify(ip(198, 18, 0, 0), p31), ac::unicast);
  EXPECT_EQ(classify(ip(198, 18, 0, 1), p31), ac::own);
  const ipv4_prefix p31_low{ip(198, 18, 0, 0), 31};
  EXPECT_EQ(classify(ip(198, 18, 0, 1), p31_low), ac::unicast);
}

TEST(Martian, SlashThirtyTwoHasNoNetworkOrBroadcastAddress) {
  const ipv4_prefix p32{ip(198, 18, 0, 2), 32};
  EXPECT_EQ(classify(ip(198, 18, 0, 0), p32), ac::unicast);
  EXPECT_EQ(classify(ip(198, 18, 0, 255), p32), ac::unicast);
  EXPECT_EQ(classify(ip(198, 18, 0, 1), p32), ac::unicast);
}

TEST(Martian, OnlyUnicastIsNotMartian) {
  EXPECT_FALSE(is_martian(ac::unicast));
  for (ac c : {ac::own, ac::this_network, ac::loopback, ac::multicast, ac::reserved,
               ac::subnet_network, ac::subnet_broadcast}) {
    EXPECT_TRUE(is_martian(c)) << static_cast<int>(c);
  }
}

}  // namespace
}  // namespace kbt::ip
