// ARP parse/emit against packets made with scapy 2.5.0 (Debian's
// python3-scapy, run by /usr/bin/python3); each vector is bytes(expression).
#include "wire/arp.hh"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "test_env.hh"

namespace kbt::wire {
namespace {

using kbt::test::as_bytes;

constexpr mac_addr kMac1{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
constexpr mac_addr kMac2{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
constexpr ipv4_addr kIp1 = ipv4_addr::from_octets(198, 18, 0, 1);
constexpr ipv4_addr kIp2 = ipv4_addr::from_octets(198, 18, 0, 2);

// scapy: ARP(op=1,hwsrc='02:00:00:00:00:01',psrc='198.18.0.1',hwdst='00:00:00:00:00:00',pdst='198.18.0.2')
const std::vector<std::uint8_t> kRequest = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xc6, 0x12, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x02,
};
// scapy: ARP(op=2,hwsrc='02:00:00:00:00:02',psrc='198.18.0.2',hwdst='02:00:00:00:00:01',pdst='198.18.0.1')
const std::vector<std::uint8_t> kReply = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0xc6, 0x12, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x01,
};
// scapy: ARP(op=2,hwsrc='02:00:00:00:00:02',psrc='198.18.0.2',hwdst='02:00:00:00:00:01',pdst='198.18.0.1')/Padding(b'\x00'*18)
const std::vector<std::uint8_t> kPaddedReply = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xc6, 0x12,
    0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// scapy: ARP(hwtype=6,hwlen=6,op=1,hwsrc=b'\x02\x00\x00\x00\x00\x01',psrc='198.18.0.1',hwdst=b'\x00'*6,pdst='198.18.0.2')
const std::vector<std::uint8_t> kTokenRing = {
    0x00, 0x06, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xc6, 0x12, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x02,
};
// scapy: ARP(hwtype=1,hwlen=8,op=1,hwsrc=b'\x02\x00\x00\x00\x00\x01\x00\x00',psrc='198.18.0.1',hwdst=b'\x00'*8,pdst='198.18.0.2')
const std::vector<std::uint8_t> kLongHwAddr = {
    0x00, 0x01, 0x08, 0x00, 0x08, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0xc6, 0x12, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x02,
};
// scapy: ARP(ptype=0x86dd,plen=4,op=1,hwsrc='02:00:00:00:00:01',psrc=b'\xc6\x12\x00\x01',hwdst='00:00:00:00:00:00',pdst=b'\xc6\x12\x00\x02')
const std::vector<std::uint8_t> kIpv6Ptype = {
    0x00, 0x01, 0x86, 0xdd, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xc6, 0x12, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x02,
};
// scapy: ARP(plen=16,op=1,hwsrc='02:00:00:00:00:01',psrc=b'\xc6\x12\x00\x01'+b'\x00'*12,hwdst='00:00:00:00:00:00',pdst=b'\xc6\x12\x00\x02'+b'\x00'*12)
const std::vector<std::uint8_t> kPlen16 = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x10, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x01, 0xc6, 0x12, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x12, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// scapy: ARP(op=3,hwsrc='02:00:00:00:00:01',psrc='198.18.0.1',hwdst='02:00:00:00:00:01',pdst='0.0.0.0')
const std::vector<std::uint8_t> kRarp = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xc6, 0x12, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
};

TEST(Arp, ParsesRequest) {
  const auto r = parse_arp(as_bytes(kRequest));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->op, arp_op::request);
  EXPECT_EQ(r->sender_mac, kMac1);
  EXPECT_EQ(r->sender_ip, kIp1);
  EXPECT_TRUE(r->target_mac.is_zero());
  EXPECT_EQ(r->target_ip, kIp2);
}

TEST(Arp, ParsesReplyIgnoringEthernetPadding) {
  for (const auto* packet : {&kReply, &kPaddedReply}) {
    const auto r = parse_arp(as_bytes(*packet));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->op, arp_op::reply);
    EXPECT_EQ(r->sender_mac, kMac2);
    EXPECT_EQ(r->sender_ip, kIp2);
    EXPECT_EQ(r->target_mac, kMac1);
    EXPECT_EQ(r->target_ip, kIp1);
  }
}

TEST(Arp, EmitsRequestAndReply) {
  arp_repr req{arp_op::request, kMac1, kIp1, mac_addr{}, kIp2};
  arp_repr rep{arp_op::reply, kMac2, kIp2, kMac1, kIp1};
  for (const auto& [repr, expected] : {std::pair{req, &kRequest}, std::pair{rep, &kReply}}) {
    std::vector<std::uint8_t> out(kArpLen + 2, 0xee);
    const auto n = emit_arp(repr, std::as_writable_bytes(std::span(out)));
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, kArpLen);
    EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + kArpLen), *expected);
    EXPECT_EQ(out[kArpLen], 0xee) << "emit wrote past the packet";
  }
}

TEST(Arp, RejectsEveryTruncatedPrefix) {
  for (std::size_t n = 0; n < kArpLen; ++n) {
    const auto r = parse_arp(as_bytes(kRequest).first(n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), arp_error::truncated) << n;
  }
  std::vector<std::uint8_t> out(kArpLen - 1);
  const auto e = emit_arp(arp_repr{}, std::as_writable_bytes(std::span(out)));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), arp_error::truncated);
}

TEST(Arp, RejectsOtherHardware) {
  for (const auto* packet : {&kTokenRing, &kLongHwAddr}) {
    const auto r = parse_arp(as_bytes(*packet));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), arp_error::bad_hardware);
  }
}

TEST(Arp, RejectsOtherProtocol) {
  const auto r = parse_arp(as_bytes(kIpv6Ptype));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), arp_error::bad_protocol);

  const auto r2 = parse_arp(as_bytes(kPlen16));
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error(), arp_error::bad_protocol);
}

TEST(Arp, RejectsOtherOperations) {
  const auto r = parse_arp(as_bytes(kRarp));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), arp_error::bad_operation);
}

}  // namespace
}  // namespace kbt::wire
