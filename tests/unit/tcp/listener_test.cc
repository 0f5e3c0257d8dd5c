// Listeners: the SYN queue and the accept queue (RFC 9293 §3.10.1), and SYN
// cookies (RFC 4987 §3.6) in the three modes.
#include "states/state_fixtures.hh"
#include "tcp/syn_cookie.hh"

namespace kbt::tcp::test {
namespace {

using Listener = ListenerFixture;

TEST_F(Listener, SynQueueBoundWithoutCookiesDropsAndCounts) {
  with(syncookies_mode::never, 2);
  syn_from(41000);
  syn_from(41001);
  input({.flags = flag::kSyn, .seq = kPeerIsn, .src_port = 41002});
  EXPECT_TRUE(sent().empty()) << "a full SYN queue answers nothing without cookies";
  EXPECT_EQ(syn_queue(), 2U);
  EXPECT_EQ(_layer->connections(), 2U);
  EXPECT_EQ(_layer->counters().syn_queue_overflow.get(), 1U);
  EXPECT_EQ(_layer->counters().syncookies_sent.get(), 0U);
}

TEST_F(Listener, SynQueueEntryMovesToTheAcceptQueueThenToTheApplication) {
  with(syncookies_mode::never);
  _auto_poll = false;
  const auto sa = syn_from(41000);
  EXPECT_EQ(syn_queue(), 1U);
  ack_of(sa, 41000);
  EXPECT_EQ(syn_queue(), 0U);
  EXPECT_EQ(l().accept_queue, 1U);
  poll();
  EXPECT_EQ(l().accept_queue, 0U);
  ASSERT_NE(conn(41000), nullptr);
  EXPECT_EQ(conn(41000)->state, tcp_state::established);
}

TEST_F(Listener, AcceptQueueOverflowIgnoresTheHandshakeAck) {
  with(syncookies_mode::never, 1024, 1);
  _auto_poll = false;
  const auto a = syn_from(41000);
  const auto b = syn_from(41001);
  ack_of(a, 41000);
  ack_of(b, 41001);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(l().accept_queue, 1U);
  EXPECT_EQ(_layer->counters().accept_queue_overflow.get(), 1U);
  // Linux's behaviour: the second stays in SYN_RCVD and completes later.
  ASSERT_NE(conn(41001), nullptr);
  EXPECT_EQ(conn(41001)->state, tcp_state::syn_rcvd);
  poll();
  ack_of(b, 41001);
  EXPECT_EQ(conn(41001)->state, tcp_state::established);
}

TEST_F(Listener, AutomaticModeAnswersWithACookieOnceTheSynQueueIsFull) {
  with(syncookies_mode::automatic, 1);
  syn_from(41000);
  const auto sa = syn_from(41001);
  EXPECT_EQ(sa.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(sa.h.ack.value, kPeerIsn + 1);
  EXPECT_EQ(_layer->counters().syncookies_sent.get(), 1U);
  EXPECT_EQ(_layer->connections(), 1U) << "no state for the cookie's SYN";
  EXPECT_EQ(syn_queue(), 1U);
  // The cookie is the jar's, for this tuple and ISN.
  const syn_cookie_jar jar(kCookieKey);
  EXPECT_EQ(jar.check({kStackIp, kPeerIp, kServerPort, 41001}, seq32{kPeerIsn + 1},
                      sa.h.seq + 1, _now),
            std::optional<std::uint16_t>(1460));
}

// The fixture's pool has 16 TCBs and the SYN queue may take them all, as
// kbt-httpd's defaults allowed (1024 and 1024): a flood then leaves no TCB
// for a real client's cookie ACK unless a SYN_RCVD entry makes way. The
// entry that goes loses nothing: its ISS is a cookie too.
TEST_F(Listener, CookieAckFromARealClientEvictsASynRcvdEntryWhenThePoolIsFull) {
  with(syncookies_mode::automatic, 1024);
  std::vector<seg_out> flood;
  for (std::uint16_t p = 41000; p < 41016; ++p) flood.push_back(syn_from(p));
  ASSERT_EQ(_layer->connections(), 16U);
  ASSERT_EQ(syn_queue(), 16U);
  const auto sa = syn_from(42000);  // pool empty: a cookie, no state
  EXPECT_EQ(_layer->counters().syncookies_sent.get(), 1U);
  ack_of(sa, 42000, "GET / HTTP/1.1\r\n\r\n");
  tcb* c = conn(42000);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state, tcp_state::established);
  EXPECT_EQ(c->rx_bytes, 18U);
  EXPECT_EQ(_layer->counters().syn_rcvd_evicted.get(), 1U);
  EXPECT_EQ(_layer->counters().syncookies_valid.get(), 1U);
  EXPECT_EQ(_layer->counters().no_tcb.get(), 0U);
  EXPECT_EQ(syn_queue(), 15U);
  // The evicted entry's peer can still finish: its ACK is a valid cookie.
  std::uint16_t evicted = 0;
  for (std::uint16_t p = 41000; p < 41016; ++p) {
    if (conn(p) == nullptr) evicted = p;
  }
  ASSERT_NE(evicted, 0);
  sent();
  ack_of(flood[evicted - 41000], evicted);
  ASSERT_NE(conn(evicted), nullptr);
  EXPECT_EQ(conn(evicted)->state, tcp_state::established);
  EXPECT_EQ(_layer->counters().syn_rcvd_evicted.get(), 2U);
}

// The pool full of established connections and one the application has
// released, in FIN_WAIT_2 because its idle peer never closes: the orphan
// is reset to make room for a real client, not kept 60 s while new
// clients are turned away (tcp_layer.cc evict_orphan).
TEST_F(Listener, WhenThePoolIsFullAnOrphanMakesRoomForANewClient) {
  _max_conns = 2;
  with(syncookies_mode::automatic, 1024);
  const auto held_sa = syn_from(41000);
  ack_of(held_sa, 41000);
  const auto idle_sa = syn_from(41001);
  ack_of(idle_sa, 41001);
  ASSERT_EQ(_layer->connections(), 2U);
  tcb* idle = conn(41001);
  ASSERT_NE(idle, nullptr);
  const std::uint32_t idle_iss = idle_sa.h.seq.value;
  _layer->release(*idle, _now);  // an idle timeout: FIN
  const auto fin = sent_one();
  ASSERT_TRUE(fin.has(flag::kFin));
  wire::tcp_options o;
  o.timestamps = wire::tcp_timestamps{5002, fin.h.options.timestamps->tsval};
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = idle_iss + 2, .options = o,
         .src_port = 41001});
  ASSERT_EQ(idle->state, tcp_state::fin_wait_2);
  // A new client: a cookie (no TCB free), then its ACK takes the orphan's.
  const auto sa = syn_from(42000);
  EXPECT_EQ(_layer->counters().syncookies_sent.get(), 1U);
  ack_of(sa, 42000, "GET / HTTP/1.1\r\n\r\n");
  ASSERT_NE(conn(42000), nullptr);
  EXPECT_EQ(conn(42000)->state, tcp_state::established);
  EXPECT_EQ(conn(41001), nullptr);
  EXPECT_NE(conn(41000), nullptr) << "a connection the application holds is never taken";
  EXPECT_EQ(_layer->counters().orphans_evicted.get(), 1U);
  EXPECT_EQ(_layer->counters().no_tcb.get(), 0U);
  const auto rst = sent();
  ASSERT_EQ(rst.size(), 1U);
  EXPECT_TRUE(rst[0].has(flag::kRst));
  EXPECT_EQ(rst[0].h.dst_port, 41001);
  EXPECT_EQ(rst[0].h.seq.value, idle_iss + 2);
  // With nothing to take, the next client's ACK finds no TCB: counted, dropped.
  const auto sa2 = syn_from(42001);
  ack_of(sa2, 42001);
  EXPECT_EQ(conn(42001), nullptr);
  EXPECT_EQ(_layer->counters().no_tcb.get(), 1U);
  EXPECT_TRUE(sent().empty()) << "dropped: the client's retransmission comes back later";
}

TEST_F(Listener, AlwaysModeKeepsNoStateBeforeTheAck) {
  with(syncookies_mode::always);
  for (std::uint16_t p = 41000; p < 41010; ++p) syn_from(p);
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_EQ(syn_queue(), 0U);
  EXPECT_EQ(_layer->counters().syncookies_sent.get(), 10U);
}

TEST_F(Listener, ACookieConnectionStartsWithoutAnInvalidAckLimit) {
  // RFC 5961 §7: the limit on ACKs to invalid segments is the connection's;
  // a cookie ACK rebuilding a TCB (connection::open_from_cookie) starts it
  // afresh, as reset_for_open() does for every open.
  with(syncookies_mode::always);
  const auto far = [this] {
    input({.flags = flag::kAck, .seq = kPeerIsn + 1 + 10'000'000, .ack = conn(41000)->snd_nxt.value,
           .payload = "guess", .src_port = 41000});
  };
  ack_of(syn_from(41000, false), 41000);
  tcb* first = conn(41000);
  ASSERT_NE(first, nullptr);
  far();
  EXPECT_EQ(sent().size(), 1U);
  far();
  EXPECT_TRUE(sent().empty()) << "the limit holds on this connection";
  input({.flags = flag::kRst, .seq = kPeerIsn + 1, .src_port = 41000});
  ASSERT_EQ(first->state, tcp_state::closed);
  _layer->release(*first, _now);
  ack_of(syn_from(41000, false), 41000);
  tcb* again = conn(41000);
  ASSERT_EQ(again, first) << "the same TCB, reused";
  far();
  EXPECT_EQ(sent().size(), 1U) << "a new connection: answered within 500 ms of the last";
  EXPECT_EQ(_layer->counters().invalid_acks_suppressed.get(), 1U);
}

TEST_F(Listener, ValidCookieAckMakesAnEstablishedConnectionAndDeliversItsPayload) {
  with(syncookies_mode::always);
  const auto sa = syn_from(41000);
  ASSERT_TRUE(sa.h.options.timestamps);
  EXPECT_EQ(sa.h.options.timestamps->tsecr, 5000U);
  EXPECT_EQ(sa.h.options.window_scale, std::optional<std::uint8_t>(3));  // 256 KB buffer: 262144 >> 3 fits 16 bits
  EXPECT_TRUE(sa.h.options.sack_permitted);
  ack_of(sa, 41000, "GET / HTTP/1.1\r\n\r\n");
  tcb* c = conn(41000);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->recover, c->iss) << "RFC 6582 §3.2 step 1, as for any open";
  EXPECT_EQ(c->state, tcp_state::established);
  const std::uint8_t ev = events_for(c);
  EXPECT_NE(ev & event::kConnected, 0);
  EXPECT_NE(ev & event::kReadable, 0);
  EXPECT_EQ(read_all(*_layer, *c, _now), "GET / HTTP/1.1\r\n\r\n");
  // Rebuilt from the cookie and the echoed timestamp.
  EXPECT_EQ(c->iss.value, sa.h.seq.value);
  EXPECT_EQ(c->rcv_nxt.value, kPeerIsn + 1 + 18);
  EXPECT_EQ(c->snd_mss, 1460);
  EXPECT_TRUE(c->ts_ok);
  EXPECT_TRUE(c->ws_ok);
  EXPECT_EQ(c->snd_wscale, 7);
  EXPECT_EQ(c->rcv_wscale, 3);
  EXPECT_TRUE(c->sack_ok);
  EXPECT_EQ(_layer->counters().syncookies_valid.get(), 1U);
  EXPECT_EQ(_layer->counters().passive_opens.get(), 1U);
}

TEST_F(Listener, CookieWithoutTimestampsKeepsOnlyTheMss) {
  with(syncookies_mode::always);
  wire::tcp_options o;
  o.mss = 1420;  // rounds down to 1400 in the cookie's table
  o.window_scale = 7;
  o.sack_permitted = true;
  input({.flags = flag::kSyn, .seq = kPeerIsn, .options = o, .src_port = 41000});
  const auto sa = sent_one();
  EXPECT_FALSE(sa.h.options.window_scale) << "nowhere to keep it without timestamps";
  EXPECT_FALSE(sa.h.options.sack_permitted);
  EXPECT_FALSE(sa.h.options.timestamps);
  ack_of(sa, 41000);
  tcb* c = conn(41000);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->snd_mss, 1400);
  EXPECT_FALSE(c->ws_ok);
  EXPECT_FALSE(c->sack_ok);
  EXPECT_FALSE(c->ts_ok);
}

TEST_F(Listener, InvalidCookieAckIsDroppedAndCounted) {
  with(syncookies_mode::always);
  const auto sa = syn_from(41000);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = sa.h.seq.value + 2, .src_port = 41000});
  input({.flags = flag::kAck, .seq = kPeerIsn + 2, .ack = sa.h.seq.value + 1, .src_port = 41000});
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = sa.h.seq.value + 1, .src_port = 41001});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_EQ(_layer->counters().syncookies_invalid.get(), 3U);
}

TEST_F(Listener, CookieIsRefusedAfterTwoPeriods) {
  with(syncookies_mode::always);
  const auto sa = syn_from(41000, false);
  advance_ns(2 * syn_cookie_jar::kPeriodNs + kSec);
  ack_of(sa, 41000);
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_EQ(_layer->counters().syncookies_invalid.get(), 1U);
}

TEST_F(Listener, AckWithNoRecentCookiesGetsARstInAutomaticMode) {
  with(syncookies_mode::automatic);
  input({.flags = flag::kAck, .seq = 7, .ack = 1234, .src_port = 41000});
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, 1234U);  // RFC 9293 §3.10.7.2: <SEQ=SEG.ACK><CTL=RST>
  EXPECT_EQ(_layer->counters().syncookies_invalid.get(), 0U);
}

TEST_F(Listener, SynQueueEntryIssIsACookieToo) {
  with(syncookies_mode::automatic);
  const auto sa = syn_from(41000);
  const syn_cookie_jar jar(kCookieKey);
  EXPECT_TRUE(jar.check({kStackIp, kPeerIp, kServerPort, 41000}, seq32{kPeerIsn + 1}, sa.h.seq + 1,
                        _now));
  ack_of(sa, 41000);
  EXPECT_EQ(_layer->counters().syncookies_self_check_failed.get(), 0U);
  EXPECT_EQ(conn(41000)->state, tcp_state::established);
}

TEST_F(Listener, NeverModeUsesTheRfc6528Isn) {
  with(syncookies_mode::never);
  const auto sa = syn_from(41000);
  const isn_generator isn(siphash_key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  EXPECT_EQ(sa.h.seq,
            isn.generate(kStackIp, kServerPort, kPeerIp, 41000, base::ns_since_start(_now)));
}

// Closing a listener (tcp_layer::unlisten, api::stop_listening): RFC 9293
// §3.10.4 CLOSE in LISTEN. New SYNs find a closed port; handshakes under
// way finish; the slot is reused only once nothing counts on it.
TEST_F(Listener, AClosedListenerAnswersASynWithRst) {
  with(syncookies_mode::never);
  EXPECT_TRUE(_layer->unlisten(kServerPort));
  EXPECT_FALSE(_layer->unlisten(kServerPort)) << "closed already";
  EXPECT_EQ(_layer->find_listener(kServerPort), nullptr);
  input({.flags = flag::kSyn, .seq = kPeerIsn, .src_port = 41000});
  const auto v = sent();
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].h.flags, flag::kRst | flag::kAck);
  EXPECT_EQ(conn(41000), nullptr);
}

TEST_F(Listener, AHandshakeUnderWayFinishesAfterTheListenerCloses) {
  with(syncookies_mode::never);
  const auto sa = syn_from(41000);
  EXPECT_TRUE(_layer->unlisten(kServerPort));
  ack_of(sa, 41000);
  ASSERT_NE(conn(41000), nullptr);
  EXPECT_EQ(conn(41000)->state, tcp_state::established);
}

TEST_F(Listener, ListeningAgainAfterAClose) {
  with(syncookies_mode::never);
  EXPECT_TRUE(_layer->unlisten(kServerPort));
  EXPECT_TRUE(_layer->listen(kServerPort));
  syn_from(41000);  // answered with a SYN-ACK again
  EXPECT_EQ(syn_queue(), 1U);
}

TEST_F(Listener, AClosedSlotIsReusedOnlyOnceNoHandshakeCountsOnIt) {
  with(syncookies_mode::never);
  _auto_poll = false;
  for (std::uint16_t p = 1; p < tcp_layer::kMaxListeners; ++p) ASSERT_TRUE(_layer->listen(9000 + p));
  EXPECT_FALSE(_layer->listen(9999)) << "all slots taken";
  const auto sa = syn_from(41000);
  ASSERT_TRUE(_layer->unlisten(kServerPort));
  EXPECT_FALSE(_layer->listen(9999)) << "a SYN_RCVD still names the closed slot";
  ack_of(sa, 41000);
  EXPECT_FALSE(_layer->listen(9999)) << "now in its accept queue";
  poll();  // handed to the application: nothing counts on the slot
  EXPECT_TRUE(_layer->listen(9999));
  ASSERT_NE(conn(41000), nullptr);
  EXPECT_EQ(conn(41000)->state, tcp_state::established);
}

}  // namespace
}  // namespace kbt::tcp::test
