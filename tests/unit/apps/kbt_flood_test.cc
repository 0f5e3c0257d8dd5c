// kbt-flood's packet builder: the SYN it writes parses back with the stack's
// own parsers (both checksums valid, the options a Linux client offers), and
// the spoofed sources stay inside --sources and off the flood's own and the
// target's addresses.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <set>

#include "kbt-flood/attack_packet.hh"
#include "kbt-flood/syn_packet.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::flood {
namespace {

constexpr auto kSrc = wire::ipv4_addr::from_octets(198, 18, 0, 200);
constexpr auto kDst = wire::ipv4_addr::from_octets(198, 18, 0, 2);

TEST(FloodSyn, ParsesBackWithValidChecksumsAndLinuxOptions) {
  std::array<std::byte, kSynPacketLen> buf{};
  const syn_spec s{kSrc, kDst, 40000, 80, 0xdeadbeef, 12345, 7};
  ASSERT_EQ(write_syn(s, buf), kSynPacketLen);

  const auto ip = wire::parse_ipv4_header(buf);  // checks the header checksum
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->src, kSrc);
  EXPECT_EQ(ip->dst, kDst);
  EXPECT_EQ(ip->protocol, wire::kIpProtoTcp);
  EXPECT_EQ(ip->total_length, kSynPacketLen);
  EXPECT_TRUE(ip->dont_fragment);

  const auto tcp = wire::parse_tcp(std::span<const std::byte>(buf).subspan(20), kSrc, kDst);
  ASSERT_TRUE(tcp);  // checksum verified
  EXPECT_EQ(tcp->flags, wire::tcp_flag::kSyn);
  EXPECT_EQ(tcp->src_port, 40000);
  EXPECT_EQ(tcp->dst_port, 80);
  EXPECT_EQ(tcp->seq.value, 0xdeadbeefU);
  EXPECT_EQ(tcp->payload_len, 0);
  EXPECT_EQ(tcp->options.mss, 1460);
  EXPECT_TRUE(tcp->options.sack_permitted);
  ASSERT_TRUE(tcp->options.timestamps);
  EXPECT_EQ(tcp->options.timestamps->tsval, 12345U);
  EXPECT_EQ(tcp->options.timestamps->tsecr, 0U);
  EXPECT_EQ(tcp->options.window_scale, 7);
}

TEST(FloodSyn, ShortBufferWritesNothing) {
  std::array<std::byte, kSynPacketLen - 1> buf{};
  EXPECT_EQ(write_syn(syn_spec{kSrc, kDst, 1, 2, 3, 4, 5}, buf), 0U);
}

TEST(FloodSources, StayInThePrefixAndAvoidOwnAndTarget) {
  const auto own = wire::ipv4_addr::from_octets(198, 18, 0, 130);
  const auto target = wire::ipv4_addr::from_octets(198, 18, 0, 131);
  const source_range r({wire::ipv4_addr::from_octets(198, 18, 0, 128), 25}, own, target);
  EXPECT_EQ(r.size(), 128U);
  fast_random rnd(1);
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 20000; ++i) {
    const auto a = r.pick(rnd.next());
    ASSERT_GE(a.value, wire::ipv4_addr::from_octets(198, 18, 0, 128).value);
    ASSERT_LE(a.value, wire::ipv4_addr::from_octets(198, 18, 0, 255).value);
    ASSERT_NE(a, own);
    ASSERT_NE(a, target);
    seen.insert(a.value);
  }
  EXPECT_EQ(seen.size(), 126U);  // every other address of the /25 turns up
}

TEST(FloodSources, SlashThirtyTwoIsThatAddress) {
  const source_range r({kSrc, 32}, kDst, kDst);
  fast_random rnd(7);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r.pick(rnd.next()), kSrc);
}


// Every --kind parses back with the stack's own parsers: both checksums
// valid, the flags of its kind, the payload asked for.
TEST(FloodAttack, EachTcpKindHasItsFlagsAndValidChecksums) {
  struct want {
    const char* name;
    std::uint8_t flags;
  };
  using namespace wire::tcp_flag;
  for (const want w : {want{"syn", kSyn}, want{"ack", kAck}, want{"rst", kRst},
                       want{"fin", kFin | kAck}, want{"syn-ack", kSyn | kAck},
                       want{"psh-ack", kPsh | kAck}}) {
    const auto kind = parse_attack_kind(w.name);
    ASSERT_TRUE(kind) << w.name;
    EXPECT_EQ(to_string(*kind), w.name);
    for (const std::uint16_t payload : {0, 1, 7, 1400}) {
      std::array<std::byte, kMaxAttackPacketLen> buf{};
      attack_spec s{kSrc, kDst, 40000, 80, 1000, 2000, 3, 9, payload, 42};
      const std::size_t len = write_attack(*kind, s, buf);
      ASSERT_GT(len, 0U) << w.name;
      const auto ip = wire::parse_ipv4_header({buf.data(), len});
      ASSERT_TRUE(ip) << w.name;
      EXPECT_EQ(ip->total_length, len);
      EXPECT_EQ(ip->protocol, wire::kIpProtoTcp);
      const auto tcp =
          wire::parse_tcp(std::span<const std::byte>(buf).subspan(20, len - 20), kSrc, kDst);
      ASSERT_TRUE(tcp) << w.name << " payload " << payload;
      EXPECT_EQ(tcp->flags, w.flags) << w.name;
      EXPECT_EQ(tcp->dst_port, 80);
      const std::size_t data = len - 20 - tcp->header_len;
      if (*kind == attack_kind::syn && payload == 0) {
        EXPECT_EQ(data, 0U);
      } else if (*kind == attack_kind::psh_ack) {
        EXPECT_EQ(data, std::max<std::size_t>(1, payload));
      } else {
        EXPECT_EQ(data, payload) << w.name;
      }
      if ((w.flags & kAck) != 0) {
        EXPECT_EQ(tcp->ack.value, 2000U);
      }
    }
  }
}

TEST(FloodAttack, FragIsAFirstFragmentOfAnIncompleteUdpDatagram) {
  std::array<std::byte, kMaxAttackPacketLen> buf{};
  attack_spec s{kSrc, kDst, 40000, 53, 0, 0, 0, 77, 13, 5};
  const std::size_t len = write_attack(attack_kind::frag, s, buf);
  ASSERT_EQ(len, 20U + 16U);  // 13 rounded up to 8s
  const auto ip = wire::parse_ipv4_header({buf.data(), len});
  ASSERT_TRUE(ip);
  EXPECT_TRUE(ip->more_fragments);
  EXPECT_EQ(ip->fragment_offset, 0);
  EXPECT_EQ(ip->protocol, wire::kIpProtoUdp);
  EXPECT_EQ(ip->id, 77);
  // The UDP header announces more than this fragment holds.
  const auto udp_len = (std::to_integer<unsigned>(buf[24]) << 8) | std::to_integer<unsigned>(buf[25]);
  EXPECT_GT(udp_len, 16U);
}

TEST(FloodAttack, UnknownKindsAndOversizedPayloadsAreRefused) {
  EXPECT_FALSE(parse_attack_kind("synack"));
  EXPECT_FALSE(parse_attack_kind(""));
  std::array<std::byte, kMaxAttackPacketLen + 100> buf{};
  attack_spec s{kSrc, kDst, 40000, 80, 0, 0, 0, 0, kMaxAttackPayload + 1, 0};
  EXPECT_EQ(write_attack(attack_kind::ack, s, buf), 0U);
  std::array<std::byte, 30> small{};
  s.payload_len = 0;
  EXPECT_EQ(write_attack(attack_kind::ack, s, small), 0U);
}

}  // namespace
}  // namespace kbt::flood
