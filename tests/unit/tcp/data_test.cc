// Data transfer on an established connection: delayed ACK (RFC 1122
// §4.2.3.2), out-of-order data with SACK (RFC 2018, RFC 5681 §4.2), RTO
// (RFC 6298), Nagle (RFC 9293 §3.7.4), zero window and persist probes
// (§3.8.6.1), urgent data (§3.8.5).
#include <cstring>
#include <numeric>

#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

using Data = TcpFixture;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TEST_F(Data, DelayedAckEverySecondSegmentOrAfter40ms) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t s = kPeerIsn + 1;
  input({.flags = flag::kAck, .seq = s, .ack = _iss + 1, .payload = std::string(100, 'a')});
  EXPECT_TRUE(sent().empty());
  input({.flags = flag::kAck, .seq = s + 100, .ack = _iss + 1, .payload = std::string(100, 'b')});
  EXPECT_EQ(sent_one().h.ack.value, s + 200);  // the second segment: at once
  input({.flags = flag::kAck, .seq = s + 200, .ack = _iss + 1, .payload = std::string(100, 'c')});
  advance_ms(39);
  EXPECT_TRUE(sent().empty());
  advance_ms(1);
  EXPECT_EQ(sent_one().h.ack.value, s + 300);
}

TEST_F(Data, OutOfOrderSegmentGetsImmediateAckWithSackBlock) {
  wire::tcp_options o;
  o.mss = 1460;
  o.sack_permitted = true;
  tcb* c = established_passive(o);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->sack_ok);
  const std::uint32_t s = kPeerIsn + 1;
  input({.flags = flag::kAck, .seq = s + 100, .ack = _iss + 1, .payload = std::string(50, 'x')});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.ack.value, s);
  ASSERT_EQ(ack.h.options.sack_count, 1);
  EXPECT_EQ(ack.h.options.sack_blocks[0].left.value, s + 100);
  EXPECT_EQ(ack.h.options.sack_blocks[0].right.value, s + 150);
  // Filling the hole: the cumulative ACK jumps over both, at once.
  input({.flags = flag::kAck, .seq = s, .ack = _iss + 1, .payload = std::string(100, 'y')});
  const auto full = sent_one();
  EXPECT_EQ(full.h.ack.value, s + 150);
  EXPECT_EQ(full.h.options.sack_count, 0);
  EXPECT_EQ(read_all(*_layer, *c, _now), std::string(100, 'y') + std::string(50, 'x'));
}

TEST_F(Data, DataSegmentsCarryingSackBlocksStillFitTheMss) {
  // Found in simulation: SACK blocks on a full data segment made it larger
  // than the MTU, and a link dropped every retransmission of it.
  wire::tcp_options o;
  o.mss = 1460;
  o.sack_permitted = true;
  o.timestamps = wire::tcp_timestamps{1, 0};
  tcb* c = established_passive(o);
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1001, .ack = _iss + 1, .payload = "hole",
         .options = {.timestamps = wire::tcp_timestamps{2, 0}}});
  sent();
  const std::string big(20'000, 'z');
  _layer->send_copy(*c, bytes_of(big), _now);
  const auto out = sent();
  ASSERT_FALSE(out.empty());
  for (const auto& s : out) {
    EXPECT_EQ(s.h.options.sack_count, 1);
    EXPECT_LE(s.h.header_len - 20U + s.payload.size(), 1460U);
  }
}

TEST_F(Data, RtoRetransmitsTheFirstSegmentWithBackoff) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_nodelay(*c, true);
  const std::string msg(3000, 'm');
  EXPECT_EQ(_layer->send_copy(*c, bytes_of(msg), _now), 3000U);
  const auto first = sent();
  ASSERT_EQ(first.size(), 3U);  // 1460 + 1460 + 80
  EXPECT_EQ(first[0].h.seq.value, _iss + 1);
  EXPECT_EQ(first[2].h.seq.value, _iss + 1 + 2920);
  // The handshake gave an RTT sample of ~0: the RTO is the 200 ms floor.
  const std::uint64_t rto = c->rtt.rto_ns() / kMs;
  EXPECT_EQ(rto, 200U);
  advance_ms(rto - 1);
  EXPECT_TRUE(sent().empty());
  advance_ms(1);
  auto again = sent_one();
  EXPECT_EQ(again.h.seq.value, _iss + 1);
  EXPECT_EQ(again.payload.size(), 1460U);
  EXPECT_EQ(_layer->counters().rto_expiries.get(), 1U);
  advance_ms(2 * rto - 1);
  EXPECT_TRUE(sent().empty());
  advance_ms(1);  // RFC 6298 §5.5: backed off to twice the RTO
  EXPECT_EQ(sent_one().h.seq.value, _iss + 1);
}

TEST_F(Data, AckAfterRtoCarriesSndMaxNotTheRetransmittedSequence) {
  // Found in simulation: after an RTO pulled SND.NXT back, bare ACKs went out
  // numbered below what the peer had, failed its acceptability test, and
  // both sides timed out.
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_nodelay(*c, true);
  _layer->send_copy(*c, bytes_of(std::string(3000, 'm')), _now);
  sent();
  advance_ms(c->rtt.rto_ns() / kMs);
  EXPECT_EQ(sent().size(), 1U);  // the retransmission
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "x"});
  input({.flags = flag::kAck, .seq = kPeerIsn + 2, .ack = _iss + 1, .payload = "y"});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.seq.value, _iss + 1 + 3000);
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 3);
}

TEST_F(Data, RetransmissionLargerThanTheOriginalRaisesSndMax) {
  // Found in simulation (seed 181): a segment first sent short (SACK blocks
  // took 12 bytes of room) was sent again full-size after an RTO; SND.MAX
  // stayed behind, the peer's ACK of the whole segment looked like an ACK
  // of unsent data, and the connection timed out.
  wire::tcp_options o;
  o.mss = 1460;
  o.sack_permitted = true;
  o.timestamps = wire::tcp_timestamps{1, 0};
  tcb* c = established_passive(o);
  ASSERT_NE(c, nullptr);
  const wire::tcp_options ts{.timestamps = wire::tcp_timestamps{2, 0}};
  // Out-of-order data from the peer: our data segments carry a SACK block.
  input({.flags = flag::kAck, .seq = kPeerIsn + 101, .ack = _iss + 1, .payload = "later",
         .options = ts});
  sent();
  _layer->send_copy(*c, bytes_of(std::string(1448, 's')), _now);
  const auto first = sent();
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first[0].payload.size(), 1436U);  // 1448 less the 12-byte SACK option
  // The hole fills; the next copy of our segment has room for all 1448.
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1,
         .payload = std::string(100, 'h'), .options = ts});
  sent();
  advance_ms(c->rtt.rto_ns() / kMs);
  const auto again = sent();
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].payload.size(), 1448U);
  EXPECT_EQ(c->snd_max.value, _iss + 1 + 1448);
  input({.flags = flag::kAck, .seq = kPeerIsn + 106, .ack = _iss + 1 + 1448, .options = ts});
  EXPECT_EQ(c->snd_una.value, _iss + 1 + 1448);
  EXPECT_EQ(c->snd.bytes(), 0U);
}

// Soak bug 6: an RTO retransmission went out a full MSS into a smaller
// window, putting SND.MAX past the peer's right edge.
TEST_F(Data, RtoRetransmissionStaysInsideThePeersWindow) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_nodelay(*c, true);
  _layer->send_copy(*c, bytes_of(std::string(1000, 'a')), _now);
  EXPECT_EQ(sent_one().payload.size(), 1000U);
  // The peer has taken none of it and offers exactly what is outstanding.
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 1000});
  _layer->send_copy(*c, bytes_of(std::string(2000, 'b')), _now);
  EXPECT_TRUE(sent().empty()) << "the window is full";
  advance_ms(c->rtt.rto_ns() / kMs);
  const auto again = sent_one();
  EXPECT_EQ(again.h.seq.value, _iss + 1);
  EXPECT_EQ(again.payload.size(), 1000U);
  EXPECT_EQ(c->snd_max.value, _iss + 1 + 1000);
}

TEST_F(Data, AckIsNumberedAtTheRightEdgeOfAShrunkWindow) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_nodelay(*c, true);
  _layer->send_copy(*c, bytes_of(std::string(3000, 'a')), _now);
  EXPECT_EQ(sent().size(), 3U);
  // The peer shuts its window over data it has not taken (RFC 9293
  // §3.8.6 discourages it; peers do it): its RCV.NXT is our SND.UNA.
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
  input({.flags = flag::kAck | flag::kFin, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 2);
  EXPECT_EQ(ack.h.seq.value, _iss + 1) << "SND.MAX lies past the shut window";
}

// Soak bug 4: a segment cut at the send buffer's piece limit counted as a
// window-limited runt and waited for the RTO.
TEST_F(Data, SegmentCutAtThePieceLimitIsSentAtOnce) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  constexpr int kPieces = 20;
  constexpr std::uint16_t kPieceLen = 150;  // held one mbuf each (kCoalesceBelow)
  for (int i = 0; i < kPieces; ++i) {
    rte_mbuf* m = rte_pktmbuf_alloc(kbt::test::mbuf_pool());
    ASSERT_NE(m, nullptr);
    char* p = rte_pktmbuf_append(m, kPieceLen);
    ASSERT_NE(p, nullptr);
    std::memset(p, 'a' + i, kPieceLen);
    ASSERT_TRUE(_layer->send(*c, m, _now));
  }
  // The first piece alone (nothing in flight); then, each time eight are
  // waiting, seven in one segment (1050 bytes, below the MSS with more
  // behind it); the last five wait for the ACK (Nagle).
  const auto out = sent();
  ASSERT_EQ(out.size(), 3U);
  EXPECT_EQ(out[0].payload.size(), kPieceLen);
  EXPECT_EQ(out[1].payload.size(), 7U * kPieceLen);
  EXPECT_EQ(out[2].payload.size(), 7U * kPieceLen);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1 + 15 * kPieceLen});
  const auto rest = sent_one();
  EXPECT_EQ(rest.h.seq.value, _iss + 1 + 15 * kPieceLen);
  EXPECT_EQ(rest.payload.size(), 5U * kPieceLen);
}

TEST_F(Data, RetransmissionsGiveUpAndTellTheApplication) {
  tcp_config cfg;
  cfg.max_retries = 3;
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->send_copy(*c, bytes_of("lost forever"), _now);
  for (int i = 0; i < 1000 && c->state != tcp_state::closed; ++i) advance_ms(100);
  EXPECT_EQ(c->state, tcp_state::closed);
  EXPECT_NE(events_for(c) & event::kClosed, 0);
  EXPECT_EQ(c->reason, close_reason::timeout);
  EXPECT_EQ(sent().size(), 4U);  // the segment and 3 retransmissions
  EXPECT_EQ(_layer->counters().timeouts.get(), 1U);
}

TEST_F(Data, RtoIntoAClosedWindowProbesAndNeverGivesUp) {
  // Found in simulation: a segment in flight when the peer's window closed
  // was resent by the RTO into the closed window; every answer was a
  // zero-window ACK, the retries ran out and a live connection was aborted.
  tcp_config cfg;
  cfg.max_retries = 3;
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->send_copy(*c, bytes_of(std::string(1000, 'q')), _now);
  EXPECT_EQ(sent().size(), 1U);
  // The peer takes nothing more: ACK of nothing, window 0.
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
  for (int i = 0; i < 40; ++i) {
    advance_ms(1000);
    for (const auto& s : sent()) {
      EXPECT_EQ(s.payload.size(), 0U) << "data sent into a closed window";
      input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
    }
  }
  EXPECT_EQ(c->state, tcp_state::established);
  EXPECT_GT(_layer->counters().zero_window_probes.get(), 3U);
  // The window opens: the data goes again.
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 4000});
  const auto data = sent_one();
  EXPECT_EQ(data.h.seq.value, _iss + 1);
  EXPECT_EQ(data.payload.size(), 1000U);
}

TEST_F(Data, RepeatedZeroWindowAcksAreNotDuplicateAcks) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->send_copy(*c, bytes_of(std::string(1000, 'q')), _now);
  sent();
  for (int i = 0; i < 5; ++i) {
    input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
  }
  EXPECT_EQ(_layer->counters().fast_retransmits.get(), 0U);
  EXPECT_FALSE(c->in_recovery);
  EXPECT_TRUE(sent().empty());
}

TEST_F(Data, NagleHoldsASecondSmallSegmentUntilTheAck) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->send_copy(*c, bytes_of("a"), _now);
  EXPECT_EQ(sent().size(), 1U);
  _layer->send_copy(*c, bytes_of("b"), _now);
  _layer->send_copy(*c, bytes_of("c"), _now);
  EXPECT_TRUE(sent().empty());  // one small segment in flight at a time
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 2});
  const auto s = sent_one();
  EXPECT_EQ(text(s), "bc");
}

TEST_F(Data, NoDelaySendsSmallSegmentsAtOnce) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_nodelay(*c, true);
  _layer->send_copy(*c, bytes_of("a"), _now);
  _layer->send_copy(*c, bytes_of("b"), _now);
  EXPECT_EQ(sent().size(), 2U);
}

TEST_F(Data, ZeroWindowProbesGiveUpWhenThePeerFallsSilent) {
  // Found by fuzz_tcp_established: the peer closed its window and then
  // answered nothing; the probes went on for ever and the connection with
  // its data never ended. Answered probes keep it open (RFC 1122
  // §4.2.2.17); max_retries unanswered in a row end it, as RTOs do.
  tcp_config cfg;
  cfg.max_retries = 3;
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
  _layer->send_copy(*c, bytes_of("waiting"), _now);
  // Answered probes: the connection stays, however many.
  for (int i = 0; i < 20; ++i) {
    advance_ms(60'000);
    for (std::size_t k = sent().size(); k > 0; --k) {
      input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
    }
  }
  ASSERT_EQ(c->state, tcp_state::established);
  const auto answered = _layer->counters().zero_window_probes.get();
  EXPECT_GT(answered, 4U);
  // Silence: after 3 unanswered probes the next one is not sent; timeout.
  for (int i = 0; i < 20 && c->state != tcp_state::closed; ++i) advance_ms(60'000);
  EXPECT_EQ(c->state, tcp_state::closed);
  EXPECT_EQ(_layer->counters().zero_window_probes.get(), answered + 3);
  EXPECT_EQ(_layer->counters().timeouts.get(), 1U);
}

TEST_F(Data, ZeroWindowIsProbedAndSendingResumesWhenItOpens) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  // The peer closes its window.
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
  _layer->send_copy(*c, bytes_of("waiting"), _now);
  EXPECT_TRUE(sent().empty());
  const std::uint64_t rto = c->rtt.rto_ns() / kMs;
  advance_ms(rto);  // first probe after one RTO
  auto probe = sent_one();
  EXPECT_EQ(probe.payload.size(), 0U);
  EXPECT_EQ(probe.h.seq.value, _iss);  // SND.UNA - 1: the peer must answer
  EXPECT_EQ(_layer->counters().zero_window_probes.get(), 1U);
  advance_ms(2 * rto - 1);
  EXPECT_TRUE(sent().empty());
  advance_ms(1);  // backed off
  EXPECT_EQ(sent().size(), 1U);
  // The window opens: the data goes.
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 1000});
  const auto data = sent_one();
  EXPECT_EQ(text(data), "waiting");
  EXPECT_EQ(data.h.seq.value, _iss + 1);
}

TEST_F(Data, ReceiveWindowShrinksAsDataWaitsAndReopens) {
  tcp_config cfg;
  cfg.rcv_buffer = 4096;
  cfg.window_scaling = false;
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t s = kPeerIsn + 1;
  input({.flags = flag::kAck, .seq = s, .ack = _iss + 1, .payload = std::string(1460, 'a')});
  input({.flags = flag::kAck, .seq = s + 1460, .ack = _iss + 1, .payload = std::string(1460, 'b')});
  auto ack = sent_one();
  EXPECT_EQ(ack.h.window, 4096 - 2920);
  // The application reads: a window update follows.
  EXPECT_EQ(read_all(*_layer, *c, _now).size(), 2920U);
  ack = sent_one();
  EXPECT_EQ(ack.h.window, 4096);
}

TEST_F(Data, UrgentDataStaysInLineAndTheMarkIsReported) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck | flag::kUrg, .seq = kPeerIsn + 1, .ack = _iss + 1,
         .payload = "abc!def", .urgent = 4});
  EXPECT_NE(events_for(c) & event::kUrgent, 0);
  EXPECT_EQ(c->rcv_up.value, kPeerIsn + 1 + 4);
  EXPECT_EQ(read_all(*_layer, *c, _now), "abc!def");
}

TEST_F(Data, AcknowledgedDataIsFreedAndWritableReported) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_nodelay(*c, true);  // both segments go at once
  _layer->send_copy(*c, bytes_of(std::string(2000, 'w')), _now);
  sent();
  EXPECT_EQ(c->snd.bytes(), 2000U);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1 + 2000});
  EXPECT_EQ(c->snd.bytes(), 0U);
  EXPECT_NE(events_for(c) & event::kWritable, 0);
}

TEST_F(Data, RecoverStartsAtTheIss) {
  // RFC 6582 §3.2 step 1. It was left at 0: for an ISS 2^31 or more past
  // 0, SND.UNA compared "below" recover and dup ACKs never triggered fast
  // retransmit, about half of all connections (found by test_netem.py).
  tcb* p = established_passive();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->recover, p->iss);
  tcb* a = established_active();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->recover, a->iss);
}

TEST_F(Data, ThreeDuplicateAcksTriggerFastRetransmit) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->send_copy(*c, bytes_of(std::string(5 * 1460, 'f')), _now);
  // Initial window 10 segments: all five go.
  ASSERT_EQ(sent().size(), 5U);
  for (int i = 0; i < 3; ++i) {
    input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1});
  }
  const auto retx = sent_one();
  EXPECT_EQ(retx.h.seq.value, _iss + 1);
  EXPECT_EQ(retx.payload.size(), 1460U);
  EXPECT_EQ(_layer->counters().fast_retransmits.get(), 1U);
  EXPECT_TRUE(c->in_recovery);
}

TEST_F(Data, UnscaledWindowEdgeIsTheFieldsNotTheBuffers) {
  // RFC 9293 §3.10.7.4: data past the window the peer was told is not
  // acceptable. Without window scaling the field says at most 65535, even
  // though the 256 KiB buffer has room for more.
  tcb* c = established_passive();  // no options: no window scaling
  ASSERT_NE(c, nullptr);
  ASSERT_FALSE(c->ws_ok);
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "a"});
  advance_ms(40);  // the delayed ACK
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.window, 65535);
  EXPECT_EQ(c->rcv_adv.value, kPeerIsn + 2 + 65535);
  // One byte past the edge told: not acceptable, answered with an ACK.
  input({.flags = flag::kAck, .seq = kPeerIsn + 2 + 65535, .ack = _iss + 1, .payload = "x"});
  EXPECT_EQ(c->out_of_order.runs(), 0U) << "nothing queued beyond the window";
  EXPECT_EQ(_layer->counters().out_of_window.get(), 1U);
}

}  // namespace
}  // namespace kbt::tcp::test
