// kbt-echo's pieces that need no stack: the summary line a connection ends
// with (what bench/kbt_side.sh and the interop tests read) and the
// --connect IPV4:PORT parser, and when a session sends more and closes
// (echo_close.hh).
#include <gtest/gtest.h>

#include <string>

#include "common/endpoint.hh"
#include "kbt-echo/echo_close.hh"
#include "kbt-echo/echo_report.hh"

namespace kbt::apps {
namespace {

constexpr auto kPeer = wire::ipv4_addr::from_octets(198, 18, 0, 3);

// ---- the summary line

TEST(EchoReport, GbitPerSecondIsBitsPerNanosecond) {
  EXPECT_DOUBLE_EQ(gbit_per_s(1'000'000'000, 8'000'000'000), 1.0);
  EXPECT_DOUBLE_EQ(gbit_per_s(125, 1000), 1.0);
  EXPECT_DOUBLE_EQ(gbit_per_s(12345, 0), 0.0);  // no time: no rate, no division by zero
}

TEST(EchoReport, ServerDiscardLineKeepsItsFieldsInOrder) {
  session_summary s;
  s.mode = echo_mode::discard;
  s.peer_ip = kPeer;
  s.peer_port = 40001;
  s.bytes = 1'000'000;
  s.ns = 10'000'000;
  s.sha256 = "ab12";
  EXPECT_EQ(format_summary(s),
            "kbt-echo: discard 198.18.0.3:40001 bytes=1000000 seconds=0.010000 gbit_s=0.800 "
            "reason=normal sha256=ab12");
}

TEST(EchoReport, ClientLineSaysClientAndHowItEnded) {
  session_summary s;
  s.mode = echo_mode::source;
  s.client = true;
  s.peer_ip = wire::ipv4_addr::from_octets(198, 18, 0, 2);
  s.peer_port = 9;
  s.bytes = 0;
  s.ns = 0;
  s.reason = tcp::close_reason::reset;
  EXPECT_EQ(format_summary(s),
            "kbt-echo: client source 198.18.0.2:9 bytes=0 seconds=0.000000 gbit_s=0.000 "
            "reason=reset");
}

TEST(EchoReport, EveryReasonAndModeHasAName) {
  for (auto r : {tcp::close_reason::normal, tcp::close_reason::reset, tcp::close_reason::timeout,
                 tcp::close_reason::refused, tcp::close_reason::aborted}) {
    EXPECT_NE(tcp::to_string(r), "?");
  }
  EXPECT_EQ(mode_name(echo_mode::echo), "echo");
  EXPECT_EQ(mode_name(echo_mode::discard), "discard");
  EXPECT_EQ(mode_name(echo_mode::source), "source");
}

// ---- half-close: the peer's FIN ends only the peer's direction (RFC 9293 §3.6)

TEST(EchoHalfClose, SourceWithBytesKeepsSendingAfterThePeersFin) {
  source_progress p{.limit = 100'000'000, .queued = 261'040, .peer_fin = true};
  EXPECT_EQ(source_left(p, 2008), 100'000'000u - 261'040u);
  EXPECT_FALSE(source_done(p));
  p.queued = p.limit;  // every byte queued: now the FIN
  EXPECT_EQ(source_left(p, 2008), 0u);
  EXPECT_TRUE(source_done(p));
}

TEST(EchoHalfClose, SourceWithBytesEndsAtItsLimitWithoutAFin) {
  source_progress p{.limit = 5000, .queued = 4999};
  EXPECT_FALSE(source_done(p));
  EXPECT_EQ(source_left(p, 2008), 1u);
  p.queued = 5000;
  EXPECT_TRUE(source_done(p));
}

TEST(EchoHalfClose, SourceWithoutBytesRunsUntilThePeersFin) {
  source_progress p{.limit = 0, .queued = 1'000'000};
  EXPECT_EQ(source_left(p, 2008), 2008u);  // one more buffer, forever
  EXPECT_FALSE(source_done(p));
  p.peer_fin = true;
  EXPECT_EQ(source_left(p, 2008), 0u);
  EXPECT_TRUE(source_done(p));
}

TEST(EchoHalfClose, StopEndsASourceAtOnce) {
  const source_progress p{.limit = 5000, .queued = 10, .stop = true};
  EXPECT_EQ(source_left(p, 2008), 0u);
  EXPECT_TRUE(source_done(p));
}

TEST(EchoHalfClose, EchoClosesOnlyOnceEverythingBeforeTheFinIsEchoed) {
  EXPECT_FALSE(echo_done(false, false, false, 0));  // the peer still talks
  EXPECT_FALSE(echo_done(true, false, true, 0));    // an echo waits for send room
  EXPECT_FALSE(echo_done(true, false, false, 10));  // bytes not read yet (paused)
  EXPECT_TRUE(echo_done(true, false, false, 0));
  EXPECT_TRUE(echo_done(false, true, false, 0));    // the client's stop
}

// ---- --connect IPV4:PORT

TEST(EchoEndpoint, ParsesAddressAndPort) {
  std::string why;
  const auto e = parse_endpoint("198.18.0.2:9", why);
  ASSERT_TRUE(e) << why;
  EXPECT_EQ(e->ip, wire::ipv4_addr::from_octets(198, 18, 0, 2));
  EXPECT_EQ(e->port, 9);
  ASSERT_TRUE(parse_endpoint("10.0.0.1:65535", why));
}

TEST(EchoEndpoint, RefusesWhatIsNotIpv4ColonPort) {
  const char* bad[] = {"198.18.0.2",   "198.18.0.2:",  "198.18.0.2:0",  "198.18.0.2:65536",
                       "198.18.0.2:9x", "host:80",     ":80",           "198.18.0.300:80",
                       "0.0.0.0:80",    "198.18.0.2:-1", ""};
  for (const char* text : bad) {
    std::string why;
    EXPECT_FALSE(parse_endpoint(text, why)) << text;
    EXPECT_FALSE(why.empty()) << text;
  }
}

}  // namespace
}  // namespace kbt::apps
