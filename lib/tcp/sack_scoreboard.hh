#pragma once
// The sender's SACK scoreboard and the queries of RFC 6675 (conservative
// SACK-based loss recovery), §3 and §4: Update(), IsLost(), SetPipe() and
// NextSeg() rules (1)-(3).
//
// State: the SACKed ranges above SND.UNA, sorted and disjoint (adjacent
// ranges are merged), in a fixed array - no allocation at all. RFC 6675's
// other variables stay with the caller, who passes them in:
//   HighACK  = SND.UNA
//   HighData = SND.MAX, the highest sequence number sent (not SND.NXT, which
//              goes back after an RTO)
//   HighRxt  = `high_rxt`, taken here as ONE PAST the last retransmitted
//              octet ("S <= HighRxt" in the RFC is "s < high_rxt" here); start
//              each recovery with high_rxt = SND.UNA and set it to seq + len
//              after each retransmission NextSeg() asked for.
// Rule (4), the rescue retransmission, is left to the caller: it needs
// RescueRxt and RecoveryPoint, which are recovery state, not scoreboard state.
//
// IsLost() counts "DupThresh discontiguous SACKed sequences" as separate
// SACKed ranges above the sequence number (the RFC's literal wording), plus the
// byte rule "more than (DupThresh - 1) * SMSS bytes SACKed above". Both are
// constant across a hole, so SetPipe() and NextSeg() work per hole, not per
// octet or per segment: O(ranges).
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/seq32.hh"
#include "wire/tcp_options.hh"

namespace kbt::tcp {

class sack_scoreboard {
 public:
  // RFC 6675 §2 DupThresh (RFC 5681 §3.2).
  static constexpr std::uint32_t kDupThresh = 3;
  // Ranges remembered. Each ACK carries at most 4 blocks; a hole between
  // ranges is a loss, and more than 31 losses in one window is beyond what
  // SACK recovery is for (the RTO handles it). When full, the lowest range is
  // forgotten: its bytes may then be retransmitted needlessly, never skipped.
  static constexpr std::size_t kMaxRanges = 32;

  // What NextSeg() chose, and by which rule of RFC 6675 §4.
  enum class next_rule : std::uint8_t {
    none,        // nothing to send now
    lost,        // (1) retransmit the lowest lost hole above HighRxt
    new_data,    // (2) send previously unsent data from SND.MAX
    unsacked,    // (3) retransmit an unSACKed hole that is not yet lost
  };
  struct next_segment {
    next_rule rule = next_rule::none;
    wire::seq32 seq;
    std::uint32_t len = 0;
  };

  // RFC 6675 §4 Update(): records the valid SACK blocks of an ACK and forgets
  // everything at or below `una`. Returns the newly SACKed bytes (non-zero
  // makes the ACK a "DupAck" in the RFC 6675 §2 sense when it does not advance
  // SND.UNA). Invalid blocks are ignored: left >= right (RFC 2018 §3, a block
  // is [left, right)); right above snd_max (SACKs data never sent); right at or
  // below una (a D-SACK, RFC 2883 §4, or stale). A block straddling una
  // counts for its part above una.
  std::uint32_t update(wire::seq32 una, wire::seq32 snd_max,
                       std::span<const wire::sack_block> blocks) noexcept;

  bool is_sacked(wire::seq32 seq) const noexcept;

  // RFC 6675 §4 IsLost(SeqNum). A SACKed octet is never lost.
  bool is_lost(wire::seq32 seq, std::uint32_t smss) const noexcept;

  // RFC 6675 §4 SetPipe(): octets in flight between una and snd_max - each
  // unSACKed octet not judged lost counts once, and once more if it was
  // retransmitted (below high_rxt).
  std::uint32_t pipe(wire::seq32 una, wire::seq32 snd_max, wire::seq32 high_rxt,
                     std::uint32_t smss) const noexcept;

  // RFC 6675 §4 NextSeg(). new_data_allowed: unsent bytes the caller may send
  // (min of what is queued and what the receive window allows), used by rule (2).
  // Retransmissions are cut at smss and at the next SACKed range.
  next_segment next_seg(wire::seq32 una, wire::seq32 snd_max, wire::seq32 high_rxt,
                        std::uint32_t smss, std::uint32_t new_data_allowed) const noexcept;

  // RFC 6675 §5.1 and RFC 2018 §8: after an RTO the receiver may have reneged,
  // so the sender expunges the SACK information it had.
  void reset() noexcept {
    _count = 0;
    _sacked = 0;
  }

  std::uint32_t sacked_bytes() const noexcept { return _sacked; }
  bool empty() const noexcept { return _count == 0; }
  // One past the highest SACKed octet (a default seq32 when empty()).
  wire::seq32 high_sacked() const noexcept {
    return _count == 0 ? wire::seq32{} : _ranges[_count - 1].right;
  }
  std::span<const wire::sack_block> ranges() const noexcept { return {_ranges.data(), _count}; }

 private:
  // Clip the board to what lies above una.
  void forget_below(wire::seq32 una) noexcept;
  // Merges [left, right) in; returns the bytes it newly SACKed.
  std::uint32_t add(wire::seq32 left, wire::seq32 right) noexcept;
  static bool lost_rule(std::uint32_t ranges_above, std::uint32_t bytes_above,
                        std::uint32_t smss) noexcept {
    return ranges_above >= kDupThresh || bytes_above > (kDupThresh - 1) * smss;
  }

  std::array<wire::sack_block, kMaxRanges> _ranges{};
  std::size_t _count = 0;
  std::uint32_t _sacked = 0;
};

}  // namespace kbt::tcp
