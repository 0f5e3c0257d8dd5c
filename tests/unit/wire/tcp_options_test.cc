// TCP option parse/emit against option bytes made with scapy 2.5.0 (Debian's
// python3-scapy, run by /usr/bin/python3); each vector is the expression's
// value: the option bytes of a scapy TCP header (bytes after offset 20).
#include "wire/tcp_options.hh"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "test_env.hh"

namespace kbt::wire {
namespace {

using kbt::test::as_bytes;

// scapy: bytes(TCP(options=[('MSS',1460),('SAckOK',b''),('Timestamp',(1,0)),('NOP',None),('WScale',7)]))[20:]
const std::vector<std::uint8_t> kSyn = {
    0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};
// scapy: bytes(TCP(options=[('MSS',1460),('NOP',None),('NOP',None),('SAckOK',b''),('NOP',None),('WScale',7)]))[20:]
const std::vector<std::uint8_t> kSynNoTimestamps = {
    0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07,
};
// scapy: bytes(TCP(options=[('MSS',8960),('NOP',None),('WScale',14)]))[20:]
const std::vector<std::uint8_t> kSynMssWscale = {
    0x02, 0x04, 0x23, 0x00, 0x01, 0x03, 0x03, 0x0e,
};
// scapy: bytes(TCP(options=[('NOP',None),('NOP',None),('Timestamp',(0xfffffff0,123456))]))[20:]
const std::vector<std::uint8_t> kData = {
    0x01, 0x01, 0x08, 0x0a, 0xff, 0xff, 0xff, 0xf0, 0x00, 0x01, 0xe2, 0x40,
};
// scapy: bytes(TCP(options=[('NOP',None),('NOP',None),('Timestamp',(1000,2000)),('NOP',None),('NOP',None),('SAck',(3000,4000,0xfffffff0,0x10,7000,8000))]))[20:]
const std::vector<std::uint8_t> kSackThree = {
    0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07, 0xd0, 0x01, 0x01,
    0x05, 0x1a, 0x00, 0x00, 0x0b, 0xb8, 0x00, 0x00, 0x0f, 0xa0, 0xff, 0xff, 0xff, 0xf0,
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x1b, 0x58, 0x00, 0x00, 0x1f, 0x40,
};
// scapy: bytes(TCP(options=[('NOP',None),('NOP',None),('SAck',(1,2,3,4,5,6,7,8))]))[20:]
const std::vector<std::uint8_t> kSackFour = {
    0x01, 0x01, 0x05, 0x22, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05,
    0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08,
};
// scapy: bytes(TCP(options=[(253,b'\x12\x34\x56'),('MSS',1400)]))[20:]
const std::vector<std::uint8_t> kUnknownThenMss = {
    0xfd, 0x05, 0x12, 0x34, 0x56, 0x02, 0x04, 0x05, 0x78, 0x00, 0x00, 0x00,
};
// scapy: bytes(TCP(options=[('MSS',1460),('EOL',None)]))[20:]+b'\x02\x00\x00'
const std::vector<std::uint8_t> kEolThenJunk = {
    0x02, 0x04, 0x05, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
};
// scapy: bytes(TCP(dataofs=6)/Raw(b'\x01\x01\x08\x00'))[20:]
const std::vector<std::uint8_t> kZeroLength = {
    0x01,
    0x01,
    0x08,
    0x00,
};
// scapy: bytes(TCP(dataofs=6)/Raw(b'\x01\xfe\x01\x00'))[20:]
const std::vector<std::uint8_t> kLengthOne = {
    0x01,
    0xfe,
    0x01,
    0x00,
};
// scapy: bytes(TCP(options=[('Timestamp',(1,2))]))[20:28]
const std::vector<std::uint8_t> kPastEnd = {
    0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
};
// scapy: bytes(TCP(options=[('NOP',None),('NOP',None),('NOP',None),('MSS',1460)]))[20:24]
const std::vector<std::uint8_t> kNoLengthByte = {
    0x01,
    0x01,
    0x01,
    0x02,
};
// scapy: bytes(TCP(options=[(2,b'\x05')]))[20:]
const std::vector<std::uint8_t> kMssLength3 = {
    0x02,
    0x03,
    0x05,
    0x00,
};
// scapy: bytes(TCP(options=[(3,b'\x07\x00')]))[20:]
const std::vector<std::uint8_t> kWscaleLength4 = {
    0x03,
    0x04,
    0x07,
    0x00,
};
// scapy: bytes(TCP(options=[(4,b'\x00')]))[20:]
const std::vector<std::uint8_t> kSackPermLength3 = {
    0x04,
    0x03,
    0x00,
    0x00,
};
// scapy: bytes(TCP(options=[(8,b'')]))[20:]
const std::vector<std::uint8_t> kTimestampsLength2 = {
    0x08,
    0x02,
    0x00,
    0x00,
};
// scapy: bytes(TCP(options=[(5,b'\x00'*4)]))[20:]
const std::vector<std::uint8_t> kSackLength6 = {
    0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

std::vector<std::uint8_t> emit(const tcp_options& opts) {
  std::vector<std::uint8_t> out(kTcpMaxOptionsLen, 0xee);
  const auto n = emit_tcp_options(opts, std::as_writable_bytes(std::span(out)));
  EXPECT_TRUE(n);
  EXPECT_EQ(n.value_or(0), tcp_options_len(opts));
  out.resize(n.value_or(0));
  return out;
}

tcp_option_error parse_error(const std::vector<std::uint8_t>& bytes) {
  const auto r = parse_tcp_options(as_bytes(bytes));
  EXPECT_FALSE(r);
  return r ? tcp_option_error{255} : r.error();
}

TEST(TcpOptions, ParsesLinuxSyn) {
  const auto r = parse_tcp_options(as_bytes(kSyn));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mss, 1460);
  EXPECT_EQ(r->window_scale, 7);
  EXPECT_TRUE(r->sack_permitted);
  ASSERT_TRUE(r->timestamps);
  EXPECT_EQ(r->timestamps->tsval, 1U);
  EXPECT_EQ(r->timestamps->tsecr, 0U);
  EXPECT_EQ(r->sack_count, 0);
}

TEST(TcpOptions, ParsesSynWithoutTimestamps) {
  const auto r = parse_tcp_options(as_bytes(kSynNoTimestamps));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mss, 1460);
  EXPECT_EQ(r->window_scale, 7);
  EXPECT_TRUE(r->sack_permitted);
  EXPECT_FALSE(r->timestamps);

  const auto m = parse_tcp_options(as_bytes(kSynMssWscale));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mss, 8960);
  EXPECT_EQ(m->window_scale, 14);
  EXPECT_FALSE(m->sack_permitted);
}

TEST(TcpOptions, ParsesTimestampsAndSack) {
  const auto d = parse_tcp_options(as_bytes(kData));
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->mss);
  ASSERT_TRUE(d->timestamps);
  EXPECT_EQ(d->timestamps->tsval, 0xfffffff0U);
  EXPECT_EQ(d->timestamps->tsecr, 123456U);

  const auto s = parse_tcp_options(as_bytes(kSackThree));
  ASSERT_TRUE(s);
  ASSERT_EQ(s->sacks().size(), 3U);
  EXPECT_EQ(s->sacks()[0], (sack_block{seq32{3000}, seq32{4000}}));
  EXPECT_EQ(s->sacks()[1], (sack_block{seq32{0xfffffff0}, seq32{0x10}}));
  EXPECT_EQ(s->sacks()[2], (sack_block{seq32{7000}, seq32{8000}}));
  EXPECT_EQ(s->timestamps, (tcp_timestamps{1000, 2000}));

  const auto f = parse_tcp_options(as_bytes(kSackFour));
  ASSERT_TRUE(f);
  ASSERT_EQ(f->sack_count, 4);
  EXPECT_EQ(f->sack_blocks[3], (sack_block{seq32{7}, seq32{8}}));
}

TEST(TcpOptions, SkipsUnknownOptionsByLength) {
  const auto r = parse_tcp_options(as_bytes(kUnknownThenMss));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mss, 1400);
}

TEST(TcpOptions, StopsAtEndOfOptionList) {
  // What follows EOL (here a zero-length option) is not read.
  const auto r = parse_tcp_options(as_bytes(kEolThenJunk));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mss, 1460);
}

TEST(TcpOptions, RejectsLengthBelowTwo) {
  EXPECT_EQ(parse_error(kZeroLength), tcp_option_error::bad_length);
  EXPECT_EQ(parse_error(kLengthOne), tcp_option_error::bad_length);
}

TEST(TcpOptions, RejectsOptionRunningPastTheHeader) {
  EXPECT_EQ(parse_error(kPastEnd), tcp_option_error::runs_past_end);
  EXPECT_EQ(parse_error(kNoLengthByte), tcp_option_error::runs_past_end);
  // Every cut of a valid list that splits an option is caught.
  for (std::size_t n : {1U, 3U, 5U, 11U, 15U, 19U}) {
    const auto r = parse_tcp_options(as_bytes(kSyn).first(n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), tcp_option_error::runs_past_end) << n;
  }
}

TEST(TcpOptions, RejectsKnownOptionsWithWrongLength) {
  for (const auto* bytes :
       {&kMssLength3, &kWscaleLength4, &kSackPermLength3, &kTimestampsLength2, &kSackLength6}) {
    EXPECT_EQ(parse_error(*bytes), tcp_option_error::wrong_length);
  }
}

TEST(TcpOptions, EmitsLinuxSynLayout) {
  tcp_options o;
  o.mss = 1460;
  o.sack_permitted = true;
  o.timestamps = tcp_timestamps{1, 0};
  o.window_scale = 7;
  EXPECT_EQ(emit(o), kSyn);

  o.timestamps.reset();
  EXPECT_EQ(emit(o), kSynNoTimestamps);

  tcp_options m;
  m.mss = 8960;
  m.window_scale = 14;
  EXPECT_EQ(emit(m), kSynMssWscale);
}

TEST(TcpOptions, EmitsDataAndSackLayout) {
  tcp_options d;
  d.timestamps = tcp_timestamps{0xfffffff0, 123456};
  EXPECT_EQ(emit(d), kData);

  tcp_options s;
  s.timestamps = tcp_timestamps{1000, 2000};
  s.sack_blocks = {sack_block{seq32{3000}, seq32{4000}}, sack_block{seq32{0xfffffff0}, seq32{0x10}},
                   sack_block{seq32{7000}, seq32{8000}}, sack_block{seq32{9000}, seq32{9500}}};
  s.sack_count = 4;
  // Only three blocks fit beside timestamps (RFC 2018 §3); the fourth is left out.
  EXPECT_EQ(tcp_options_len(s), 40U);
  EXPECT_EQ(emit(s), kSackThree);

  s.timestamps.reset();
  s.sack_blocks = {sack_block{seq32{1}, seq32{2}}, sack_block{seq32{3}, seq32{4}},
                   sack_block{seq32{5}, seq32{6}}, sack_block{seq32{7}, seq32{8}}};
  EXPECT_EQ(emit(s), kSackFour);
}

TEST(TcpOptions, EmitsNothingForNoOptions) {
  EXPECT_EQ(tcp_options_len(tcp_options{}), 0U);
  EXPECT_TRUE(emit(tcp_options{}).empty());
}

TEST(TcpOptions, EmitRejectsShortBuffer) {
  tcp_options o;
  o.mss = 1460;
  o.window_scale = 7;
  std::vector<std::uint8_t> out(7);
  const auto n = emit_tcp_options(o, std::as_writable_bytes(std::span(out)));
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), tcp_option_error::runs_past_end);
}

TEST(TcpOptions, RoundTrips) {
  for (const auto* bytes :
       {&kSyn, &kSynNoTimestamps, &kSynMssWscale, &kData, &kSackThree, &kSackFour}) {
    const auto r = parse_tcp_options(as_bytes(*bytes));
    ASSERT_TRUE(r);
    EXPECT_EQ(emit(*r), *bytes);
  }
}

}  // namespace
}  // namespace kbt::wire
