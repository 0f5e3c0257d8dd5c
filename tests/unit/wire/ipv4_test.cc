// IPv4 header parse/emit against packets made with scapy 2.5.0 (Debian's
// python3-scapy, run by /usr/bin/python3); each vector is bytes(expression).
#include "wire/ipv4.hh"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "test_env.hh"

namespace kbt::wire {
namespace {

using kbt::test::as_bytes;

constexpr ipv4_addr kIp1 = ipv4_addr::from_octets(198, 18, 0, 1);
constexpr ipv4_addr kIp2 = ipv4_addr::from_octets(198, 18, 0, 2);

// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=0x1234,flags='DF',ttl=64,tos=0xb8,proto=6)/Raw(bytes(range(40)))
const std::vector<std::uint8_t> kTcpPacket = {
    0x45, 0xb8, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x9b, 0xa8, 0xc6, 0x12, 0x00,
    0x01, 0xc6, 0x12, 0x00, 0x02, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
    0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
    0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
};
// scapy: IP(src='198.18.0.2',dst='198.18.0.1',id=0xfffe,ttl=1,proto=17)/Raw(b'hello')
const std::vector<std::uint8_t> kUdpPacket = {
    0x45, 0x00, 0x00, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01, 0x11, 0x2d, 0xae, 0xc6,
    0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x01, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=7,flags='MF',frag=185,proto=17)/Raw(b'x'*8)
const std::vector<std::uint8_t> kFragment = {
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x07, 0x20, 0xb9, 0x40, 0x11, 0xcd, 0xe9, 0xc6, 0x12,
    0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=7,frag=370,proto=17)/Raw(b'y'*8)
const std::vector<std::uint8_t> kLastFragment = {
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x07, 0x01, 0x72, 0x40, 0x11, 0xed, 0x30, 0xc6, 0x12,
    0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x79, 0x79, 0x79, 0x79, 0x79, 0x79, 0x79, 0x79,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=1,proto=1)/Raw(b'ab')/Padding(b'\x00'*24)
const std::vector<std::uint8_t> kPadded = {
    0x45, 0x00, 0x00, 0x16, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0xee, 0xbe, 0xc6, 0x12, 0x00, 0x01,
    0xc6, 0x12, 0x00, 0x02, 0x61, 0x62, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=2,proto=6,options=[IPOption_Router_Alert()])/Raw(b'data')
const std::vector<std::uint8_t> kWithOptions = {
    0x46, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x00, 0x00, 0x40, 0x06, 0x59, 0xae, 0xc6, 0x12,
    0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x94, 0x04, 0x00, 0x00, 0x64, 0x61, 0x74, 0x61,
};
// scapy: IP(version=6,src='198.18.0.1',dst='198.18.0.2',id=3,proto=6)/Raw(b'data')
const std::vector<std::uint8_t> kVersion6 = {
    0x65, 0x00, 0x00, 0x18, 0x00, 0x03, 0x00, 0x00, 0x40, 0x06, 0xce, 0xb5,
    0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x64, 0x61, 0x74, 0x61,
};
// scapy: IP(ihl=4,src='198.18.0.1',dst='198.18.0.2',id=3,proto=6)/Raw(b'data')
const std::vector<std::uint8_t> kIhl4 = {
    0x44, 0x00, 0x00, 0x18, 0x00, 0x03, 0x00, 0x00, 0x40, 0x06, 0xef, 0xb5,
    0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x64, 0x61, 0x74, 0x61,
};
// scapy: IP(ihl=15,src='198.18.0.1',dst='198.18.0.2',id=3,proto=6)/Raw(b'data')
const std::vector<std::uint8_t> kIhlPastBuffer = {
    0x4f, 0x00, 0x00, 0x18, 0x00, 0x03, 0x00, 0x00, 0x40, 0x06, 0xe4, 0xb5,
    0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x64, 0x61, 0x74, 0x61,
};
// scapy: IP(len=19,src='198.18.0.1',dst='198.18.0.2',id=3,proto=6)/Raw(b'data')
const std::vector<std::uint8_t> kTotalBelowHeader = {
    0x45, 0x00, 0x00, 0x13, 0x00, 0x03, 0x00, 0x00, 0x40, 0x06, 0xee, 0xba,
    0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x64, 0x61, 0x74, 0x61,
};
// scapy: IP(len=25,src='198.18.0.1',dst='198.18.0.2',id=3,proto=6)/Raw(b'data')
const std::vector<std::uint8_t> kTotalPastBuffer = {
    0x45, 0x00, 0x00, 0x19, 0x00, 0x03, 0x00, 0x00, 0x40, 0x06, 0xee, 0xb4,
    0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x64, 0x61, 0x74, 0x61,
};
// scapy: IP(chksum=0x1234,src='198.18.0.1',dst='198.18.0.2',id=3,proto=6)/Raw(b'data')
const std::vector<std::uint8_t> kBadChecksum = {
    0x45, 0x00, 0x00, 0x18, 0x00, 0x03, 0x00, 0x00, 0x40, 0x06, 0x12, 0x34,
    0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x64, 0x61, 0x74, 0x61,
};

ipv4_error parse_error(const std::vector<std::uint8_t>& packet, bool verify = true) {
  const auto r = parse_ipv4_header(as_bytes(packet), verify);
  EXPECT_FALSE(r);
  return r ? ipv4_error{255} : r.error();
}

TEST(Ipv4, ParsesHeader) {
  const auto r = parse_ipv4_header(as_bytes(kTcpPacket));
  ASSERT_TRUE(r) << static_cast<int>(r.error());
  EXPECT_EQ(r->src, kIp1);
  EXPECT_EQ(r->dst, kIp2);
  EXPECT_EQ(r->protocol, kIpProtoTcp);
  EXPECT_EQ(r->ttl, 64);
  EXPECT_EQ(r->tos, 0xb8);
  EXPECT_EQ(r->id, 0x1234);
  EXPECT_EQ(r->total_length, 60);
  EXPECT_EQ(r->header_len, 20);
  EXPECT_TRUE(r->dont_fragment);
  EXPECT_FALSE(r->more_fragments);
  EXPECT_EQ(r->fragment_offset, 0);
  EXPECT_FALSE(r->has_options());
  EXPECT_FALSE(r->is_fragment());
  EXPECT_EQ(r->payload_len(), 40);
}

TEST(Ipv4, ParsesPacketWithPayload) {
  const auto r = parse_ipv4_header(as_bytes(kUdpPacket));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->src, kIp2);
  EXPECT_EQ(r->dst, kIp1);
  EXPECT_EQ(r->protocol, kIpProtoUdp);
  EXPECT_EQ(r->ttl, 1);
  EXPECT_EQ(r->id, 0xfffe);
  EXPECT_FALSE(r->dont_fragment);
  EXPECT_EQ(r->payload_len(), 5);
  const auto view = ipv4_packet::make(as_bytes(kUdpPacket));
  ASSERT_TRUE(view);
  ASSERT_EQ(view->payload().size(), 5U);
  EXPECT_EQ(view->payload()[0], std::byte{'h'});
  EXPECT_EQ(view->checksum(), (kUdpPacket[10] << 8) | kUdpPacket[11]);
}

TEST(Ipv4, ReportsFragments) {
  const auto first = parse_ipv4_header(as_bytes(kFragment));
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->more_fragments);
  EXPECT_EQ(first->fragment_offset, 185 * 8);
  EXPECT_TRUE(first->is_fragment());

  const auto last = parse_ipv4_header(as_bytes(kLastFragment));
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->more_fragments);
  EXPECT_EQ(last->fragment_offset, 370 * 8);
  EXPECT_TRUE(last->is_fragment()) << "offset != 0 without MF is still a fragment";
}

TEST(Ipv4, PayloadExcludesEthernetPadding) {
  const auto r = parse_ipv4_header(as_bytes(kPadded));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->total_length, 22);
  EXPECT_EQ(r->payload_len(), 2);
  const auto view = ipv4_packet::make(as_bytes(kPadded));
  ASSERT_TRUE(view);
  EXPECT_EQ(view->payload().size(), 2U);
}

TEST(Ipv4, ParsesOptions) {
  const auto r = parse_ipv4_header(as_bytes(kWithOptions));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header_len, 24);
  EXPECT_TRUE(r->has_options());
  EXPECT_EQ(r->payload_len(), 4);
  const auto view = ipv4_packet::make(as_bytes(kWithOptions));
  ASSERT_TRUE(view);
  ASSERT_EQ(view->options().size(), 4U);
  EXPECT_EQ(view->options()[0], std::byte{0x94});  // Router Alert (RFC 2113)
  EXPECT_EQ(view->payload()[0], std::byte{'d'});
}

TEST(Ipv4, EmitsHeaderWithChecksum) {
  ipv4_repr r;
  r.src = kIp1;
  r.dst = kIp2;
  r.protocol = kIpProtoTcp;
  r.ttl = 64;
  r.tos = 0xb8;
  r.id = 0x1234;
  r.total_length = 60;
  r.dont_fragment = true;
  r.header_len = 40;  // ignored: emit never writes options
  std::vector<std::uint8_t> out(24, 0xee);
  const auto n = emit_ipv4_header(r, tx_checksum::full, std::as_writable_bytes(std::span(out)));
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 20U);
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 20),
            std::vector<std::uint8_t>(kTcpPacket.begin(), kTcpPacket.begin() + 20));
  EXPECT_EQ(out[20], 0xee) << "emit wrote past the header";
}

TEST(Ipv4, EmitsFragmentFields) {
  auto r = parse_ipv4_header(as_bytes(kFragment));
  ASSERT_TRUE(r);
  std::vector<std::uint8_t> out(20);
  ASSERT_TRUE(emit_ipv4_header(*r, tx_checksum::full, std::as_writable_bytes(std::span(out))));
  EXPECT_EQ(out, std::vector<std::uint8_t>(kFragment.begin(), kFragment.begin() + 20));
}

TEST(Ipv4, EmitLeavesChecksumZeroForOffload) {
  const auto r = parse_ipv4_header(as_bytes(kUdpPacket));
  ASSERT_TRUE(r);
  std::vector<std::uint8_t> out(20, 0xee);
  ASSERT_TRUE(emit_ipv4_header(*r, tx_checksum::offload, std::as_writable_bytes(std::span(out))));
  auto expected = std::vector<std::uint8_t>(kUdpPacket.begin(), kUdpPacket.begin() + 20);
  expected[10] = expected[11] = 0;
  EXPECT_EQ(out, expected);
}

TEST(Ipv4, EmitRejectsShortBufferAndImpossibleLength) {
  ipv4_repr r;
  r.total_length = 20;
  std::vector<std::uint8_t> out(19);
  auto n = emit_ipv4_header(r, tx_checksum::full, std::as_writable_bytes(std::span(out)));
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), ipv4_error::truncated);
  out.resize(20);
  r.total_length = 19;
  n = emit_ipv4_header(r, tx_checksum::full, std::as_writable_bytes(std::span(out)));
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), ipv4_error::bad_total_length);
}

TEST(Ipv4, RejectsEveryTruncatedPrefix) {
  for (std::size_t n = 0; n < kIpv4MinHeaderLen; ++n) {
    const auto r = parse_ipv4_header(as_bytes(kTcpPacket).first(n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), ipv4_error::truncated) << n;
  }
}

TEST(Ipv4, RejectsBadVersion) { EXPECT_EQ(parse_error(kVersion6), ipv4_error::bad_version); }

TEST(Ipv4, RejectsBadHeaderLength) {
  EXPECT_EQ(parse_error(kIhl4), ipv4_error::bad_header_length);
  EXPECT_EQ(parse_error(kIhlPastBuffer), ipv4_error::bad_header_length);
  // A 24-byte header cut to 22 bytes: long enough for the fixed part only.
  const std::vector<std::uint8_t> cut(kWithOptions.begin(), kWithOptions.begin() + 22);
  EXPECT_EQ(parse_error(cut), ipv4_error::bad_header_length);
}

TEST(Ipv4, RejectsLyingTotalLength) {
  EXPECT_EQ(parse_error(kTotalBelowHeader), ipv4_error::bad_total_length);
  EXPECT_EQ(parse_error(kTotalPastBuffer), ipv4_error::bad_total_length);
  // The total length counts the options: 22 < 24-byte header.
  auto short_total = kWithOptions;
  short_total[3] = 22;
  EXPECT_EQ(parse_error(short_total, false), ipv4_error::bad_total_length);
  // The packet cut short of its total length.
  const std::vector<std::uint8_t> cut(kUdpPacket.begin(), kUdpPacket.end() - 1);
  EXPECT_EQ(parse_error(cut), ipv4_error::bad_total_length);
}

TEST(Ipv4, RejectsBadChecksumUnlessOffloaded) {
  EXPECT_EQ(parse_error(kBadChecksum), ipv4_error::bad_checksum);
  EXPECT_TRUE(parse_ipv4_header(as_bytes(kBadChecksum), false));
  // A single flipped bit anywhere in the header is caught.
  for (std::size_t i = 0; i < kIpv4MinHeaderLen; ++i) {
    auto damaged = kUdpPacket;
    damaged[i] ^= 0x01;
    const auto r = parse_ipv4_header(as_bytes(damaged));
    EXPECT_FALSE(r) << i;
  }
}

TEST(Ipv4, ChecksKeepTheirOrder) {
  // Version 6 with a bad IHL and a bad checksum reports the version.
  auto v = kBadChecksum;
  v[0] = 0x64;
  EXPECT_EQ(parse_error(v), ipv4_error::bad_version);
  // A bad IHL with a lying total length reports the IHL.
  auto h = kTotalPastBuffer;
  h[0] = 0x44;
  EXPECT_EQ(parse_error(h), ipv4_error::bad_header_length);
  // A lying total length with a bad checksum reports the length.
  auto t = kBadChecksum;
  t[3] = 200;
  EXPECT_EQ(parse_error(t), ipv4_error::bad_total_length);
}

}  // namespace
}  // namespace kbt::wire
