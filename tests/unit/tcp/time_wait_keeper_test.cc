// time_wait_keeper (tcp/time_wait.hh) by itself, with no tcp_layer: what a
// record answers (RFC 9293 §3.10.7.4 TIME-WAIT, RFC 1337, RFC 6191, RFC 5961
// §7), and what it gives back when it ends (the state gauge, a pool port).
// tests/unit/tcp/states/time_wait_test.cc drives the same through the layer.
#include "tcp/time_wait.hh"

#include <gtest/gtest.h>

#include <vector>

#include "base/rss_table.hh"
#include "control_rig.hh"

namespace kbt::tcp::test {
namespace {

using wire::ipv4_addr;
using wire::seq32;
namespace flag = wire::tcp_flag;

constexpr auto kTw = static_cast<std::size_t>(tcp_state::time_wait);
const ipv4_addr kFirstSource = ipv4_addr::from_octets(198, 18, 0, 1);
const ipv4_addr kPeer = ipv4_addr::from_octets(198, 18, 0, 2);
constexpr base::instant kNow = base::instant_from_ns(10 * kSec);

using sent_packet = support::segment_header;

class TimeWaitKeeper : public ::testing::Test, protected control_rig {
 protected:
  TimeWaitKeeper()
      : _rss(1),
        _ports(&_rss, 0, 40000, 40015, {kFirstSource, 2}, kFirstSource) {
    _config.max_time_wait = 2;
  }

  time_wait_keeper& keeper() {
    if (!_keeper) {
      _keeper = std::make_unique<time_wait_keeper>(_config, _control, _ts, _ports, _counters);
    }
    return *_keeper;
  }

  time_wait_record record(std::uint16_t local_port) const {
    time_wait_record r;
    r.tuple = {kFirstSource, kPeer, local_port, 5555};
    r.snd_nxt = seq32{1001};
    r.rcv_nxt = seq32{7001};
    r.window = 100;
    return r;
  }

  std::vector<sent_packet> sent() { return sent_headers(); }

  tcp_config _config;
  ts_clock _ts;
  base::rss_table _rss;
  source_ports _ports;
  std::unique_ptr<time_wait_keeper> _keeper;
};

wire::tcp_repr segment(std::uint8_t flags, std::uint32_t seq) {
  wire::tcp_repr s;
  s.src_port = 5555;
  s.dst_port = 80;
  s.flags = flags;
  s.seq = seq32{seq};
  return s;
}

TEST_F(TimeWaitKeeper, EnteringCountsInTheGaugeAndAFullTableIsCountedAsOverflow) {
  EXPECT_TRUE(keeper().enter(record(80), kNow));
  EXPECT_TRUE(keeper().enter(record(81), kNow));
  EXPECT_FALSE(keeper().enter(record(82), kNow)) << "capacity 2";
  EXPECT_EQ(_counters.states[kTw].get(), 2U);
  EXPECT_EQ(_counters.time_wait_overflow.get(), 1U);
  EXPECT_EQ(keeper().table().size(), 2U);
}

// RFC 9293 §3.10.7.4: a retransmitted FIN is acknowledged with the record's
// numbers, and the 2 MSL start again.
TEST_F(TimeWaitKeeper, ARetransmittedFinIsAckedAndRestartsTwoMsl) {
  ASSERT_TRUE(keeper().enter(record(80), kNow));
  time_wait_record* r = keeper().find(record(80).tuple);
  ASSERT_NE(r, nullptr);
  const base::instant later = kNow + base::nanos{50 * kSec};
  EXPECT_EQ(keeper().input(*r, segment(flag::kFin | flag::kAck, 7000), nullptr, later),
            time_wait_verdict::done);
  const auto s = sent();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].flags, flag::kAck);
  EXPECT_EQ(s[0].seq, 1001U);
  EXPECT_EQ(s[0].ack, 7001U);
  keeper().expire(kNow + 2 * _config.msl);
  EXPECT_NE(keeper().find(record(80).tuple), nullptr) << "restarted at `later`";
  keeper().expire(later + 2 * _config.msl);
  EXPECT_EQ(keeper().find(record(80).tuple), nullptr);
  EXPECT_EQ(_counters.states[kTw].get(), 0U);
}

// RFC 1337: a RST does not end TIME_WAIT unless the configuration says so.
TEST_F(TimeWaitKeeper, ARstIsIgnoredUnlessConfiguredToEndTheRecord) {
  ASSERT_TRUE(keeper().enter(record(80), kNow));
  time_wait_record* r = keeper().find(record(80).tuple);
  keeper().input(*r, segment(flag::kRst, 7001), nullptr, kNow);
  EXPECT_NE(keeper().find(record(80).tuple), nullptr);
  EXPECT_EQ(_counters.time_wait_rst_ignored.get(), 1U);
  _config.time_wait_honours_rst = true;  // the keeper reads the config it was given
  keeper().input(*r, segment(flag::kRst, 7001), nullptr, kNow);
  EXPECT_EQ(keeper().find(record(80).tuple), nullptr);
  EXPECT_EQ(_counters.states[kTw].get(), 0U);
  EXPECT_TRUE(sent().empty());
}

// RFC 6191 §2 without timestamps: a SYN above RCV.NXT may reopen, one at
// or below it is dropped; reopen() ends the record and hands on SND.NXT.
TEST_F(TimeWaitKeeper, ASynAboveRcvNxtMayReopenAndReopenEndsTheRecord) {
  ASSERT_TRUE(keeper().enter(record(80), kNow));
  time_wait_record* r = keeper().find(record(80).tuple);
  EXPECT_EQ(keeper().input(*r, segment(flag::kSyn, 7001), nullptr, kNow),
            time_wait_verdict::done);
  EXPECT_EQ(_counters.time_wait_syn_dropped.get(), 1U);
  EXPECT_EQ(keeper().input(*r, segment(flag::kSyn, 9000), nullptr, kNow),
            time_wait_verdict::syn_may_reopen);
  EXPECT_EQ(keeper().reopen(*r), seq32{1001});
  EXPECT_EQ(keeper().find(record(80).tuple), nullptr);
  EXPECT_EQ(_counters.time_wait_reused.get(), 1U);
  EXPECT_TRUE(sent().empty());
}

// RFC 5961 §7: out-of-window segments draw one ACK per interval per record.
TEST_F(TimeWaitKeeper, AnswersToInvalidSegmentsAreLimitedPerRecord) {
  ASSERT_TRUE(keeper().enter(record(80), kNow));
  time_wait_record* r = keeper().find(record(80).tuple);
  for (int i = 0; i < 5; ++i) keeper().input(*r, segment(flag::kAck, 123), nullptr, kNow);
  EXPECT_EQ(sent().size(), 1U);
  EXPECT_EQ(_counters.invalid_acks_suppressed.get(), 4U);
  keeper().input(*r, segment(flag::kAck, 123), nullptr, kNow + _config.invalid_ack_interval);
  EXPECT_EQ(sent().size(), 1U) << "the next interval answers again";
  keeper().input(*r, segment(flag::kAck, 7001), nullptr, kNow + base::nanos{10 * kSec});
  EXPECT_TRUE(sent().empty()) << "a bare ACK at RCV.NXT gets nothing";
}

// An active open's record holds its pool port until it ends, and gives it
// back in the share of its own source address.
TEST_F(TimeWaitKeeper, ExpiryGivesAPoolPortBackToItsSource) {
  const ipv4_addr second{kFirstSource.value + 1};
  ASSERT_TRUE(_ports.take(kPeer, 5555).has_value());  // the first address's turn
  const auto end = _ports.take(kPeer, 5555);
  ASSERT_TRUE(end.has_value());
  ASSERT_EQ(end->ip, second);
  const port_pool& pool = _ports.pool();
  const std::size_t free_before = pool.available(1);
  time_wait_record r = record(end->port);
  r.tuple.local_ip = second;
  r.port_from_pool = true;
  ASSERT_TRUE(keeper().enter(r, kNow));
  EXPECT_TRUE(pool.is_taken(end->port, 1));
  keeper().expire(kNow + 2 * _config.msl);
  EXPECT_FALSE(pool.is_taken(end->port, 1));
  EXPECT_EQ(pool.available(1), free_before + 1);
  EXPECT_EQ(pool.ignored_give_backs(), 0U);
}

}  // namespace
}  // namespace kbt::tcp::test
