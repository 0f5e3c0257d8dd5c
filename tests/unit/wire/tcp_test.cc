// TCP header parse/emit against IPv4/TCP packets made with scapy 2.5.0
// (Debian's python3-scapy, run by /usr/bin/python3); each vector is
// bytes(expression). The IPv4 header is kept so the pseudo-header addresses
// of the TCP checksum are in the vector too.
#include "wire/tcp.hh"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "test_env.hh"
#include "wire/ipv4.hh"

namespace kbt::wire {
namespace {

using kbt::test::as_bytes;

constexpr ipv4_addr kClient = ipv4_addr::from_octets(198, 18, 0, 1);
constexpr ipv4_addr kServer = ipv4_addr::from_octets(198, 18, 0, 2);

// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=0,flags='DF')/TCP(sport=40000,dport=80,flags='S',seq=1000,window=64240,options=[('MSS',1460),('SAckOK',b''),('Timestamp',(1,0)),('NOP',None),('WScale',7)])
const std::vector<std::uint8_t> kSyn = {
    0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xae, 0x94, 0xc6, 0x12, 0x00,
    0x01, 0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
    0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x20, 0x6e, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04,
    0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};
// scapy: IP(src='198.18.0.2',dst='198.18.0.1',id=0,flags='DF')/TCP(sport=80,dport=40000,flags='SA',seq=5000,ack=1001,window=65160,options=[('MSS',1460),('SAckOK',b''),('Timestamp',(100,1)),('NOP',None),('WScale',7)])
const std::vector<std::uint8_t> kSynAck = {
    0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xae, 0x94, 0xc6, 0x12, 0x00,
    0x02, 0xc6, 0x12, 0x00, 0x01, 0x00, 0x50, 0x9c, 0x40, 0x00, 0x00, 0x13, 0x88, 0x00, 0x00,
    0x03, 0xe9, 0xa0, 0x12, 0xfe, 0x88, 0x08, 0xd9, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04,
    0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x01, 0x01, 0x03, 0x03, 0x07,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=1,flags='DF')/TCP(sport=40000,dport=80,flags='PA',seq=1001,ack=5001,window=502,options=[('NOP',None),('NOP',None),('Timestamp',(2,100))])/Raw(b'GET / HTTP/1.1\r\n\r\n')
const std::vector<std::uint8_t> kData = {
    0x45, 0x00, 0x00, 0x46, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0xae, 0x89, 0xc6, 0x12,
    0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe9,
    0x00, 0x00, 0x13, 0x89, 0x80, 0x18, 0x01, 0xf6, 0x55, 0x7c, 0x00, 0x00, 0x01, 0x01,
    0x08, 0x0a, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x64, 0x47, 0x45, 0x54, 0x20,
    0x2f, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e, 0x31, 0x0d, 0x0a, 0x0d, 0x0a,
};
// scapy: IP(src='198.18.0.2',dst='198.18.0.1',id=2,flags='DF')/TCP(sport=80,dport=40000,flags='A',seq=5001,ack=1019,window=509,options=[('NOP',None),('NOP',None),('Timestamp',(101,2)),('NOP',None),('NOP',None),('SAck',(2000,3000,4000,5000))])
const std::vector<std::uint8_t> kSackAck = {
    0x45, 0x00, 0x00, 0x48, 0x00, 0x02, 0x40, 0x00, 0x40, 0x06, 0xae, 0x86, 0xc6, 0x12, 0x00,
    0x02, 0xc6, 0x12, 0x00, 0x01, 0x00, 0x50, 0x9c, 0x40, 0x00, 0x00, 0x13, 0x89, 0x00, 0x00,
    0x03, 0xfb, 0xd0, 0x10, 0x01, 0xfd, 0xa7, 0x45, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x00,
    0x00, 0x00, 0x65, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x05, 0x12, 0x00, 0x00, 0x07, 0xd0,
    0x00, 0x00, 0x0b, 0xb8, 0x00, 0x00, 0x0f, 0xa0, 0x00, 0x00, 0x13, 0x88,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=3)/TCP(sport=40000,dport=80,flags='FA',seq=0xfffffffe,ack=0x10,window=0)/Raw(b'zz')
const std::vector<std::uint8_t> kFinAcrossWrap = {
    0x45, 0x00, 0x00, 0x2a, 0x00, 0x03, 0x00, 0x00, 0x40, 0x06, 0xee, 0xa3, 0xc6, 0x12,
    0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0xff, 0xff, 0xff, 0xfe,
    0x00, 0x00, 0x00, 0x10, 0x50, 0x11, 0x00, 0x00, 0x0c, 0x90, 0x00, 0x00, 0x7a, 0x7a,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=4)/TCP(sport=1,dport=2,flags='FSRPAUEC',seq=1,ack=2,window=3,urgptr=0x1234)
const std::vector<std::uint8_t> kAllFlags = {
    0x45, 0x00, 0x00, 0x28, 0x00, 0x04, 0x00, 0x00, 0x40, 0x06, 0xee, 0xa4, 0xc6, 0x12,
    0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x02, 0x50, 0xff, 0x00, 0x03, 0x10, 0x81, 0x12, 0x34,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=5)/TCP(sport=40000,dport=80,flags='A',options=[(253,b'\x12\x34'),('MSS',1400)])
const std::vector<std::uint8_t> kUnknownOption = {
    0x45, 0x00, 0x00, 0x30, 0x00, 0x05, 0x00, 0x00, 0x40, 0x06, 0xee, 0x9b, 0xc6, 0x12, 0x00, 0x01,
    0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x70, 0x10, 0x20, 0x00, 0x30, 0x5f, 0x00, 0x00, 0xfd, 0x04, 0x12, 0x34, 0x02, 0x04, 0x05, 0x78,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=6)/TCP(sport=40000,dport=80,flags='A',dataofs=4)
const std::vector<std::uint8_t> kDataOffset4 = {
    0x45, 0x00, 0x00, 0x28, 0x00, 0x06, 0x00, 0x00, 0x40, 0x06, 0xee, 0xa2, 0xc6, 0x12,
    0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x40, 0x10, 0x20, 0x00, 0x77, 0x1c, 0x00, 0x00,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=7)/TCP(sport=40000,dport=80,flags='A',dataofs=15)/Raw(b'x'*8)
const std::vector<std::uint8_t> kDataOffsetPastSegment = {
    0x45, 0x00, 0x00, 0x30, 0x00, 0x07, 0x00, 0x00, 0x40, 0x06, 0xee, 0x99, 0xc6, 0x12, 0x00, 0x01,
    0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xf0, 0x10, 0x20, 0x00, 0xe5, 0x31, 0x00, 0x00, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=8)/TCP(sport=40000,dport=80,flags='A',chksum=0x1234)
const std::vector<std::uint8_t> kBadChecksum = {
    0x45, 0x00, 0x00, 0x28, 0x00, 0x08, 0x00, 0x00, 0x40, 0x06, 0xee, 0xa0, 0xc6, 0x12,
    0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x50, 0x10, 0x20, 0x00, 0x12, 0x34, 0x00, 0x00,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=9)/TCP(sport=40000,dport=80,flags='A',dataofs=6)/Raw(b'\x01\x01\x08\x00')
const std::vector<std::uint8_t> kOptionLengthZero = {
    0x45, 0x00, 0x00, 0x2c, 0x00, 0x09, 0x00, 0x00, 0x40, 0x06, 0xee, 0x9b, 0xc6, 0x12, 0x00,
    0x01, 0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x60, 0x10, 0x20, 0x00, 0x4e, 0x17, 0x00, 0x00, 0x01, 0x01, 0x08, 0x00,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=10)/TCP(sport=40000,dport=80,flags='A',dataofs=6)/Raw(b'\x01\x01\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02')
const std::vector<std::uint8_t> kOptionPastHeader = {
    0x45, 0x00, 0x00, 0x34, 0x00, 0x0a, 0x00, 0x00, 0x40, 0x06, 0xee, 0x92, 0xc6,
    0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x10, 0x20, 0x00, 0x4e, 0x02, 0x00,
    0x00, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
};
// scapy: IP(src='198.18.0.1',dst='198.18.0.2',id=11)/TCP(sport=40000,dport=80,flags='S',options=[(2,b'\x05')])
const std::vector<std::uint8_t> kMssWrongLength = {
    0x45, 0x00, 0x00, 0x2c, 0x00, 0x0b, 0x00, 0x00, 0x40, 0x06, 0xee, 0x99, 0xc6, 0x12, 0x00,
    0x01, 0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x60, 0x02, 0x20, 0x00, 0x50, 0x23, 0x00, 0x00, 0x02, 0x03, 0x05, 0x00,
};

// The TCP segment of an IPv4 vector (all have a 20-byte IPv4 header).
std::span<const std::byte> segment_of(const std::vector<std::uint8_t>& packet) {
  return as_bytes(packet).subspan(kIpv4MinHeaderLen);
}

result<tcp_repr, tcp_error> parse(const std::vector<std::uint8_t>& packet, bool verify = true) {
  const auto ip = parse_ipv4_header(as_bytes(packet));
  EXPECT_TRUE(ip);
  EXPECT_EQ(ip->protocol, kIpProtoTcp);
  return parse_tcp(segment_of(packet), ip->src, ip->dst, verify);
}

tcp_error parse_error(const std::vector<std::uint8_t>& packet, bool verify = true) {
  const auto r = parse(packet, verify);
  EXPECT_FALSE(r);
  return r ? tcp_error{255} : r.error();
}

// Emits IPv4 + TCP for `tcp` and `payload` into one buffer, as the stack does.
std::vector<std::uint8_t> emit_packet(const ipv4_repr& ip_in, const tcp_repr& tcp,
                                      const std::vector<std::uint8_t>& payload,
                                      tx_checksum mode = tx_checksum::full) {
  std::vector<std::uint8_t> out(kIpv4MinHeaderLen + kTcpMaxHeaderLen + payload.size());
  const auto bytes = std::as_writable_bytes(std::span(out));
  const std::size_t tcp_len = tcp_header_len(tcp);
  ipv4_repr ip = ip_in;
  ip.total_length = static_cast<std::uint16_t>(kIpv4MinHeaderLen + tcp_len + payload.size());
  EXPECT_TRUE(emit_ipv4_header(ip, tx_checksum::full, bytes));
  const auto n =
      emit_tcp(tcp, ip.src, ip.dst, as_bytes(payload), mode, bytes.subspan(kIpv4MinHeaderLen));
  EXPECT_TRUE(n);
  EXPECT_EQ(n.value_or(0), tcp_len);
  std::copy(payload.begin(), payload.end(), out.begin() + kIpv4MinHeaderLen + tcp_len);
  out.resize(ip.total_length);
  return out;
}

ipv4_repr ip_of(const std::vector<std::uint8_t>& packet) {
  return parse_ipv4_header(as_bytes(packet)).value();
}

TEST(Tcp, ParsesSyn) {
  const auto r = parse(kSyn);
  ASSERT_TRUE(r) << static_cast<int>(r.error());
  EXPECT_EQ(r->src_port, 40000);
  EXPECT_EQ(r->dst_port, 80);
  EXPECT_EQ(r->seq, seq32{1000});
  EXPECT_EQ(r->ack, seq32{0});
  EXPECT_EQ(r->flags, tcp_flag::kSyn);
  EXPECT_EQ(r->window, 64240);
  EXPECT_EQ(r->header_len, 40);
  EXPECT_EQ(r->payload_offset, 40);
  EXPECT_EQ(r->payload_len, 0);
  EXPECT_EQ(r->seg_len(), 1U);
  EXPECT_EQ(r->options.mss, 1460);
  EXPECT_EQ(r->options.window_scale, 7);
  EXPECT_TRUE(r->options.sack_permitted);
  EXPECT_EQ(r->options.timestamps, (tcp_timestamps{1, 0}));
}

TEST(Tcp, ParsesSynAck) {
  const auto r = parse(kSynAck);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->src_port, 80);
  EXPECT_EQ(r->seq, seq32{5000});
  EXPECT_EQ(r->ack, seq32{1001});
  EXPECT_TRUE(r->has(tcp_flag::kSyn));
  EXPECT_TRUE(r->has(tcp_flag::kAck));
  EXPECT_FALSE(r->has(tcp_flag::kFin));
  EXPECT_EQ(r->window, 65160);
  EXPECT_EQ(r->options.timestamps, (tcp_timestamps{100, 1}));
}

TEST(Tcp, ParsesDataSegment) {
  const auto r = parse(kData);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->flags, tcp_flag::kPsh | tcp_flag::kAck);
  EXPECT_EQ(r->header_len, 32);
  EXPECT_EQ(r->payload_offset, 32);
  EXPECT_EQ(r->payload_len, 18);
  EXPECT_EQ(r->seg_len(), 18U);
  EXPECT_EQ(r->options.timestamps, (tcp_timestamps{2, 100}));
  EXPECT_FALSE(r->options.mss);
  const auto view = tcp_segment::make(segment_of(kData));
  ASSERT_TRUE(view);
  ASSERT_EQ(view->payload().size(), 18U);
  EXPECT_EQ(view->payload()[0], std::byte{'G'});
}

TEST(Tcp, ParsesSackBlocks) {
  const auto r = parse(kSackAck);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->options.sack_count, 2);
  EXPECT_EQ(r->options.sack_blocks[0], (sack_block{seq32{2000}, seq32{3000}}));
  EXPECT_EQ(r->options.sack_blocks[1], (sack_block{seq32{4000}, seq32{5000}}));
}

TEST(Tcp, ParsesSequenceNumbersAcrossTheWrap) {
  const auto r = parse(kFinAcrossWrap);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->seq, seq32{0xfffffffe});
  EXPECT_EQ(r->window, 0);
  EXPECT_EQ(r->seg_len(), 3U);  // two bytes and the FIN
  EXPECT_EQ(r->seq + r->seg_len(), seq32{1});
  EXPECT_LT(r->seq, r->ack);
}

TEST(Tcp, ParsesEveryFlagAndUrgentPointer) {
  const auto r = parse(kAllFlags);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->flags, 0xff);
  for (auto f : {tcp_flag::kFin, tcp_flag::kSyn, tcp_flag::kRst, tcp_flag::kPsh, tcp_flag::kAck,
                 tcp_flag::kUrg, tcp_flag::kEce, tcp_flag::kCwr}) {
    EXPECT_TRUE(r->has(f)) << int{f};
  }
  EXPECT_EQ(r->urgent, 0x1234);
  EXPECT_EQ(r->window, 3);
}

TEST(Tcp, SkipsUnknownOptions) {
  const auto r = parse(kUnknownOption);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->options.mss, 1400);
}

TEST(Tcp, EmitsSynAndSynAck) {
  tcp_repr syn;
  syn.src_port = 40000;
  syn.dst_port = 80;
  syn.seq = seq32{1000};
  syn.flags = tcp_flag::kSyn;
  syn.window = 64240;
  syn.options.mss = 1460;
  syn.options.sack_permitted = true;
  syn.options.timestamps = tcp_timestamps{1, 0};
  syn.options.window_scale = 7;
  EXPECT_EQ(emit_packet(ip_of(kSyn), syn, {}), kSyn);

  tcp_repr synack = syn;
  synack.src_port = 80;
  synack.dst_port = 40000;
  synack.seq = seq32{5000};
  synack.ack = seq32{1001};
  synack.flags = tcp_flag::kSyn | tcp_flag::kAck;
  synack.window = 65160;
  synack.options.timestamps = tcp_timestamps{100, 1};
  EXPECT_EQ(emit_packet(ip_of(kSynAck), synack, {}), kSynAck);
}

TEST(Tcp, EmitsDataAndSackSegments) {
  const std::vector<std::uint8_t> payload{'G', 'E', 'T', ' ', '/', ' ',  'H',  'T',  'T',
                                          'P', '/', '1', '.', '1', '\r', '\n', '\r', '\n'};
  tcp_repr data;
  data.src_port = 40000;
  data.dst_port = 80;
  data.seq = seq32{1001};
  data.ack = seq32{5001};
  data.flags = tcp_flag::kPsh | tcp_flag::kAck;
  data.window = 502;
  data.options.timestamps = tcp_timestamps{2, 100};
  EXPECT_EQ(emit_packet(ip_of(kData), data, payload), kData);

  const auto sack = parse(kSackAck);
  ASSERT_TRUE(sack);
  EXPECT_EQ(emit_packet(ip_of(kSackAck), *sack, {}), kSackAck);
  const auto fin = parse(kFinAcrossWrap);
  ASSERT_TRUE(fin);
  EXPECT_EQ(emit_packet(ip_of(kFinAcrossWrap), *fin, {'z', 'z'}), kFinAcrossWrap);
  const auto all = parse(kAllFlags);
  ASSERT_TRUE(all);
  EXPECT_EQ(emit_packet(ip_of(kAllFlags), *all, {}), kAllFlags);
}

TEST(Tcp, EmitsHeaderApartFromPayload) {
  // Zero copy: the header goes into its own buffer, the payload stays where
  // it is, and the checksum still covers both.
  const auto r = parse(kData);
  ASSERT_TRUE(r);
  std::vector<std::uint8_t> header(kTcpMaxHeaderLen, 0xee);
  const auto n = emit_tcp(*r, kClient, kServer, segment_of(kData).subspan(r->header_len),
                          tx_checksum::full, std::as_writable_bytes(std::span(header)));
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 32U);
  EXPECT_EQ(std::vector<std::uint8_t>(header.begin(), header.begin() + 32),
            std::vector<std::uint8_t>(kData.begin() + 20, kData.begin() + 52));
  EXPECT_EQ(header[32], 0xee) << "emit wrote past the header";
}

TEST(Tcp, EmitsPseudoHeaderSumForOffload) {
  const auto r = parse(kData);
  ASSERT_TRUE(r);
  std::vector<std::uint8_t> header(kTcpMaxHeaderLen);
  ASSERT_TRUE(emit_tcp(*r, kClient, kServer, segment_of(kData).subspan(r->header_len),
                       tx_checksum::offload, std::as_writable_bytes(std::span(header))));
  // scapy: ~checksum(in4_pseudoheader(6, IP(src='198.18.0.1',dst='198.18.0.2')/TCP(), 50)) & 0xffff
  constexpr std::uint16_t kPseudoSum = 0x8c60;
  EXPECT_EQ((header[16] << 8) | header[17], kPseudoSum);
  // Everything else matches the fully checksummed header.
  header[16] = kData[36];
  header[17] = kData[37];
  EXPECT_EQ(std::vector<std::uint8_t>(header.begin(), header.begin() + 32),
            std::vector<std::uint8_t>(kData.begin() + 20, kData.begin() + 52));
}

TEST(Tcp, EmitRejectsShortBuffer) {
  tcp_repr r;
  r.options.mss = 1460;
  std::vector<std::uint8_t> out(23);
  const auto n =
      emit_tcp(r, kClient, kServer, {}, tx_checksum::full, std::as_writable_bytes(std::span(out)));
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), tcp_error::truncated);
}

TEST(Tcp, RejectsEveryTruncatedPrefix) {
  for (std::size_t n = 0; n < kTcpMinHeaderLen; ++n) {
    const auto r = parse_tcp(segment_of(kSyn).first(n), kClient, kServer, false);
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), tcp_error::truncated) << n;
  }
  // Past 20 bytes a cut header is a data offset that overruns the segment.
  for (std::size_t n = kTcpMinHeaderLen; n < 40; ++n) {
    const auto r = parse_tcp(segment_of(kSyn).first(n), kClient, kServer, false);
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), tcp_error::bad_data_offset) << n;
  }
}

TEST(Tcp, RejectsBadDataOffset) {
  EXPECT_EQ(parse_error(kDataOffset4), tcp_error::bad_data_offset);
  EXPECT_EQ(parse_error(kDataOffsetPastSegment), tcp_error::bad_data_offset);
}

TEST(Tcp, RejectsBadChecksumUnlessOffloaded) {
  EXPECT_EQ(parse_error(kBadChecksum), tcp_error::bad_checksum);
  EXPECT_TRUE(parse(kBadChecksum, false));
  // The pseudo-header counts: the right segment under the wrong address fails.
  EXPECT_FALSE(parse_tcp(segment_of(kSyn), kClient, ipv4_addr::from_octets(198, 18, 0, 3)));
  // So does the payload.
  auto damaged = kData;
  damaged.back() ^= 0x20;
  EXPECT_EQ(parse_error(damaged), tcp_error::bad_checksum);
}

TEST(Tcp, RejectsBadOptions) {
  EXPECT_EQ(parse_error(kOptionLengthZero), tcp_error::bad_option);
  EXPECT_EQ(parse_error(kOptionPastHeader), tcp_error::bad_option);
  EXPECT_EQ(parse_error(kMssWrongLength), tcp_error::bad_option);
  // The option bytes past a 24-byte header are payload, not options.
  const auto view = tcp_segment::make(segment_of(kOptionPastHeader));
  ASSERT_TRUE(view);
  EXPECT_EQ(view->options().size(), 4U);
  EXPECT_EQ(view->payload().size(), 8U);
}

TEST(Tcp, ChecksKeepTheirOrder) {
  // A bad checksum is reported before a bad option...
  auto both = kOptionLengthZero;
  both[20 + 16] ^= 0xff;
  EXPECT_EQ(parse_error(both), tcp_error::bad_checksum);
  // ...and a bad data offset before a bad checksum.
  auto offset = kBadChecksum;
  offset[20 + 12] = 0x40;
  EXPECT_EQ(parse_error(offset), tcp_error::bad_data_offset);
}

}  // namespace
}  // namespace kbt::wire
