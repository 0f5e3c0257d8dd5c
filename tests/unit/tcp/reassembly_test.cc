// reassembly: the out-of-order queue and its SACK blocks. Stream byte k has
// a known value so every delivered byte is checked; every test checks the
// pool is back where it started.
#include "tcp/reassembly.hh"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "test_env.hh"

namespace {

using kbt::tcp::reassembly;
using kbt::test::available_mbufs;
using kbt::wire::sack_block;
using kbt::wire::seq32;
using status = reassembly::insert_status;

std::uint8_t pattern(std::uint32_t k) { return static_cast<std::uint8_t>(k * 13 + k / 256 + 1); }

// An mbuf with stream bytes [from, from + len), each XORed with `mark` so a
// test can tell which copy of a byte survived.
rte_mbuf* stream_mbuf(std::uint32_t from, std::uint32_t len, std::uint8_t mark = 0) {
  std::vector<std::uint8_t> v(len);
  for (std::uint32_t k = 0; k < len; ++k) v[k] = pattern(from + k) ^ mark;
  return kbt::test::make_mbuf(v);
}

std::vector<std::uint8_t> chain_bytes(const rte_mbuf* m) {
  std::vector<std::uint8_t> v;
  for (; m != nullptr; m = m->next) {
    const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
    v.insert(v.end(), p, p + m->data_len);
  }
  return v;
}

// Sequence number of stream byte k, for a stream starting at isn.
struct stream {
  std::uint32_t base;
  seq32 at(std::uint32_t k) const { return seq32{base + k}; }
};

class Reassembly : public testing::Test {
 protected:
  void SetUp() override { _before = available_mbufs(); }
  void TearDown() override { EXPECT_EQ(available_mbufs(), _before) << "mbuf leak"; }

  // Inserts stream bytes [from, from + len) with rcv_nxt at stream byte `next`.
  reassembly::insert_result put(reassembly& q, std::uint32_t next, std::uint32_t from,
                                std::uint32_t len, std::uint8_t mark = 0, bool fin = false) {
    return q.insert(_s.at(next), _s.at(from), stream_mbuf(from, len, mark), len, fin);
  }
  std::vector<sack_block> blocks(const reassembly& q, std::size_t n = 4) {
    std::vector<sack_block> out(4);
    out.resize(q.sack_blocks(std::span<sack_block>(out.data(), n)));
    return out;
  }
  sack_block blk(std::uint32_t from, std::uint32_t to) const { return {_s.at(from), _s.at(to)}; }

  unsigned _before = 0;
  stream _s{1000};
};

TEST_F(Reassembly, SegmentsAboveAHoleWaitThenPopInOrder) {
  reassembly q(64 * 1024, 64);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(put(q, 0, 100, 100).status, status::queued);
  EXPECT_EQ(put(q, 0, 200, 100).status, status::queued);  // continues the run
  EXPECT_EQ(q.bytes(), 200U);
  EXPECT_EQ(q.segments(), 2U);
  EXPECT_EQ(q.runs(), 1U);
  EXPECT_EQ(blocks(q), std::vector<sack_block>{blk(100, 300)});

  auto none = q.pop(_s.at(0));  // the hole at 0..100 is still open
  EXPECT_EQ(none.data, nullptr);
  EXPECT_FALSE(none.fin);

  // The caller delivers [0, 100) directly, then asks for what follows.
  auto got = q.pop(_s.at(100));
  ASSERT_NE(got.data, nullptr);
  EXPECT_EQ(got.len, 200U);
  EXPECT_EQ(got.data->pkt_len, 200U);
  EXPECT_EQ(got.data->nb_segs, 2);
  std::vector<std::uint8_t> want(200);
  for (std::uint32_t k = 0; k < 200; ++k) want[k] = pattern(100 + k);
  EXPECT_EQ(chain_bytes(got.data), want);
  rte_pktmbuf_free(got.data);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.segments(), 0U);
}

// Delivers the stream the way the TCP input path would: the segment at
// RCV.NXT goes straight to the application, then pop() drains the queue.
struct receiver {
  explicit receiver(stream st) : s(st) {}
  reassembly q{1 << 20, 4096};
  stream s;
  std::uint32_t next = 0;
  std::vector<std::uint8_t> got;
  bool fin = false;

  void take(rte_mbuf* m) {
    const auto b = chain_bytes(m);
    got.insert(got.end(), b.begin(), b.end());
    next += static_cast<std::uint32_t>(b.size());
    rte_pktmbuf_free(m);
  }
  void drain() {
    for (;;) {
      auto p = q.pop(s.at(next));
      if (p.data != nullptr) take(p.data);
      fin = fin || p.fin;
      if (p.data == nullptr) return;
    }
  }
  void arrive(std::uint32_t from, std::uint32_t len, bool with_fin) {
    rte_mbuf* m = stream_mbuf(from, len);
    if (from <= next && from + len > next) {
      rte_pktmbuf_adj(m, static_cast<std::uint16_t>(next - from));  // §3.10.7.4 trim
      take(m);
      if (with_fin) fin = true;
      drain();
    } else if (from > next) {
      q.insert(s.at(next), s.at(from), m, len, with_fin);
    } else {
      if (with_fin && from + len == next) fin = true;  // retransmitted FIN
      rte_pktmbuf_free(m);  // old duplicate
    }
  }
};

// Cuts [0, total) into segments of random length.
std::vector<std::pair<std::uint32_t, std::uint32_t>> segmentation(std::mt19937& rng,
                                                                  std::uint32_t total) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> segs;
  for (std::uint32_t at = 0; at < total;) {
    const std::uint32_t len = std::min<std::uint32_t>(1 + rng() % 1500, total - at);
    segs.emplace_back(at, len);
    at += len;
  }
  return segs;
}

TEST_F(Reassembly, RandomPermutationsReassembleTheStream) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const std::uint32_t total = 60000;
    // Two different segmentations (the second as a resegmenting sender's
    // retransmissions would be) and some exact duplicates, shuffled: covers
    // left, right, contained and containing overlaps.
    auto segs = segmentation(rng, total);
    auto again = segmentation(rng, total);
    for (std::size_t k = 0; k < again.size(); k += 3) segs.push_back(again[k]);
    for (std::size_t k = 0; k < 10; ++k) segs.push_back(segs[rng() % segs.size()]);
    std::shuffle(segs.begin(), segs.end(), rng);
    receiver r(stream{0xffff0000U + seed * 1000});  // crosses the 2^32 wrap
    for (const auto& [from, len] : segs) r.arrive(from, len, from + len == total);
    // Whatever was never covered by a segment at RCV.NXT: the original
    // segmentation guarantees every byte is there somewhere.
    ASSERT_EQ(r.got.size(), total);
    for (std::uint32_t k = 0; k < total; ++k) ASSERT_EQ(r.got[k], pattern(k)) << "byte " << k;
    EXPECT_TRUE(r.fin);
    EXPECT_TRUE(r.q.empty());
  }
}

TEST_F(Reassembly, OverlapsNewestBytesWin) {
  reassembly q(64 * 1024, 64);
  ASSERT_EQ(put(q, 0, 200, 100, 0xA0).status, status::queued);
  // Left overlap: [150, 250) replaces [200, 250).
  ASSERT_EQ(put(q, 0, 150, 100, 0xB0).status, status::queued);
  EXPECT_EQ(q.bytes(), 150U);
  EXPECT_EQ(q.runs(), 1U);
  // Right overlap: [280, 350) replaces [280, 300).
  ASSERT_EQ(put(q, 0, 280, 70, 0xC0).status, status::queued);
  EXPECT_EQ(q.bytes(), 200U);
  // Contained: brings nothing new, dropped whole (old bytes stay).
  EXPECT_EQ(put(q, 0, 260, 10, 0xD0).status, status::duplicate);
  EXPECT_EQ(put(q, 0, 150, 200, 0xD0).status, status::duplicate);  // exact
  EXPECT_EQ(q.bytes(), 200U);

  auto p = q.pop(_s.at(150));
  ASSERT_NE(p.data, nullptr);
  const auto b = chain_bytes(p.data);
  ASSERT_EQ(b.size(), 200U);
  for (std::uint32_t k = 150; k < 350; ++k) {
    const std::uint8_t mark = k < 250 ? 0xB0 : k < 280 ? 0xA0 : 0xC0;
    ASSERT_EQ(b[k - 150], pattern(k) ^ mark) << "byte " << k;
  }
  rte_pktmbuf_free(p.data);
}

TEST_F(Reassembly, ContainingSegmentReplacesAndBridgesRuns) {
  reassembly q(64 * 1024, 64);
  put(q, 0, 200, 100);
  put(q, 0, 400, 100);
  put(q, 0, 600, 100);
  EXPECT_EQ(q.runs(), 3U);
  const unsigned held = available_mbufs();
  // [150, 450) contains the first run and overlaps the front of the second.
  EXPECT_EQ(put(q, 0, 150, 300, 0x55).status, status::queued);
  EXPECT_EQ(available_mbufs(), held);  // one in, one (the covered run) out
  EXPECT_EQ(q.runs(), 2U);
  EXPECT_EQ(q.bytes(), 450U);
  EXPECT_EQ(blocks(q), (std::vector<sack_block>{blk(150, 500), blk(600, 700)}));
  // Filling the last hole exactly joins everything into one run.
  EXPECT_EQ(put(q, 0, 500, 100).status, status::queued);
  EXPECT_EQ(q.runs(), 1U);
  EXPECT_EQ(q.segments(), 4U);
  auto p = q.pop(_s.at(150));
  EXPECT_EQ(p.len, 550U);
  EXPECT_EQ(p.data->nb_segs, 4);
  rte_pktmbuf_free(p.data);
}

TEST_F(Reassembly, DataBelowRcvNxtIsTrimmedOrDropped) {
  reassembly q(64 * 1024, 64);
  EXPECT_EQ(put(q, 100, 0, 100).status, status::duplicate);  // all delivered
  EXPECT_EQ(put(q, 100, 50, 100).status, status::queued);     // [100, 150) kept
  EXPECT_EQ(q.bytes(), 50U);
  // The caller delivered up to 120 another way: pop trims the queued copy.
  auto p = q.pop(_s.at(120));
  ASSERT_NE(p.data, nullptr);
  EXPECT_EQ(p.len, 30U);
  std::vector<std::uint8_t> want(30);
  for (std::uint32_t k = 0; k < 30; ++k) want[k] = pattern(120 + k);
  EXPECT_EQ(chain_bytes(p.data), want);
  rte_pktmbuf_free(p.data);
}

TEST_F(Reassembly, MultiSegmentPayloadTrimmedAcrossSegments) {
  reassembly q(64 * 1024, 64);
  rte_mbuf* m = stream_mbuf(0, 100);
  ASSERT_EQ(rte_pktmbuf_chain(m, stream_mbuf(100, 100)), 0);
  ASSERT_EQ(rte_pktmbuf_chain(m, stream_mbuf(200, 100)), 0);
  // rcv_nxt at 150: the first segment is freed, the second trimmed.
  EXPECT_EQ(q.insert(_s.at(150), _s.at(0), m, 300, false).status, status::queued);
  EXPECT_EQ(q.segments(), 2U);
  EXPECT_EQ(q.bytes(), 150U);
  // Ethernet padding: a 6-byte payload in a 60-byte frame keeps only 6.
  rte_mbuf* padded = stream_mbuf(400, 60);
  EXPECT_EQ(q.insert(_s.at(150), _s.at(400), padded, 6, false).status, status::queued);
  EXPECT_EQ(q.bytes(), 156U);
  auto p = q.pop(_s.at(150));
  EXPECT_EQ(p.len, 150U);
  EXPECT_EQ(p.data->nb_segs, 2);
  std::vector<std::uint8_t> want(150);
  for (std::uint32_t k = 0; k < 150; ++k) want[k] = pattern(150 + k);
  EXPECT_EQ(chain_bytes(p.data), want);
  rte_pktmbuf_free(p.data);
}

TEST_F(Reassembly, FinWaitsUntilInOrder) {
  reassembly q(64 * 1024, 64);
  // A bare FIN at 300 arrives first.
  EXPECT_EQ(q.insert(_s.at(0), _s.at(300), nullptr, 0, true).status, status::queued);
  EXPECT_FALSE(q.empty());
  EXPECT_TRUE(q.has_fin());
  EXPECT_EQ(q.fin_seq(), _s.at(300));
  EXPECT_TRUE(blocks(q).empty());  // blocks cover data, not the FIN
  // Data beyond the FIN cannot exist: cut off.
  EXPECT_EQ(put(q, 0, 250, 100).status, status::queued);
  EXPECT_EQ(q.bytes(), 50U);
  // A second FIN elsewhere is not believed.
  EXPECT_EQ(q.insert(_s.at(0), _s.at(400), nullptr, 0, true).status, status::duplicate);
  EXPECT_EQ(q.fin_seq(), _s.at(300));
  put(q, 0, 100, 150);
  auto p = q.pop(_s.at(0));
  EXPECT_EQ(p.data, nullptr);
  EXPECT_FALSE(p.fin);
  p = q.pop(_s.at(100));  // [0, 100) delivered directly
  EXPECT_EQ(p.len, 200U);
  EXPECT_TRUE(p.fin);
  EXPECT_TRUE(q.empty());
  rte_pktmbuf_free(p.data);

  // FIN riding on a data segment; pop with nothing queued but the FIN.
  EXPECT_EQ(put(q, 500, 600, 100, 0, true).status, status::queued);
  EXPECT_EQ(q.fin_seq(), _s.at(700));
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.insert(_s.at(0), _s.at(10), nullptr, 0, true).status, status::queued);
  p = q.pop(_s.at(10));
  EXPECT_EQ(p.data, nullptr);
  EXPECT_TRUE(p.fin);
}

TEST_F(Reassembly, FinBelowHeldDataIsIgnored) {
  reassembly q(64 * 1024, 64);
  put(q, 0, 100, 100);
  EXPECT_EQ(q.insert(_s.at(0), _s.at(150), nullptr, 0, true).status, status::duplicate);
  EXPECT_FALSE(q.has_fin());
  q.clear();
}

TEST_F(Reassembly, ByteBoundDropsNewSegmentAndReportsIt) {
  reassembly q(1000, 64);
  EXPECT_EQ(put(q, 0, 100, 600).status, status::queued);
  const unsigned held = available_mbufs();
  auto r = put(q, 0, 1000, 500);
  EXPECT_EQ(r.status, status::over_limit);
  EXPECT_EQ(r.dropped_bytes, 500U);
  EXPECT_EQ(available_mbufs(), held);  // freed
  EXPECT_EQ(q.bytes(), 600U);
  EXPECT_EQ(q.runs(), 1U);
  // One that replaces held bytes only needs room for what it adds.
  EXPECT_EQ(put(q, 0, 50, 1000).status, status::queued);
  EXPECT_EQ(q.bytes(), 1000U);
  q.clear();
}

TEST_F(Reassembly, SegmentBoundCountsMbufs) {
  reassembly q(1 << 20, 4);
  for (std::uint32_t k = 0; k < 4; ++k) EXPECT_EQ(put(q, 0, 100 + k * 10, 1).status, status::queued);
  EXPECT_EQ(q.segments(), 4U);
  EXPECT_EQ(put(q, 0, 500, 1).status, status::over_limit);
  EXPECT_EQ(q.segments(), 4U);
  // Covering two held segments frees their slots.
  EXPECT_EQ(put(q, 0, 100, 12).status, status::queued);
  EXPECT_EQ(q.segments(), 3U);
  q.clear();
  EXPECT_EQ(q.segments(), 0U);
}

TEST_F(Reassembly, SegmentAtRcvNxtIsNeverDroppedHighestRunsRenegedInstead) {
  reassembly q(1 << 20, 4);
  for (std::uint32_t k = 0; k < 4; ++k) put(q, 0, 100 + k * 10, 1);
  const unsigned held = available_mbufs();
  auto r = put(q, 0, 0, 50);  // at RCV.NXT, queue full
  EXPECT_EQ(r.status, status::queued);
  EXPECT_EQ(r.dropped_bytes, 1U);          // [130, 131) discarded
  EXPECT_EQ(available_mbufs(), held);      // one in, one out
  EXPECT_EQ(q.segments(), 4U);
  EXPECT_EQ(q.runs(), 4U);  // [0, 50) and three of the four 1-byte runs
  auto p = q.pop(_s.at(0));
  EXPECT_EQ(p.len, 50U);
  rte_pktmbuf_free(p.data);
  // Too big to fit even alone: still taken, everything above it reneged.
  reassembly small(100, 64);
  EXPECT_EQ(put(small, 0, 300, 50).status, status::queued);
  r = put(small, 0, 0, 200);
  EXPECT_EQ(r.status, status::queued);
  EXPECT_EQ(r.dropped_bytes, 50U);
  p = small.pop(_s.at(0));
  EXPECT_EQ(p.len, 200U);
  rte_pktmbuf_free(p.data);
  q.clear();
}

TEST_F(Reassembly, SackBlocksMostRecentFirst) {
  reassembly q(1 << 20, 256);
  put(q, 0, 100, 100);
  EXPECT_EQ(blocks(q), std::vector<sack_block>{blk(100, 200)});
  put(q, 0, 300, 100);
  put(q, 0, 500, 100);
  EXPECT_EQ(blocks(q), (std::vector<sack_block>{blk(500, 600), blk(300, 400), blk(100, 200)}));
  // Filling between the first two: the merged block comes first.
  put(q, 0, 200, 100);
  EXPECT_EQ(blocks(q), (std::vector<sack_block>{blk(100, 400), blk(500, 600)}));
  put(q, 0, 700, 100);
  put(q, 0, 900, 100);
  put(q, 0, 1100, 100);
  // Four runs are newer than [100, 400): with timestamps only 3 fit.
  EXPECT_EQ(blocks(q, 3), (std::vector<sack_block>{blk(1100, 1200), blk(900, 1000), blk(700, 800)}));
  // The fourth is [100, 400): it changed (and was reported) after [500, 600).
  EXPECT_EQ(blocks(q, 4),
            (std::vector<sack_block>{blk(1100, 1200), blk(900, 1000), blk(700, 800), blk(100, 400)}));
  // Extending an older run makes it the most recent.
  put(q, 0, 600, 50);
  EXPECT_EQ(blocks(q, 4).front(), blk(500, 650));
  // After RCV.NXT moves past a run it is never reported; others fill in.
  auto p = q.pop(_s.at(100));
  rte_pktmbuf_free(p.data);
  const auto after = blocks(q, 4);
  EXPECT_EQ(after.size(), 4U);
  for (const auto& b : after) EXPECT_NE(b, blk(100, 400));
  q.clear();
}

TEST_F(Reassembly, WrapAround) {
  _s = stream{0xffffff00U};
  reassembly q(1 << 20, 64);
  put(q, 0, 0x180, 0x80);  // entirely past the wrap
  put(q, 0, 0xc0, 0xc0);   // straddles it
  EXPECT_EQ(q.runs(), 1U);
  EXPECT_EQ(blocks(q), std::vector<sack_block>{blk(0xc0, 0x200)});
  EXPECT_EQ(blocks(q)[0].right, seq32{0x100});
  auto p = q.pop(_s.at(0xc0));
  EXPECT_EQ(p.len, 0x140U);
  std::vector<std::uint8_t> want(0x140);
  for (std::uint32_t k = 0; k < 0x140; ++k) want[k] = pattern(0xc0 + k);
  EXPECT_EQ(chain_bytes(p.data), want);
  rte_pktmbuf_free(p.data);
}

TEST_F(Reassembly, DestructorFrees) {
  const unsigned start = available_mbufs();
  {
    reassembly q(1 << 20, 64);
    put(q, 0, 100, 100);
    put(q, 0, 300, 100);
    EXPECT_EQ(available_mbufs(), start - 2);
  }
  EXPECT_EQ(available_mbufs(), start);
}

}  // namespace
