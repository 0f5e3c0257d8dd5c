// sack_scoreboard: RFC 6675 §4 Update / IsLost / SetPipe / NextSeg on
// hand-built SACK patterns. The common shape: SND.UNA = 1000, SMSS = 100,
// ten segments sent (S0 = [1000, 1100) ... S9 = [1900, 2000)).
#include "tcp/sack_scoreboard.hh"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace {

using kbt::tcp::sack_scoreboard;
using kbt::wire::sack_block;
using kbt::wire::seq32;
using rule = sack_scoreboard::next_rule;

constexpr std::uint32_t kSmss = 100;

class SackScoreboard : public testing::Test {
 protected:
  seq32 at(std::uint32_t off) const { return seq32{_base + off}; }
  // Segment n of the flight: [base + 1000 + 100n, +100).
  sack_block seg(std::uint32_t first, std::uint32_t last_inclusive) const {
    return {at(1000 + first * kSmss), at(1000 + (last_inclusive + 1) * kSmss)};
  }
  std::uint32_t update(std::vector<sack_block> blocks) {
    return _sb.update(una(), max(), blocks);
  }
  seq32 una() const { return at(1000); }
  seq32 max() const { return at(2000); }

  std::uint32_t _base = 0;
  sack_scoreboard _sb;
};

TEST_F(SackScoreboard, InvalidBlocksAreIgnored) {
  EXPECT_EQ(update({{at(1500), at(1500)}}), 0U);  // empty
  EXPECT_EQ(update({{at(1600), at(1500)}}), 0U);  // inverted
  EXPECT_EQ(update({{at(1900), at(2100)}}), 0U);  // beyond SND.MAX
  EXPECT_EQ(update({{at(800), at(900)}}), 0U);    // D-SACK below SND.UNA
  EXPECT_EQ(update({{at(900), at(1000)}}), 0U);   // ends at SND.UNA
  EXPECT_TRUE(_sb.empty());
  // Straddling SND.UNA: only the part above counts.
  EXPECT_EQ(update({{at(900), at(1100)}}), 100U);
  EXPECT_EQ(_sb.ranges().size(), 1U);
  EXPECT_EQ(_sb.ranges()[0], (sack_block{at(1000), at(1100)}));
}

TEST_F(SackScoreboard, UpdateMergesAndCountsNewlySacked) {
  EXPECT_EQ(update({seg(3, 3)}), 100U);
  EXPECT_EQ(update({seg(3, 3)}), 0U);  // nothing new
  EXPECT_EQ(update({seg(5, 5), seg(3, 3)}), 100U);
  EXPECT_EQ(update({seg(4, 4), seg(5, 5), seg(3, 3)}), 100U);  // touching: one range
  ASSERT_EQ(_sb.ranges().size(), 1U);
  EXPECT_EQ(_sb.ranges()[0], seg(3, 5));
  EXPECT_EQ(update({seg(2, 7)}), 300U);
  EXPECT_EQ(_sb.sacked_bytes(), 600U);
  EXPECT_TRUE(_sb.is_sacked(at(1200)));
  EXPECT_TRUE(_sb.is_sacked(at(1799)));
  EXPECT_FALSE(_sb.is_sacked(at(1800)));
  EXPECT_FALSE(_sb.is_sacked(at(1199)));
  EXPECT_EQ(_sb.high_sacked(), at(1800));

  // A cumulative ACK to the middle of the range forgets what it covers.
  EXPECT_EQ(_sb.update(at(1500), max(), {}), 0U);
  EXPECT_EQ(_sb.sacked_bytes(), 300U);
  EXPECT_EQ(_sb.ranges()[0], seg(5, 7));
  EXPECT_EQ(_sb.update(at(1900), max(), {}), 0U);
  EXPECT_TRUE(_sb.empty());
  EXPECT_EQ(_sb.sacked_bytes(), 0U);
}

// S3, S5 and S7 SACKed: three discontiguous SACKed sequences above S0..S2.
TEST_F(SackScoreboard, IsLostByRangesAndByBytes) {
  update({seg(7, 7), seg(5, 5), seg(3, 3)});
  EXPECT_TRUE(_sb.is_lost(at(1000), kSmss));   // 3 ranges above
  EXPECT_TRUE(_sb.is_lost(at(1299), kSmss));
  EXPECT_FALSE(_sb.is_lost(at(1300), kSmss));  // SACKed itself
  EXPECT_FALSE(_sb.is_lost(at(1400), kSmss));  // 2 ranges, 200 bytes: not more than 2 * SMSS
  EXPECT_FALSE(_sb.is_lost(at(1600), kSmss));
  EXPECT_FALSE(_sb.is_lost(at(1800), kSmss));  // nothing above

  // Range rule alone: three small discontiguous ranges, 150 bytes in all.
  _sb.reset();
  update({{at(1300), at(1350)}, {at(1500), at(1550)}});
  EXPECT_FALSE(_sb.is_lost(at(1000), kSmss));
  update({{at(1700), at(1750)}});
  EXPECT_TRUE(_sb.is_lost(at(1000), kSmss));
  EXPECT_FALSE(_sb.is_lost(at(1350), kSmss));

  // Byte rule: one contiguous range of 3 segments is more than 2 * SMSS.
  _sb.reset();
  update({seg(4, 6)});
  EXPECT_TRUE(_sb.is_lost(at(1000), kSmss));
  _sb.reset();
  update({seg(4, 5)});
  EXPECT_FALSE(_sb.is_lost(at(1000), kSmss));  // exactly 2 * SMSS
  update({{at(1600), at(1601)}});               // one more byte, touching: 201 bytes
  EXPECT_TRUE(_sb.is_lost(at(1000), kSmss));
}

TEST_F(SackScoreboard, SetPipe) {
  update({seg(7, 7), seg(5, 5), seg(3, 3)});
  // Holes: [1000,1300) lost; [1400,1500) and [1600,1700) not lost; [1800,2000)
  // above everything SACKed, not lost.
  EXPECT_EQ(_sb.pipe(una(), max(), una(), kSmss), 100U + 100U + 200U);
  // After retransmitting S0, it is in the network again.
  EXPECT_EQ(_sb.pipe(una(), max(), at(1100), kSmss), 500U);
  // A retransmitted octet that is not lost counts twice (RFC 6675 §4 (a)+(b)).
  EXPECT_EQ(_sb.pipe(una(), max(), at(1450), kSmss), 300U + 400U + 50U);
  // No SACK at all: everything outstanding is in flight.
  _sb.reset();
  EXPECT_EQ(_sb.pipe(una(), max(), una(), kSmss), 1000U);
}

TEST_F(SackScoreboard, NextSegOrder) {
  update({seg(7, 7), seg(5, 5), seg(3, 3)});
  // (1) the lowest lost hole first.
  auto n = _sb.next_seg(una(), max(), una(), kSmss, 1000);
  EXPECT_EQ(n.rule, rule::lost);
  EXPECT_EQ(n.seq, at(1000));
  EXPECT_EQ(n.len, kSmss);
  n = _sb.next_seg(una(), max(), at(1100), kSmss, 1000);
  EXPECT_EQ(n.rule, rule::lost);
  EXPECT_EQ(n.seq, at(1100));
  // A retransmission never covers SACKed bytes: cut at the hole's end.
  n = _sb.next_seg(una(), max(), at(1250), kSmss, 1000);
  EXPECT_EQ(n.rule, rule::lost);
  EXPECT_EQ(n.seq, at(1250));
  EXPECT_EQ(n.len, 50U);
  // Lost holes all retransmitted: (2) new data from SND.MAX.
  n = _sb.next_seg(una(), max(), at(1300), kSmss, 1000);
  EXPECT_EQ(n.rule, rule::new_data);
  EXPECT_EQ(n.seq, max());
  EXPECT_EQ(n.len, kSmss);
  n = _sb.next_seg(una(), max(), at(1300), kSmss, 40);
  EXPECT_EQ(n.len, 40U);
  // No new data allowed: (3) the lowest unSACKed hole not yet lost.
  n = _sb.next_seg(una(), max(), at(1300), kSmss, 0);
  EXPECT_EQ(n.rule, rule::unsacked);
  EXPECT_EQ(n.seq, at(1400));
  EXPECT_EQ(n.len, kSmss);
  n = _sb.next_seg(una(), max(), at(1500), kSmss, 0);
  EXPECT_EQ(n.seq, at(1600));
  // Above the highest SACKed octet nothing qualifies for (1) or (3).
  n = _sb.next_seg(una(), max(), at(1700), kSmss, 0);
  EXPECT_EQ(n.rule, rule::none);
}

TEST_F(SackScoreboard, NextSegPrefersLowestLostOverHigherLost) {
  // S1 and S4 both lost (each has 3+ SACKed ranges above).
  update({seg(9, 9), seg(7, 7), seg(5, 5), seg(2, 3)});
  auto n = _sb.next_seg(una(), max(), una(), kSmss, 0);
  EXPECT_EQ(n.rule, rule::lost);
  EXPECT_EQ(n.seq, at(1000));
  n = _sb.next_seg(una(), max(), at(1200), kSmss, 0);
  EXPECT_EQ(n.rule, rule::lost);
  EXPECT_EQ(n.seq, at(1400));
}

TEST_F(SackScoreboard, BoundedRangesDropTheLowest) {
  // 40 disjoint one-byte ranges, every other byte, from SND.UNA + 1.
  _sb.update(una(), at(1100), {});
  for (std::uint32_t k = 0; k < 40; ++k) {
    _sb.update(una(), at(1100), std::vector<sack_block>{{at(1001 + 2 * k), at(1002 + 2 * k)}});
  }
  ASSERT_EQ(_sb.ranges().size(), sack_scoreboard::kMaxRanges);
  EXPECT_EQ(_sb.ranges()[0].left, at(1001 + 2 * 8));  // the 8 lowest were forgotten
  EXPECT_EQ(_sb.sacked_bytes(), sack_scoreboard::kMaxRanges);
  // A new range below all held ones is the one left out.
  EXPECT_EQ(_sb.update(una(), at(1100), std::vector<sack_block>{{at(1001), at(1002)}}), 0U);
  EXPECT_EQ(_sb.ranges()[0].left, at(1017));
  // Merging still works when full.
  EXPECT_EQ(_sb.update(una(), at(1100), std::vector<sack_block>{{at(1017), at(1021)}}), 2U);
  EXPECT_EQ(_sb.ranges().size(), sack_scoreboard::kMaxRanges - 2);  // three became one
}

TEST_F(SackScoreboard, ResetOnRto) {
  update({seg(7, 7), seg(5, 5), seg(3, 3)});
  _sb.reset();
  EXPECT_TRUE(_sb.empty());
  EXPECT_EQ(_sb.sacked_bytes(), 0U);
  EXPECT_FALSE(_sb.is_sacked(at(1300)));
  EXPECT_FALSE(_sb.is_lost(at(1000), kSmss));
  EXPECT_EQ(_sb.next_seg(una(), max(), una(), kSmss, 0).rule, rule::none);
}

TEST_F(SackScoreboard, WrapAround) {
  _base = 0xfffffb00U;  // S0 .. S9 straddle 2^32 (una at 0xfffffee8)
  update({seg(7, 7), seg(5, 5), seg(3, 3)});
  EXPECT_EQ(_sb.sacked_bytes(), 300U);
  EXPECT_TRUE(_sb.is_lost(at(1000), kSmss));
  EXPECT_EQ(_sb.pipe(una(), max(), una(), kSmss), 400U);
  auto n = _sb.next_seg(una(), max(), una(), kSmss, 0);
  EXPECT_EQ(n.rule, rule::lost);
  EXPECT_EQ(n.seq, at(1000));
  n = _sb.next_seg(una(), max(), at(1300), kSmss, 0);
  EXPECT_EQ(n.seq, at(1400));
  EXPECT_EQ(_sb.update(at(1600), max(), {}), 0U);
  EXPECT_EQ(_sb.sacked_bytes(), 100U);
}

}  // namespace
