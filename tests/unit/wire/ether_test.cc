// Ethernet II parse/emit against frames made with scapy 2.5.0 (Debian's
// python3-scapy, run by /usr/bin/python3); each vector is bytes(expression).
#include "wire/ether.hh"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "test_env.hh"

namespace kbt::wire {
namespace {

using kbt::test::as_bytes;

constexpr mac_addr kMac1{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
constexpr mac_addr kMac2{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};

// scapy: Ether(dst='02:00:00:00:00:02',src='02:00:00:00:00:01',type=0x0800)/Raw(b'\x45payload')
const std::vector<std::uint8_t> kUntagged = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x08, 0x00, 0x45, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64,
};
// scapy: Ether(dst='ff:ff:ff:ff:ff:ff',src='02:00:00:00:00:01')/Dot1Q(prio=5,id=1,vlan=100,type=0x0806)/Raw(b'arp')
const std::vector<std::uint8_t> kDot1q = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x81, 0x00, 0xb0, 0x64, 0x08, 0x06, 0x61, 0x72, 0x70,
};
// scapy: Ether(dst='02:00:00:00:00:02',src='02:00:00:00:00:01')/Dot1AD(prio=3,vlan=200,type=0x0800)/Raw(b'ip')
const std::vector<std::uint8_t> kDot1ad = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x88, 0xa8, 0x60, 0xc8, 0x08, 0x00, 0x69, 0x70,
};

TEST(Ether, ParsesUntagged) {
  const auto r = parse_ether(as_bytes(kUntagged));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->dst, kMac2);
  EXPECT_EQ(r->src, kMac1);
  EXPECT_EQ(r->ether_type, kEthertypeIpv4);
  EXPECT_FALSE(r->vlan_tci);
  EXPECT_EQ(r->header_len(), 14U);

  const auto view = ether_frame::make(as_bytes(kUntagged));
  ASSERT_TRUE(view);
  ASSERT_EQ(view->payload().size(), 8U);
  EXPECT_EQ(view->payload()[0], std::byte{0x45});
}

TEST(Ether, Parses8021qTagAndReportsInnerType) {
  const auto r = parse_ether(as_bytes(kDot1q));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->dst.is_broadcast());
  EXPECT_EQ(r->ether_type, kEthertypeArp);
  ASSERT_TRUE(r->vlan_tci);
  // PCP 5, DEI 1, VID 100.
  EXPECT_EQ(*r->vlan_tci, (5 << 13) | (1 << 12) | 100);
  EXPECT_EQ(r->vlan_tpid, kEthertypeVlan);
  EXPECT_EQ(r->header_len(), 18U);
  EXPECT_EQ(ether_frame::make(as_bytes(kDot1q))->payload().size(), 3U);
}

TEST(Ether, Parses8021adTag) {
  const auto r = parse_ether(as_bytes(kDot1ad));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ether_type, kEthertypeIpv4);
  ASSERT_TRUE(r->vlan_tci);
  EXPECT_EQ(*r->vlan_tci, (3 << 13) | 200);
  EXPECT_EQ(r->vlan_tpid, kEthertypeQinq);
  EXPECT_EQ(r->header_len(), 18U);
}

TEST(Ether, EmitsUntagged) {
  ether_repr r;
  r.dst = kMac2;
  r.src = kMac1;
  r.ether_type = kEthertypeIpv4;
  std::vector<std::uint8_t> out(kUntagged.size(), 0xee);
  const auto n = emit_ether(r, std::as_writable_bytes(std::span(out)));
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 14U);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 14),
            std::vector<std::uint8_t>(kUntagged.begin(), kUntagged.begin() + 14));
  EXPECT_EQ(out[14], 0xee) << "emit wrote past the header";
}

TEST(Ether, EmitsTagged) {
  for (const auto* frame : {&kDot1q, &kDot1ad}) {
    const auto parsed = parse_ether(as_bytes(*frame));
    ASSERT_TRUE(parsed);
    std::vector<std::uint8_t> out(18);
    const auto n = emit_ether(*parsed, std::as_writable_bytes(std::span(out)));
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 18U);
    EXPECT_EQ(out, std::vector<std::uint8_t>(frame->begin(), frame->begin() + 18));
  }
}

TEST(Ether, RejectsEveryTruncatedPrefix) {
  for (const auto* frame : {&kUntagged, &kDot1q, &kDot1ad}) {
    const std::size_t header = frame == &kUntagged ? 14 : 18;
    for (std::size_t n = 0; n < header; ++n) {
      const auto r = parse_ether(as_bytes(*frame).first(n));
      ASSERT_FALSE(r) << n;
      EXPECT_EQ(r.error(), ether_error::truncated) << n;
    }
    EXPECT_TRUE(parse_ether(as_bytes(*frame).first(header)));
  }
}

TEST(Ether, EmitRejectsShortBuffer) {
  ether_repr r;
  r.vlan_tci = 7;
  std::array<std::byte, 17> out{};
  const auto n = emit_ether(r, out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), ether_error::truncated);
}

}  // namespace
}  // namespace kbt::wire
