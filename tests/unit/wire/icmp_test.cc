// ICMPv4 parse/emit and the in-place echo reply, against messages made with
// scapy 2.5.0 (Debian's python3-scapy, run by /usr/bin/python3); each vector
// is bytes(expression).
#include "wire/icmp.hh"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "test_env.hh"
#include "wire/ipv4.hh"

namespace kbt::wire {
namespace {

using kbt::test::as_bytes;

std::span<std::byte> writable(std::vector<std::uint8_t>& v) {
  return std::as_writable_bytes(std::span(v));
}

// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=9,proto=1)/ICMP(type=8,id=0x1234,seq=1)/Raw(b'kbt-ping-payload')
const std::vector<std::uint8_t> kPingPacket = {
    0x45, 0x00, 0x00, 0x2c, 0x00, 0x09, 0x00, 0x00, 0x40, 0x01, 0xee, 0xa0, 0xc6, 0x12, 0x00,
    0x01, 0xc6, 0x12, 0x00, 0x02, 0x08, 0x00, 0xca, 0xac, 0x12, 0x34, 0x00, 0x01, 0x6b, 0x62,
    0x74, 0x2d, 0x70, 0x69, 0x6e, 0x67, 0x2d, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64,
};
// scapy: ICMP(type=8,id=0x1234,seq=1)/Raw(b'kbt-ping-payload')
const std::vector<std::uint8_t> kRequest = {
    0x08, 0x00, 0xca, 0xac, 0x12, 0x34, 0x00, 0x01, 0x6b, 0x62, 0x74, 0x2d,
    0x70, 0x69, 0x6e, 0x67, 0x2d, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64,
};
// scapy: ICMP(type=0,id=0x1234,seq=1)/Raw(b'kbt-ping-payload')
const std::vector<std::uint8_t> kReply = {
    0x00, 0x00, 0xd2, 0xac, 0x12, 0x34, 0x00, 0x01, 0x6b, 0x62, 0x74, 0x2d,
    0x70, 0x69, 0x6e, 0x67, 0x2d, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64,
};
// scapy: ICMP(type=8,id=0xbeef,seq=0xffff)/Raw(b'abc')
const std::vector<std::uint8_t> kOddRequest = {
    0x08, 0x00, 0x74, 0xad, 0xbe, 0xef, 0xff, 0xff, 0x61, 0x62, 0x63,
};
// scapy: ICMP(type=0,id=0xbeef,seq=0xffff)/Raw(b'abc')
const std::vector<std::uint8_t> kOddReply = {
    0x00, 0x00, 0x7c, 0xad, 0xbe, 0xef, 0xff, 0xff, 0x61, 0x62, 0x63,
};
// scapy: ICMP(type=8,id=0x1234,seq=0xedcb)
const std::vector<std::uint8_t> kZeroSumRequest = {
    0x08, 0x00, 0xf7, 0xff, 0x12, 0x34, 0xed, 0xcb,
};
// scapy: ICMP(type=0,id=0x1234,seq=0xedcb)
const std::vector<std::uint8_t> kZeroSumReply = {
    0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0xed, 0xcb,
};
// scapy: ICMP(type=3,code=4,nexthopmtu=1400)/Raw(b'\x45\x00\x05\xdc')
const std::vector<std::uint8_t> kUnreachable = {
    0x03, 0x04, 0xac, 0xa7, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00, 0x05, 0xdc,
};
// scapy: ICMP(type=8,id=1,seq=2,chksum=0xdead)/Raw(b'xyz')
const std::vector<std::uint8_t> kBadChecksum = {
    0x08, 0x00, 0xde, 0xad, 0x00, 0x01, 0x00, 0x02, 0x78, 0x79, 0x7a,
};

TEST(Icmp, ParsesEchoRequestInsideIpv4) {
  const auto ip = parse_ipv4_header(as_bytes(kPingPacket));
  ASSERT_TRUE(ip);
  ASSERT_EQ(ip->protocol, kIpProtoIcmp);
  const auto r = parse_icmp(as_bytes(kPingPacket).subspan(ip->header_len, ip->payload_len()));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->is_echo_request());
  EXPECT_EQ(r->code, 0);
  EXPECT_EQ(r->echo_id, 0x1234);
  EXPECT_EQ(r->echo_seq, 1);
  ASSERT_EQ(r->data.size(), 16U);
  EXPECT_EQ(r->data[0], std::byte{'k'});
  EXPECT_EQ(r->data[15], std::byte{'d'});
}

TEST(Icmp, ParsesDestinationUnreachable) {
  const auto r = parse_icmp(as_bytes(kUnreachable));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, kIcmpDestUnreachable);
  EXPECT_EQ(r->code, 4);
  EXPECT_EQ(r->echo_seq, 1400);  // next-hop MTU (RFC 1191) in the second half
  const auto view = icmp_packet::make(as_bytes(kUnreachable));
  ASSERT_TRUE(view);
  EXPECT_EQ(view->rest_of_header(), 1400U);
  EXPECT_EQ(view->data().size(), 4U);
}

TEST(Icmp, EmitsEchoReply) {
  const std::vector<std::uint8_t> payload{'k', 'b', 't', '-', 'p', 'i', 'n', 'g',
                                          '-', 'p', 'a', 'y', 'l', 'o', 'a', 'd'};
  icmp_repr r;
  r.type = kIcmpEchoReply;
  r.echo_id = 0x1234;
  r.echo_seq = 1;
  r.data = as_bytes(payload);
  std::vector<std::uint8_t> out(kReply.size() + 1, 0xee);
  const auto n = emit_icmp(r, writable(out));
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, kReply.size());
  EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.end() - 1), kReply);
  EXPECT_EQ(out.back(), 0xee) << "emit wrote past the message";
}

TEST(Icmp, EmitsOverItsOwnData) {
  // The reply built over the request's bytes, data already in place.
  auto buf = kOddRequest;
  auto r = parse_icmp(as_bytes(buf));
  ASSERT_TRUE(r);
  r->type = kIcmpEchoReply;
  ASSERT_TRUE(emit_icmp(*r, writable(buf)));
  EXPECT_EQ(buf, kOddReply);
}

TEST(Icmp, EmitRejectsShortBuffer) {
  const std::vector<std::uint8_t> payload(10);
  icmp_repr r;
  r.data = as_bytes(payload);
  std::vector<std::uint8_t> out(17);
  const auto n = emit_icmp(r, writable(out));
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), icmp_error::truncated);
}

TEST(Icmp, TurnsEchoRequestIntoReplyInPlace) {
  for (const auto& [request, reply] :
       {std::pair{kRequest, kReply}, std::pair{kOddRequest, kOddReply},
        std::pair{kZeroSumRequest, kZeroSumReply}}) {
    auto buf = request;
    ASSERT_TRUE(echo_request_to_reply(writable(buf)));
    EXPECT_EQ(buf, reply);
    EXPECT_TRUE(parse_icmp(as_bytes(buf)));
  }
}

TEST(Icmp, InPlaceReplyHandlesTheZeroChecksum) {
  // id + seq = 0xffff makes the reply's checksum 0x0000: RFC 1624 eqn. 3
  // must give that, not the other zero 0xffff.
  EXPECT_EQ(kZeroSumRequest[2], 0xf7);
  EXPECT_EQ(kZeroSumRequest[3], 0xff);
  EXPECT_EQ(kZeroSumReply[2], 0x00);
  EXPECT_EQ(kZeroSumReply[3], 0x00);
  auto buf = kZeroSumRequest;
  ASSERT_TRUE(echo_request_to_reply(writable(buf)));
  EXPECT_EQ(buf[2], 0x00);
  EXPECT_EQ(buf[3], 0x00);
}

TEST(Icmp, InPlaceReplyOfAnAllZeroEchoHasChecksumFfff) {
  // Id 0, seq 0, no data: the reply sums to zero, so its checksum is 0xffff
  // (fuzz_wire_frame's tests/fuzz/regressions/fuzz_wire_frame/icmp_echo_zero_id_seq_no_data).
  // The incremental update alone gives 0x0000, which Linux and our own
  // parser reject.
  std::vector<std::uint8_t> buf{8, 0, 0xf7, 0xff, 0, 0, 0, 0};
  ASSERT_TRUE(parse_icmp(as_bytes(buf))) << "the request itself is valid";
  ASSERT_TRUE(echo_request_to_reply(writable(buf)));
  EXPECT_EQ(buf[0], 0);
  EXPECT_EQ(buf[2], 0xff);
  EXPECT_EQ(buf[3], 0xff);
  EXPECT_TRUE(parse_icmp(as_bytes(buf)));
}

TEST(Icmp, InPlaceReplyRefusesOtherMessages) {
  auto reply = kReply;
  const auto r = echo_request_to_reply(writable(reply));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), icmp_error::not_echo_request);
  EXPECT_EQ(reply, kReply) << "a refused message must be left as it was";

  auto request = kRequest;
  const auto t = echo_request_to_reply(writable(request).first(7));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), icmp_error::truncated);
}

TEST(Icmp, RejectsEveryTruncatedPrefix) {
  for (std::size_t n = 0; n < kIcmpHeaderLen; ++n) {
    const auto r = parse_icmp(as_bytes(kRequest).first(n), false);
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), icmp_error::truncated) << n;
  }
}

TEST(Icmp, RejectsBadChecksumUnlessOffloaded) {
  const auto r = parse_icmp(as_bytes(kBadChecksum));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), icmp_error::bad_checksum);
  EXPECT_TRUE(parse_icmp(as_bytes(kBadChecksum), false));
  // The checksum covers the data too.
  auto damaged = kRequest;
  damaged.back() ^= 0x40;
  EXPECT_FALSE(parse_icmp(as_bytes(damaged)));
}

}  // namespace
}  // namespace kbt::wire
