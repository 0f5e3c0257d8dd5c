// send_buffer: the bytes handed over and not yet acknowledged, kept in the
// application's mbufs. Every test checks the pool is back where it started.
#include "tcp/send_buffer.hh"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "test_env.hh"

namespace {

using kbt::tcp::send_buffer;
using kbt::test::available_mbufs;
using kbt::test::mbuf_pool;
using kbt::wire::seq32;

// Byte k of the stream; distinct enough that an off-by-one shows.
std::uint8_t pattern(std::uint32_t k) { return static_cast<std::uint8_t>(k * 7 + k / 251 + 3); }

// An mbuf holding stream bytes [from, from + len).
rte_mbuf* stream_mbuf(std::uint32_t from, std::uint32_t len) {
  std::vector<std::uint8_t> v(len);
  for (std::uint32_t k = 0; k < len; ++k) v[k] = pattern(from + k);
  return kbt::test::make_mbuf(v);
}

std::vector<std::uint8_t> expected(std::uint32_t from, std::uint32_t len) {
  std::vector<std::uint8_t> v(len);
  for (std::uint32_t k = 0; k < len; ++k) v[k] = pattern(from + k);
  return v;
}

std::vector<std::uint8_t> chain_bytes(const rte_mbuf* m) {
  std::vector<std::uint8_t> v;
  for (; m != nullptr; m = m->next) {
    const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
    v.insert(v.end(), p, p + m->data_len);
  }
  return v;
}

bool points_into(const rte_mbuf* clone, const rte_mbuf* original) {
  const auto* p = rte_pktmbuf_mtod(clone, const std::uint8_t*);
  const auto* lo = static_cast<const std::uint8_t*>(original->buf_addr);
  return p >= lo && p + clone->data_len <= lo + original->buf_len;
}

class SendBuffer : public testing::Test {
 protected:
  void SetUp() override { _before = available_mbufs(); }
  void TearDown() override { EXPECT_EQ(available_mbufs(), _before) << "mbuf leak"; }
  unsigned _before = 0;
};

TEST_F(SendBuffer, AppendAccountsBytesAndSegments) {
  send_buffer sb(10000, 8, seq32{1000});
  EXPECT_TRUE(sb.append(stream_mbuf(0, 1000)));
  EXPECT_TRUE(sb.append(stream_mbuf(1000, 1448)));
  EXPECT_TRUE(sb.append(stream_mbuf(2448, 500)));
  EXPECT_EQ(sb.bytes(), 2948U);
  EXPECT_EQ(sb.segments(), 3U);
  EXPECT_EQ(sb.una(), seq32{1000});
  EXPECT_EQ(sb.end(), seq32{3948});
  EXPECT_EQ(sb.free_space(), 10000U - 2948U);
  EXPECT_EQ(sb.free_segments(), 5U);
  EXPECT_EQ(sb.bytes_unsent(seq32{1000}), 2948U);
  EXPECT_EQ(sb.bytes_unsent(seq32{3000}), 948U);
  EXPECT_EQ(sb.bytes_unsent(seq32{3948}), 0U);
  EXPECT_EQ(sb.bytes_unsent(seq32{3949}), 0U);  // the FIN is sent
  EXPECT_FALSE(sb.append(nullptr));
}

TEST_F(SendBuffer, MakeSegmentReturnsExactBytesWithoutCopy) {
  send_buffer sb(100000, 16, seq32{5000});
  std::vector<rte_mbuf*> originals = {stream_mbuf(0, 1000), stream_mbuf(1000, 1448),
                                      stream_mbuf(2448, 500)};
  for (rte_mbuf* m : originals) ASSERT_TRUE(sb.append(m));
  const std::uint32_t offsets[] = {0, 1, 999, 1000, 1001, 2447, 2448, 2900, 2947};
  const std::uint32_t lengths[] = {1, 100, 1448, 3000};
  for (std::uint32_t off : offsets) {
    for (std::uint32_t max_len : lengths) {
      SCOPED_TRACE(testing::Message() << "offset " << off << " max_len " << max_len);
      const std::uint32_t want = std::min(max_len, 2948 - off);
      EXPECT_EQ(sb.segment_len(seq32{5000 + off}, max_len), want);
      rte_mbuf* seg = sb.make_segment(seq32{5000 + off}, max_len, mbuf_pool());
      ASSERT_NE(seg, nullptr);
      EXPECT_EQ(seg->pkt_len, want);
      EXPECT_EQ(chain_bytes(seg), expected(off, want));
      unsigned segs = 0;
      for (const rte_mbuf* s = seg; s != nullptr; s = s->next, ++segs) {
        // Indirect, and its data lies in one of the application's buffers.
        EXPECT_NE(s->ol_flags & RTE_MBUF_F_INDIRECT, 0U);
        EXPECT_TRUE(std::any_of(originals.begin(), originals.end(),
                                [&](const rte_mbuf* o) { return points_into(s, o); }));
      }
      EXPECT_EQ(seg->nb_segs, segs);
      // Each piece is referenced once more while the segment lives.
      for (const rte_mbuf* o : originals) EXPECT_LE(rte_mbuf_refcnt_read(o), 2);
      rte_pktmbuf_free(seg);
      for (const rte_mbuf* o : originals) EXPECT_EQ(rte_mbuf_refcnt_read(o), 1);
    }
  }
}

TEST_F(SendBuffer, MakeSegmentOutsideHeldDataIsNull) {
  send_buffer sb(10000, 4, seq32{100});
  ASSERT_TRUE(sb.append(stream_mbuf(0, 10)));
  EXPECT_EQ(sb.make_segment(seq32{99}, 10, mbuf_pool()), nullptr);
  EXPECT_EQ(sb.make_segment(seq32{110}, 10, mbuf_pool()), nullptr);
  EXPECT_EQ(sb.make_segment(seq32{100}, 0, mbuf_pool()), nullptr);
  EXPECT_EQ(sb.make_segment(seq32{100}, 10, nullptr), nullptr);
  EXPECT_EQ(sb.segment_len(seq32{110}, 10), 0U);
}

TEST_F(SendBuffer, MaxPiecesCutsTheSegment) {
  send_buffer sb(10000, 64, seq32{0});
  for (std::uint32_t k = 0; k < 20; ++k) ASSERT_TRUE(sb.append(stream_mbuf(k * 200, 200)));
  EXPECT_EQ(sb.segments(), 20U);
  EXPECT_EQ(sb.segment_len(seq32{5}, 10000), 195U + 6 * 200);
  rte_mbuf* seg = sb.make_segment(seq32{5}, 10000, mbuf_pool());
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(seg->nb_segs, send_buffer::kDefaultMaxPieces);
  EXPECT_EQ(chain_bytes(seg), expected(5, 1395));
  rte_pktmbuf_free(seg);
  seg = sb.make_segment(seq32{0}, 10000, mbuf_pool(), 2);
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(seg->pkt_len, 400U);
  rte_pktmbuf_free(seg);
}

// Soak bug 4's other half: 7-byte zero-copy sends were held one mbuf each,
// so every segment carried 49 bytes.
TEST_F(SendBuffer, TinyAppendsAreCopiedOntoTheLastPieceUnlessItIsInFlight) {
  send_buffer sb(10000, 64, seq32{0});
  for (std::uint32_t k = 0; k < 20; ++k) ASSERT_TRUE(sb.append(stream_mbuf(k * 10, 10)));
  EXPECT_EQ(sb.segments(), 1U);
  EXPECT_EQ(sb.bytes(), 200U);
  rte_mbuf* seg = sb.make_segment(seq32{0}, 1000, mbuf_pool());
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(chain_bytes(seg), expected(0, 200));
  // The last piece is referenced by a segment in flight: not written to.
  ASSERT_TRUE(sb.append(stream_mbuf(200, 10)));
  EXPECT_EQ(sb.segments(), 2U);
  EXPECT_EQ(chain_bytes(seg), expected(0, 200));
  rte_pktmbuf_free(seg);
  // A piece of kCoalesceBelow bytes or more is held as it is.
  ASSERT_TRUE(sb.append(stream_mbuf(210, send_buffer::kCoalesceBelow)));
  EXPECT_EQ(sb.segments(), 3U);
  seg = sb.make_segment(seq32{0}, 1000, mbuf_pool());
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(chain_bytes(seg), expected(0, 210 + send_buffer::kCoalesceBelow));
  rte_pktmbuf_free(seg);
}

std::vector<std::byte> stream_bytes(std::uint32_t from, std::uint32_t len) {
  std::vector<std::byte> v(len);
  for (std::uint32_t k = 0; k < len; ++k) v[k] = std::byte{pattern(from + k)};
  return v;
}

TEST_F(SendBuffer, AppendCopyFillsItsOwnPieceEvenWhileItIsInFlight) {
  send_buffer sb(100000, 64, seq32{0});
  ASSERT_EQ(sb.append_copy(stream_bytes(0, 201), mbuf_pool(), 8), 201U);
  rte_mbuf* seg = sb.make_segment(seq32{0}, 1000, mbuf_pool());
  ASSERT_NE(seg, nullptr);
  // Its own copy: more bytes go into its room, clones in flight or not.
  ASSERT_EQ(sb.append_copy(stream_bytes(201, 301), mbuf_pool(), 8), 301U);
  EXPECT_EQ(sb.segments(), 1U);
  EXPECT_EQ(chain_bytes(seg), expected(0, 201)) << "the clone in flight is unchanged";
  rte_pktmbuf_free(seg);
  seg = sb.make_segment(seq32{0}, 1000, mbuf_pool());
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(chain_bytes(seg), expected(0, 502));
  rte_pktmbuf_free(seg);
}

TEST_F(SendBuffer, AppendCopyFillsEachMbufAndStopsAtMaxNew) {
  send_buffer sb(100000, 64, seq32{0});
  const auto data = stream_bytes(0, 10000);
  // Two new mbufs allowed: as much as two of them hold, no more.
  const std::uint32_t taken = sb.append_copy(data, mbuf_pool(), 2);
  EXPECT_EQ(sb.segments(), 2U);
  EXPECT_LT(taken, 10000U);
  EXPECT_GE(taken, 2U * 2048U);
  const std::uint32_t more = sb.append_copy(std::span(data).subspan(taken), mbuf_pool(), 8);
  EXPECT_EQ(taken + more, 10000U);
  rte_mbuf* seg = sb.make_segment(seq32{0}, 10000, mbuf_pool(), send_buffer::kMaxPieces);
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(chain_bytes(seg), expected(0, 10000));
  rte_pktmbuf_free(seg);
}

TEST_F(SendBuffer, AppendCopyNeverWritesIntoAnApplicationsMbufInFlight) {
  send_buffer sb(100000, 64, seq32{0});
  ASSERT_TRUE(sb.append(stream_mbuf(0, 300)));  // the application's mbuf
  rte_mbuf* seg = sb.make_segment(seq32{0}, 1000, mbuf_pool());
  ASSERT_NE(seg, nullptr);
  ASSERT_EQ(sb.append_copy(stream_bytes(300, 10), mbuf_pool(), 8), 10U);
  EXPECT_EQ(sb.segments(), 2U) << "a new mbuf, not the application's room";
  rte_pktmbuf_free(seg);
}

TEST_F(SendBuffer, AckFreesWholeMbufsAndTrimsPartialOnes) {
  send_buffer sb(100000, 16, seq32{0});
  const unsigned start = available_mbufs();
  ASSERT_TRUE(sb.append(stream_mbuf(0, 1000)));
  ASSERT_TRUE(sb.append(stream_mbuf(1000, 1000)));
  ASSERT_TRUE(sb.append(stream_mbuf(2000, 1000)));
  EXPECT_EQ(available_mbufs(), start - 3);

  EXPECT_EQ(sb.ack(seq32{500}), 500U);  // partial: nothing freed, first piece trimmed
  EXPECT_EQ(available_mbufs(), start - 3);
  EXPECT_EQ(sb.una(), seq32{500});
  EXPECT_EQ(sb.bytes(), 2500U);
  EXPECT_EQ(sb.free_space(), 100000U - 2500U);

  EXPECT_EQ(sb.ack(seq32{400}), 0U);  // old ACK
  EXPECT_EQ(sb.ack(seq32{1500}), 1000U);  // frees the first mbuf, trims the second
  EXPECT_EQ(available_mbufs(), start - 2);
  EXPECT_EQ(sb.segments(), 2U);

  EXPECT_EQ(sb.ack(seq32{3000}), 1500U);
  EXPECT_EQ(available_mbufs(), start);
  EXPECT_EQ(sb.bytes(), 0U);
  EXPECT_EQ(sb.segments(), 0U);
}

TEST_F(SendBuffer, RetransmitAfterPartialAck) {
  send_buffer sb(100000, 16, seq32{0});
  ASSERT_TRUE(sb.append(stream_mbuf(0, 1448)));
  ASSERT_TRUE(sb.append(stream_mbuf(1448, 1448)));
  rte_mbuf* first = sb.make_segment(seq32{0}, 1448, mbuf_pool());
  rte_mbuf* second = sb.make_segment(seq32{1448}, 1448, mbuf_pool());
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);

  EXPECT_EQ(sb.ack(seq32{1000}), 1000U);  // the peer got part of the first segment
  // A clone already in flight is not affected by the trim of its parent.
  EXPECT_EQ(chain_bytes(first), expected(0, 1448));
  const unsigned held = available_mbufs();
  rte_pktmbuf_free(first);
  EXPECT_EQ(available_mbufs(), held + 1);  // only the indirect mbuf: the parent is still held

  // Retransmission from SND.UNA covers the rest, across the mbuf boundary.
  rte_mbuf* rtx = sb.make_segment(sb.una(), 1448, mbuf_pool());
  ASSERT_NE(rtx, nullptr);
  EXPECT_EQ(chain_bytes(rtx), expected(1000, 1448));
  EXPECT_EQ(rtx->nb_segs, 2);

  sb.ack(seq32{2896});
  // Everything acknowledged: the data lives on only through the clones.
  EXPECT_EQ(chain_bytes(second), expected(1448, 1448));
  EXPECT_EQ(chain_bytes(rtx), expected(1000, 1448));
  rte_pktmbuf_free(second);
  rte_pktmbuf_free(rtx);
}

TEST_F(SendBuffer, CapacityLimitsLeaveRefusedChainWithCaller) {
  send_buffer sb(3000, 3, seq32{0});
  ASSERT_TRUE(sb.append(stream_mbuf(0, 2000)));
  rte_mbuf* too_big = stream_mbuf(2000, 1001);
  EXPECT_FALSE(sb.append(too_big));
  EXPECT_EQ(sb.bytes(), 2000U);
  EXPECT_EQ(rte_pktmbuf_data_len(too_big), 1001);  // untouched, still ours
  rte_pktmbuf_free(too_big);

  // Segment capacity: a chain of 3 segments does not fit in 2 free descriptors.
  rte_mbuf* chain = stream_mbuf(2000, 200);
  ASSERT_EQ(rte_pktmbuf_chain(chain, stream_mbuf(2200, 200)), 0);
  ASSERT_EQ(rte_pktmbuf_chain(chain, stream_mbuf(2400, 200)), 0);
  EXPECT_FALSE(sb.append(chain));
  EXPECT_EQ(chain->nb_segs, 3);
  EXPECT_EQ(chain->pkt_len, 600U);

  sb.ack(seq32{2000});  // space comes back as ACKs arrive
  EXPECT_TRUE(sb.append(chain));
  EXPECT_EQ(sb.segments(), 3U);
  rte_mbuf* seg = sb.make_segment(seq32{2000}, 1000, mbuf_pool());
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(chain_bytes(seg), expected(2000, 600));
  rte_pktmbuf_free(seg);
}

TEST_F(SendBuffer, ChainWithEmptySegmentIsSplit) {
  send_buffer sb(10000, 8, seq32{0});
  rte_mbuf* chain = stream_mbuf(0, 100);
  ASSERT_EQ(rte_pktmbuf_chain(chain, kbt::test::make_mbuf({})), 0);
  ASSERT_EQ(rte_pktmbuf_chain(chain, stream_mbuf(100, 150)), 0);
  EXPECT_TRUE(sb.append(chain));
  EXPECT_EQ(sb.segments(), 2U);  // the empty one was freed at once
  EXPECT_EQ(sb.bytes(), 250U);
  rte_mbuf* seg = sb.make_segment(seq32{90}, 20, mbuf_pool());
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(chain_bytes(seg), expected(90, 20));
  rte_pktmbuf_free(seg);
}

TEST_F(SendBuffer, SequenceWrapAround) {
  const std::uint32_t iss = 0xfffffff0U;
  send_buffer sb(100000, 16, seq32{iss});
  for (std::uint32_t k = 0; k < 4; ++k) ASSERT_TRUE(sb.append(stream_mbuf(k * 10, 10)));
  EXPECT_EQ(sb.end(), seq32{iss + 40});  // 0x18, past the wrap
  rte_mbuf* seg = sb.make_segment(seq32{0xfffffffaU}, 30, mbuf_pool());
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(chain_bytes(seg), expected(10, 30));
  rte_pktmbuf_free(seg);
  EXPECT_EQ(sb.ack(seq32{0x4}), 20U);
  EXPECT_EQ(sb.una(), seq32{4});
  seg = sb.make_segment(seq32{4}, 100, mbuf_pool());
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(chain_bytes(seg), expected(20, 20));
  rte_pktmbuf_free(seg);
}

TEST_F(SendBuffer, AckOfFinReleasesEverything) {
  send_buffer sb(10000, 4, seq32{100});
  ASSERT_TRUE(sb.append(stream_mbuf(0, 50)));
  const seq32 fin = sb.end();  // the FIN's sequence number
  EXPECT_EQ(sb.ack(fin + 1), 50U);
  EXPECT_EQ(sb.una(), fin);
  EXPECT_EQ(sb.bytes(), 0U);
}

TEST_F(SendBuffer, OutOfIndirectMbufsReturnsNullAndLeaksNothing) {
  rte_mempool* tiny = rte_pktmbuf_pool_create("sb_tiny", 3, 0, 0, 0, SOCKET_ID_ANY);
  ASSERT_NE(tiny, nullptr);
  {
    send_buffer sb(10000, 8, seq32{0});
    for (std::uint32_t k = 0; k < 5; ++k) ASSERT_TRUE(sb.append(stream_mbuf(k * 200, 200)));
    EXPECT_EQ(sb.make_segment(seq32{0}, 1000, tiny), nullptr);  // needs 5 pieces, 3 exist
    EXPECT_EQ(rte_mempool_avail_count(tiny), 3U);
    rte_mbuf* seg = sb.make_segment(seq32{0}, 600, tiny);
    ASSERT_NE(seg, nullptr);
    EXPECT_EQ(rte_mempool_avail_count(tiny), 0U);
    rte_pktmbuf_free(seg);
  }
  EXPECT_EQ(rte_mempool_avail_count(tiny), 3U);
  rte_mempool_free(tiny);
}

TEST_F(SendBuffer, ClearResetAndDestructorFree) {
  const unsigned start = available_mbufs();
  {
    send_buffer sb(10000, 8, seq32{0});
    ASSERT_TRUE(sb.append(stream_mbuf(0, 100)));
    sb.clear();
    EXPECT_EQ(available_mbufs(), start);
    EXPECT_EQ(sb.una(), seq32{0});
    ASSERT_TRUE(sb.append(stream_mbuf(0, 100)));
    sb.reset(seq32{777});
    EXPECT_EQ(sb.una(), seq32{777});
    EXPECT_EQ(sb.bytes(), 0U);
    ASSERT_TRUE(sb.append(stream_mbuf(0, 100)));
    send_buffer moved(std::move(sb));
    EXPECT_EQ(moved.bytes(), 100U);
    EXPECT_EQ(sb.bytes(), 0U);  // NOLINT(bugprone-use-after-move): moved-from is empty
  }
  EXPECT_EQ(available_mbufs(), start);
}

// A model-checked walk: random appends, segments and ACKs against the
// stream's known bytes.
TEST_F(SendBuffer, RandomAppendSegmentAck) {
  std::mt19937 rng(42);
  send_buffer sb(64 * 1024, 128, seq32{0xffff0000U});
  std::uint32_t appended = 0;  // stream offset of end()
  std::uint32_t acked = 0;     // stream offset of una()
  for (int round = 0; round < 2000; ++round) {
    const std::uint32_t len = 1 + rng() % 2000;
    if (sb.free_space() >= len && sb.free_segments() > 0) {
      ASSERT_TRUE(sb.append(stream_mbuf(appended, len)));
      appended += len;
    }
    const std::uint32_t held = appended - acked;
    if (held > 0) {
      const std::uint32_t off = acked + rng() % held;
      const std::uint32_t max_len = 1 + rng() % 3000;
      rte_mbuf* seg = sb.make_segment(sb.una() + (off - acked), max_len, mbuf_pool(), 64);
      ASSERT_NE(seg, nullptr);
      ASSERT_EQ(chain_bytes(seg), expected(off, seg->pkt_len));
      ASSERT_EQ(seg->pkt_len, std::min(max_len, appended - off));
      rte_pktmbuf_free(seg);
      const std::uint32_t adv = rng() % (held + 1) / 2;
      ASSERT_EQ(sb.ack(sb.una() + adv), adv);
      acked += adv;
    }
    ASSERT_EQ(sb.bytes(), appended - acked);
  }
}

}  // namespace
