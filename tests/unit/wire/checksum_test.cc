// Internet checksum helpers against values computed by scapy 2.5.0 (Debian's
// python3-scapy, run by /usr/bin/python3): each vector is bytes(expression),
// each constant's expression is in the comment beside it.
#include "wire/checksum.hh"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <random>
#include <vector>

#include "test_env.hh"
#include "wire/ipv4.hh"

namespace kbt::wire {
namespace {

using kbt::test::as_bytes;

constexpr ipv4_addr kIp1 = ipv4_addr::from_octets(198, 18, 0, 1);
constexpr ipv4_addr kIp2 = ipv4_addr::from_octets(198, 18, 0, 2);

// The example bytes of RFC 1071 §3.
const std::vector<std::uint8_t> kRfc1071Example = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=0xabcd,flags='DF',ttl=64,proto=6,len=1500)
const std::vector<std::uint8_t> kIpv4 = {
    0x45, 0x00, 0x05, 0xdc, 0xab, 0xcd, 0x40, 0x00, 0x40, 0x06,
    0xfd, 0x26, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02,
};
// scapy: IP(src='10.0.0.1',dst='10.0.0.2',id=1,ttl=255,proto=17,options=[IPOption_Router_Alert()])
const std::vector<std::uint8_t> kIpv4Options = {
    0x46, 0x00, 0x00, 0x18, 0x00, 0x01, 0x00, 0x00, 0xff, 0x11, 0x12, 0xcd,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x94, 0x04, 0x00, 0x00,
};
// scapy: ICMP(type=8,id=0x4242,seq=7)/Raw(b'odd-length')
const std::vector<std::uint8_t> kIcmpOdd = {
    0x08, 0x00, 0x92, 0xef, 0x42, 0x42, 0x00, 0x07, 0x6f,
    0x64, 0x64, 0x2d, 0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=1)/TCP(sport=40000,dport=80,flags='PA',seq=123456789,ack=987654321,window=1024)/Raw(b'hello, world!')
const std::vector<std::uint8_t> kTcpOdd = {
    0x45, 0x00, 0x00, 0x35, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0xee, 0x9a, 0xc6, 0x12,
    0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x07, 0x5b, 0xcd, 0x15,
    0x3a, 0xde, 0x68, 0xb1, 0x50, 0x18, 0x04, 0x00, 0xa9, 0xba, 0x00, 0x00, 0x68, 0x65,
    0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x77, 0x6f, 0x72, 0x6c, 0x64, 0x21,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=1)/UDP(sport=1,dport=2)/Raw(b'\x73\xaf')
const std::vector<std::uint8_t> kUdpZeroSum = {
    0x45, 0x00, 0x00, 0x1e, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0xee, 0xa6, 0xc6, 0x12, 0x00,
    0x01, 0xc6, 0x12, 0x00, 0x02, 0x00, 0x01, 0x00, 0x02, 0x00, 0x0a, 0xff, 0xff, 0x73, 0xaf,
};

std::uint16_t field_at(const std::vector<std::uint8_t>& v, std::size_t off) {
  return static_cast<std::uint16_t>((v[off] << 8) | v[off + 1]);
}

// The bytes from `off` on, with the 16-bit checksum field at `field` zeroed.
std::vector<std::uint8_t> zeroed(const std::vector<std::uint8_t>& v, std::size_t off,
                                 std::size_t field) {
  std::vector<std::uint8_t> out(v.begin() + static_cast<std::ptrdiff_t>(off), v.end());
  out[field] = out[field + 1] = 0;
  return out;
}

TEST(Checksum, OnesSumMatchesRfc1071Example) {
  // RFC 1071 §3: the folded sum of these bytes is ddf2.
  EXPECT_EQ(ones_sum(as_bytes(kRfc1071Example)), 0xddf2);
  // scapy: checksum(b'\x00\x01\xf2\x03\xf4\xf5\xf6\xf7') == 0x220d
  EXPECT_EQ(internet_checksum(as_bytes(kRfc1071Example)), 0x220d);
}

TEST(Checksum, PadsOddLengthWithZero) {
  const std::vector<std::uint8_t> three{0x01, 0x02, 0x03};
  const std::vector<std::uint8_t> one{0xff};
  // scapy: checksum(b'\x01\x02\x03') == 0xfbfd
  EXPECT_EQ(internet_checksum(as_bytes(three)), 0xfbfd);
  // scapy: checksum(b'\xff') == 0x00ff
  EXPECT_EQ(internet_checksum(as_bytes(one)), 0x00ff);
}

TEST(Checksum, OnesAddCarriesAround) {
  EXPECT_EQ(ones_add(0xffff, 0x0001), 0x0001);
  EXPECT_EQ(ones_add(0x8000, 0x8000), 0x0001);
  EXPECT_EQ(ones_add(0x1234, 0x0001), 0x1235);
}

TEST(Checksum, Ipv4HeaderMatchesScapy) {
  for (const auto* header : {&kIpv4, &kIpv4Options}) {
    const auto z = zeroed(*header, 0, 10);
    EXPECT_EQ(ipv4_header_checksum(as_bytes(z)), field_at(*header, 10));
    EXPECT_TRUE(checksum_ok(as_bytes(*header)));
    auto damaged = *header;
    damaged[8] ^= 0x01;
    EXPECT_FALSE(checksum_ok(as_bytes(damaged)));
  }
}

TEST(Checksum, IcmpMatchesScapy) {
  const auto z = zeroed(kIcmpOdd, 0, 2);
  EXPECT_EQ(internet_checksum(as_bytes(z)), field_at(kIcmpOdd, 2));
  EXPECT_TRUE(checksum_ok(as_bytes(kIcmpOdd)));
}

TEST(Checksum, PseudoHeaderSumMatchesScapy) {
  // scapy: ~checksum(in4_pseudoheader(6, IP(src='198.18.0.1',dst='198.18.0.2')/TCP(), 20)) & 0xffff
  EXPECT_EQ(ipv4_pseudo_header_sum(kIp1, kIp2, kIpProtoTcp, 20), 0x8c42);
  // scapy: ~checksum(in4_pseudoheader(6, IP(src='10.0.0.1',dst='192.168.1.200')/TCP(), 1480)) & 0xffff
  EXPECT_EQ(ipv4_pseudo_header_sum(ipv4_addr::from_octets(10, 0, 0, 1),
                                   ipv4_addr::from_octets(192, 168, 1, 200), kIpProtoTcp, 1480),
            0xd23f);
}

TEST(Checksum, TcpOverPseudoHeaderMatchesScapy) {
  const auto segment = zeroed(kTcpOdd, 20, 16);
  ASSERT_EQ(segment.size() % 2, 1U) << "the odd-length path is the point";
  EXPECT_EQ(ipv4_l4_checksum(kIp1, kIp2, kIpProtoTcp, as_bytes(segment)), field_at(kTcpOdd, 36));
  EXPECT_TRUE(ipv4_l4_checksum_ok(kIp1, kIp2, kIpProtoTcp, as_bytes(kTcpOdd).subspan(20)));
  // The protocol is part of the pseudo-header.
  EXPECT_FALSE(ipv4_l4_checksum_ok(kIp1, kIp2, kIpProtoUdp, as_bytes(kTcpOdd).subspan(20)));
  auto damaged = kTcpOdd;
  damaged.back() ^= 0x01;
  EXPECT_FALSE(ipv4_l4_checksum_ok(kIp1, kIp2, kIpProtoTcp, as_bytes(damaged).subspan(20)));
}

TEST(Checksum, UdpZeroIsSentAsAllOnes) {
  // RFC 768: scapy writes 0xffff for this datagram, whose checksum is zero.
  ASSERT_EQ(field_at(kUdpZeroSum, 26), 0xffff);
  const auto datagram = zeroed(kUdpZeroSum, 20, 6);
  EXPECT_EQ(ipv4_l4_checksum(kIp1, kIp2, kIpProtoUdp, as_bytes(datagram)), 0xffff);
  rte_mbuf* m = kbt::test::make_mbuf(datagram);
  const auto r =
      ipv4_l4_checksum(kIp1, kIp2, kIpProtoUdp, m, 0, static_cast<std::uint16_t>(datagram.size()));
  rte_pktmbuf_free(m);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0xffff);
}

TEST(Checksum, TcpOnMbufMatchesByteBuffer) {
  const unsigned before = kbt::test::available_mbufs();
  const auto packet = zeroed(kTcpOdd, 0, 36);  // IPv4 + TCP, TCP checksum zeroed
  const auto segment = as_bytes(packet).subspan(20);
  const auto len = static_cast<std::uint16_t>(segment.size());
  const std::uint16_t expected = field_at(kTcpOdd, 36);
  ASSERT_EQ(ipv4_l4_checksum(kIp1, kIp2, kIpProtoTcp, segment), expected);

  rte_mbuf* m = kbt::test::make_mbuf(packet);
  auto r = ipv4_l4_checksum(kIp1, kIp2, kIpProtoTcp, m, 20, len);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, expected);
  EXPECT_FALSE(ipv4_l4_checksum(kIp1, kIp2, kIpProtoTcp, m, 21, len));
  rte_pktmbuf_free(m);

  // The same segment split over a chain at an odd offset, where DPDK must
  // byte-swap the second part's sum.
  for (std::size_t split : {1U, 7U, 20U, 33U}) {
    const std::vector<std::uint8_t> head(packet.begin(), packet.begin() + 20 + split);
    const std::vector<std::uint8_t> tail(packet.begin() + 20 + split, packet.end());
    rte_mbuf* h = kbt::test::make_mbuf(head);
    ASSERT_EQ(rte_pktmbuf_chain(h, kbt::test::make_mbuf(tail)), 0);
    r = ipv4_l4_checksum(kIp1, kIp2, kIpProtoTcp, h, 20, len);
    ASSERT_TRUE(r) << split;
    EXPECT_EQ(*r, expected) << split;
    rte_pktmbuf_free(h);
  }

  rte_mbuf* ok = kbt::test::make_mbuf(kTcpOdd);
  EXPECT_TRUE(ipv4_l4_checksum_ok(kIp1, kIp2, kIpProtoTcp, ok, 20, len));
  EXPECT_FALSE(ipv4_l4_checksum_ok(kIp1, kIp2, kIpProtoTcp, ok, 19, len));
  EXPECT_FALSE(ipv4_l4_checksum_ok(kIp1, kIp2, kIpProtoTcp, ok, 20, len + 1)) << "past the end";
  rte_pktmbuf_free(ok);
  EXPECT_EQ(kbt::test::available_mbufs(), before);
}

TEST(Checksum, IncrementalUpdateMatchesRfc1624Example) {
  // RFC 1624 §4: HC = 0xDD2F, m = 0x5555, m' = 0x3285 gives 0x0000 by
  // eqn. 3 (RFC 1141's eqn. 2 gives the wrong zero, 0xFFFF).
  EXPECT_EQ(checksum_adjust(0xdd2f, 0x5555, 0x3285), 0x0000);
}

TEST(Checksum, IncrementalUpdateDecrementsTtl) {
  // Routers' classic use: TTL 64 -> 63 in kIpv4, checked by a full recompute.
  auto header = kIpv4;
  const std::uint16_t old_word = field_at(header, 8);
  header[8] = 63;
  const std::uint16_t adjusted =
      checksum_adjust(field_at(header, 10), old_word, field_at(header, 8));
  const auto z = zeroed(header, 0, 10);
  EXPECT_EQ(adjusted, ipv4_header_checksum(as_bytes(z)));
}

TEST(Checksum, IncrementalUpdateAgreesWithFullRecompute) {
  std::mt19937 rng(1624);
  std::uniform_int_distribution<unsigned> byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    // Bytes 0-1 are the checksum field, zero while summing.
    std::vector<std::uint8_t> buf(2 + 2 * (round % 16 + 1));
    for (std::size_t i = 2; i < buf.size(); ++i) buf[i] = static_cast<std::uint8_t>(byte(rng));
    if (round % 50 == 0) std::fill(buf.begin() + 2, buf.end(), 0);  // sums at the edges
    const std::uint16_t hc = internet_checksum(as_bytes(buf));
    const std::size_t at = 2 + 2 * (byte(rng) % ((buf.size() - 2) / 2));
    const std::uint16_t old_word = field_at(buf, at);
    const unsigned hi = byte(rng);
    const unsigned lo = byte(rng);
    const auto new_word = static_cast<std::uint16_t>(round % 7 == 0 ? 0xffffU : (hi << 8) | lo);
    buf[at] = static_cast<std::uint8_t>(new_word >> 8);
    buf[at + 1] = static_cast<std::uint8_t>(new_word);
    const std::uint16_t full = internet_checksum(as_bytes(buf));
    ASSERT_EQ(checksum_adjust(hc, old_word, new_word), full) << round;
  }
}

}  // namespace
}  // namespace kbt::wire
