// The listener by itself (listener.hh), with no tcp_layer, no connection
// table and no TCB pool: what a segment to a listening port opens (RFC 9293
// §3.10.7.2, RFC 4987 §3.6), what it answers without a TCB, and the
// accept queue it keeps for the connections its owner opened.
#include <gtest/gtest.h>

#include <vector>

#include "control_rig.hh"
#include "tcp/listener.hh"

namespace kbt::tcp::test {
namespace {

using wire::ipv4_addr;
using wire::seq32;
namespace flag = wire::tcp_flag;

constexpr base::instant kNow = base::instant_from_ns(10 * kSec);
constexpr std::uint16_t kPort = 80;
constexpr siphash_key kIsnKey{7, 7, 7};
constexpr siphash_key kCookieKey{9, 9, 9};
constexpr seq32 kPeerIsn{5'000'000};

class ListenerAlone : public ::testing::Test, protected control_rig {
 protected:
  ListenerAlone() : _isn(kIsnKey) {
    _ts.origin_ns = 123 * kSec;  // the ISN's clock counts from boot
  }

  void with(syncookies_mode mode, std::uint32_t syn_queue = 1024,
            std::uint32_t accept_queue = 4096) {
    _config.syncookies = mode;
    _config.syn_queue_max = syn_queue;
    _config.accept_queue_max = accept_queue;
    _listener.emplace(_config, kCookieKey, _isn, _ts, _control, _counters);
    ASSERT_TRUE(_listener->listen(kPort));
  }
  listening_port& port() { return *_listener->find(kPort); }

  static wire::tcp_repr syn(bool timestamps = true) {
    wire::tcp_repr s;
    s.src_port = kTuple.remote_port;
    s.dst_port = kPort;
    s.flags = flag::kSyn;
    s.seq = kPeerIsn;
    s.window = 65535;
    s.options.mss = 1460;
    s.options.window_scale = 7;
    s.options.sack_permitted = true;
    if (timestamps) s.options.timestamps = wire::tcp_timestamps{5000, 0};
    return s;
  }
  // The ACK that completes the handshake of a SYN-ACK <SEQ=iss> with `tsval`.
  static wire::tcp_repr ack_of(seq32 iss, std::optional<std::uint32_t> tsval) {
    wire::tcp_repr a;
    a.src_port = kTuple.remote_port;
    a.dst_port = kPort;
    a.flags = flag::kAck;
    a.seq = kPeerIsn + 1;
    a.ack = iss + 1;
    a.window = 1000;
    if (tsval) a.options.timestamps = wire::tcp_timestamps{5001, *tsval};
    return a;
  }
  listen_verdict verdict(const wire::tcp_repr& seg, bool pool_full = false,
                         std::optional<seq32> min_iss = std::nullopt) {
    return _listener->on_segment(port(), kTuple, seg, kNow, pool_full, min_iss);
  }
  std::vector<support::captured_segment> sent() { return sent_segments(); }
  // What the jar would make of syn() now: the SYN-ACK's ISS in cookie mode.
  static seq32 cookie_of(const wire::tcp_repr& s) {
    return syn_cookie_jar(kCookieKey).make(kTuple, s.seq, *s.options.mss, kNow);
  }

  static constexpr four_tuple kTuple{ipv4_addr::from_octets(198, 18, 0, 2),
                                     ipv4_addr::from_octets(198, 18, 0, 1), kPort, 41000};
  tcp_config _config;
  ts_clock _ts;
  isn_generator _isn;
  std::optional<listener> _listener;
};

TEST_F(ListenerAlone, ASynWithRoomOpensAnEntryWhoseIssIsAlsoTheCookie) {
  with(syncookies_mode::automatic);
  const listen_verdict v = verdict(syn());
  EXPECT_EQ(v.open, passive_open::syn_entry);
  EXPECT_EQ(v.kind, open_kind::passive_cookie_iss);
  EXPECT_EQ(v.iss, cookie_of(syn()));
  EXPECT_TRUE(sent().empty()) << "the owner's new connection sends the SYN-ACK";
}

TEST_F(ListenerAlone, WithoutCookiesTheEntryIssComesFromTheIsnClockSinceBoot) {
  with(syncookies_mode::never);
  const listen_verdict v = verdict(syn());
  EXPECT_EQ(v.open, passive_open::syn_entry);
  EXPECT_EQ(v.kind, open_kind::passive);
  EXPECT_EQ(v.iss, _isn.generate(kTuple, base::ns_since_start(kNow) + 123 * kSec));
}

TEST_F(ListenerAlone, AFullSynQueueIsAnsweredWithACookieSynAckAndOpensNothing) {
  with(syncookies_mode::automatic, 1);
  _listener->syn_queues().enter(0);  // one passive open in SYN_RCVD
  const listen_verdict v = verdict(syn());
  EXPECT_EQ(v.open, passive_open::none);
  const auto out = sent();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(out[0].h.seq, cookie_of(syn()));
  EXPECT_EQ(out[0].h.ack, kPeerIsn + 1);
  EXPECT_EQ(_counters.syncookies_sent.get(), 1U);
  EXPECT_EQ(_counters.syn_queue_overflow.get(), 0U);
}

TEST_F(ListenerAlone, AFullSynQueueWithoutCookiesDropsTheSynAndCounts) {
  with(syncookies_mode::never, 1);
  _listener->syn_queues().enter(0);
  EXPECT_EQ(verdict(syn()).open, passive_open::none);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_counters.syn_queue_overflow.get(), 1U);
}

TEST_F(ListenerAlone, NoFreeTcbIsAnsweredWithACookie) {
  with(syncookies_mode::automatic);
  EXPECT_EQ(verdict(syn(), /*pool_full=*/true).open, passive_open::none);
  EXPECT_EQ(sent().size(), 1U);
  EXPECT_EQ(_counters.syncookies_sent.get(), 1U);
}

// RFC 6191 §2: a SYN that reopens a TIME_WAIT tuple starts above what the
// old incarnation sent; such an ISS is no cookie any more.
TEST_F(ListenerAlone, ASynReopeningTimeWaitStartsAboveTheOldIncarnation) {
  with(syncookies_mode::automatic);
  const seq32 cookie = cookie_of(syn());
  const listen_verdict above = verdict(syn(), false, cookie + 10);
  EXPECT_EQ(above.iss, cookie + 10 + 65536);
  EXPECT_EQ(above.kind, open_kind::passive);
  const listen_verdict below = verdict(syn(), false, cookie - 10);
  EXPECT_EQ(below.iss, cookie);
  EXPECT_EQ(below.kind, open_kind::passive_cookie_iss);
}

// RFC 9293 §3.10.7.2 second check: <SEQ=SEG.ACK><CTL=RST>.
TEST_F(ListenerAlone, AnAckOrSynAckIsResetWhenNoCookieWentOutRecently) {
  with(syncookies_mode::automatic);
  wire::tcp_repr synack = syn();
  synack.flags = flag::kSyn | flag::kAck;
  synack.ack = seq32{777};
  EXPECT_EQ(verdict(ack_of(seq32{4321}, std::nullopt)).open, passive_open::none);
  EXPECT_EQ(verdict(synack).open, passive_open::none);
  const auto out = sent();
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].h.flags, flag::kRst);
  EXPECT_EQ(out[0].h.seq, seq32{4322});
  EXPECT_EQ(out[1].h.flags, flag::kRst);
  EXPECT_EQ(out[1].h.seq, seq32{777});
  EXPECT_EQ(_counters.syncookies_invalid.get(), 0U) << "not checked as a cookie";
}

TEST_F(ListenerAlone, ARstASynFinAndABareSegmentOpenNothingAndAreNotAnswered) {
  with(syncookies_mode::automatic);
  wire::tcp_repr rst = syn();
  rst.flags = flag::kRst;
  wire::tcp_repr synfin = syn();
  synfin.flags = flag::kSyn | flag::kFin;
  wire::tcp_repr bare = syn();
  bare.flags = 0;
  for (const wire::tcp_repr& s : {rst, synfin, bare}) {
    EXPECT_EQ(verdict(s).open, passive_open::none);
  }
  EXPECT_TRUE(sent().empty());
}

TEST_F(ListenerAlone, AValidCookieAckOpensAConnectionWithWhatTheCookieKept) {
  with(syncookies_mode::always);
  ASSERT_EQ(verdict(syn()).open, passive_open::none);
  const auto out = sent();
  ASSERT_EQ(out.size(), 1U);
  ASSERT_TRUE(out[0].h.options.timestamps.has_value());
  const listen_verdict v = verdict(ack_of(out[0].h.seq, out[0].h.options.timestamps->tsval));
  EXPECT_EQ(v.open, passive_open::cookie);
  EXPECT_EQ(v.grant.mss, 1460);
  EXPECT_TRUE(v.grant.ts_ok);
  EXPECT_TRUE(v.grant.ws_ok);
  EXPECT_TRUE(v.grant.sack_ok);
  EXPECT_EQ(v.grant.snd_wscale, 7);
  EXPECT_TRUE(sent().empty());
}

TEST_F(ListenerAlone, AForgedCookieAckOpensNothingAndIsCounted) {
  with(syncookies_mode::always);
  const listen_verdict v = verdict(ack_of(cookie_of(syn()) + 1, std::nullopt));
  EXPECT_EQ(v.open, passive_open::none);
  EXPECT_EQ(_counters.syncookies_invalid.get(), 1U);
  EXPECT_TRUE(sent().empty()) << "an invalid cookie is dropped, as Linux does";
}

TEST_F(ListenerAlone, AValidCookieAckFindingTheAcceptQueueFullOpensNothing) {
  with(syncookies_mode::always, 1024, 1);
  port().accept_queue = 1;
  EXPECT_EQ(verdict(ack_of(cookie_of(syn(false)), std::nullopt)).open, passive_open::none);
  EXPECT_EQ(_counters.accept_queue_overflow.get(), 1U);
}

// The owner's TCB counts in its port's accept queue from adopt() (a
// cookie's connection starts there) or enter_accept_queue() (a SYN-queue
// entry's ACK), until the application hears of it.
TEST_F(ListenerAlone, TheAcceptQueueCountsAdoptedAndEnteringConnectionsUntilTheyLeave) {
  with(syncookies_mode::never, 1024, 2);
  tcb from_cookie(4096, 4, 4096, 4);
  from_cookie.life = lifecycle::accept_queue;
  _listener->adopt(from_cookie, port(), open_kind::passive);
  EXPECT_EQ(from_cookie.listener_slot, 0);
  EXPECT_TRUE(from_cookie.passive());
  EXPECT_EQ(port().accept_queue, 1U);

  tcb entry(4096, 4, 4096, 4);
  entry.life = lifecycle::handshake;
  _listener->adopt(entry, port(), open_kind::passive);
  EXPECT_EQ(port().accept_queue, 1U) << "a SYN-queue entry is not in the accept queue yet";
  EXPECT_TRUE(_listener->enter_accept_queue(entry, kNow));
  EXPECT_EQ(entry.life, lifecycle::accept_queue);
  EXPECT_EQ(port().accept_queue, 2U);

  tcb third(4096, 4, 4096, 4);
  third.life = lifecycle::handshake;
  _listener->adopt(third, port(), open_kind::passive);
  EXPECT_FALSE(_listener->enter_accept_queue(third, kNow)) << "the queue holds 2";
  EXPECT_EQ(third.life, lifecycle::handshake);
  EXPECT_EQ(_counters.accept_queue_overflow.get(), 1U);

  _listener->leave_accept_queue(from_cookie);
  _listener->leave_accept_queue(from_cookie);  // once only
  EXPECT_EQ(from_cookie.life, lifecycle::application);
  EXPECT_EQ(port().accept_queue, 1U);
}

}  // namespace
}  // namespace kbt::tcp::test
