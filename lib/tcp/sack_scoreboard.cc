#include "tcp/sack_scoreboard.hh"

#include <algorithm>

namespace kbt::tcp {

using wire::sack_block;
using wire::seq32;

namespace {

std::uint32_t span_len(seq32 left, seq32 right) noexcept {
  return right > left ? static_cast<std::uint32_t>(right - left) : 0;
}

}  // namespace

void sack_scoreboard::forget_below(seq32 una) noexcept {
  std::size_t gone = 0;
  while (gone < _count && _ranges[gone].right <= una) {
    _sacked -= span_len(_ranges[gone].left, _ranges[gone].right);
    ++gone;
  }
  if (gone > 0) {
    std::copy(_ranges.begin() + static_cast<std::ptrdiff_t>(gone),
              _ranges.begin() + static_cast<std::ptrdiff_t>(_count), _ranges.begin());
    _count -= gone;
  }
  if (_count > 0 && _ranges[0].left < una) {
    _sacked -= span_len(_ranges[0].left, una);
    _ranges[0].left = una;
  }
}

std::uint32_t sack_scoreboard::add(seq32 left, seq32 right) noexcept {
  // Ranges that overlap or touch [left, right) are merged into it.
  std::size_t i = 0;
  while (i < _count && _ranges[i].right < left) ++i;
  std::size_t j = i;
  seq32 l = left;
  seq32 r = right;
  std::uint32_t merged = 0;
  while (j < _count && _ranges[j].left <= right) {
    l = wire::seq_min(l, _ranges[j].left);
    r = wire::seq_max(r, _ranges[j].right);
    merged += span_len(_ranges[j].left, _ranges[j].right);
    ++j;
  }
  const auto first = _ranges.begin() + static_cast<std::ptrdiff_t>(i);
  const auto end = _ranges.begin() + static_cast<std::ptrdiff_t>(_count);
  if (j == i) {
    if (_count == kMaxRanges) {
      // Full: forget the lowest range. Forgetting SACKed data only costs a
      // needless retransmission; merging across a hole would skip a loss.
      if (i == 0) return 0;
      _sacked -= span_len(_ranges[0].left, _ranges[0].right);
      std::copy(_ranges.begin() + 1, first, _ranges.begin());
      --i;
    } else {
      std::copy_backward(first, end, end + 1);
      ++_count;
    }
  } else if (j > i + 1) {
    std::copy(_ranges.begin() + static_cast<std::ptrdiff_t>(j), end, first + 1);
    _count -= j - i - 1;
  }
  _ranges[i] = sack_block{l, r};
  _sacked += span_len(l, r) - merged;
  return span_len(l, r) - merged;
}

std::uint32_t sack_scoreboard::update(seq32 una, seq32 snd_max,
                                      std::span<const sack_block> blocks) noexcept {
  forget_below(una);
  std::uint32_t newly = 0;
  for (const sack_block& b : blocks) {
    if (b.left >= b.right) continue;  // empty or inverted
    if (b.right > snd_max) continue;  // SACKs bytes never sent
    if (b.right <= una) continue;     // D-SACK or stale: nothing above una
    newly += add(wire::seq_max(b.left, una), b.right);
  }
  return newly;
}

bool sack_scoreboard::is_sacked(seq32 seq) const noexcept {
  for (std::size_t k = 0; k < _count; ++k) {
    if (wire::in_window(seq, _ranges[k].left, span_len(_ranges[k].left, _ranges[k].right))) {
      return true;
    }
  }
  return false;
}

bool sack_scoreboard::is_lost(seq32 seq, std::uint32_t smss) const noexcept {
  std::uint32_t ranges_above = 0;
  std::uint32_t bytes_above = 0;
  for (std::size_t k = _count; k-- > 0;) {
    const sack_block& b = _ranges[k];
    if (b.right <= seq) break;
    if (b.left <= seq) return false;  // seq itself is SACKed
    ++ranges_above;
    bytes_above += span_len(b.left, b.right);
  }
  return lost_rule(ranges_above, bytes_above, smss);
}

std::uint32_t sack_scoreboard::pipe(seq32 una, seq32 snd_max, seq32 high_rxt,
                                    std::uint32_t smss) const noexcept {
  // Walk the holes from the top down, so the SACKed ranges above the current
  // hole - what IsLost() looks at - accumulate as we go.
  std::uint32_t in_flight = 0;
  std::uint32_t ranges_above = 0;
  std::uint32_t bytes_above = 0;
  for (std::size_t k = _count + 1; k-- > 0;) {
    if (k < _count) {
      ++ranges_above;
      bytes_above += span_len(wire::seq_max(_ranges[k].left, una), _ranges[k].right);
    }
    const seq32 start = k == 0 ? una : wire::seq_max(_ranges[k - 1].right, una);
    const seq32 end = k == _count ? snd_max : wire::seq_min(_ranges[k].left, snd_max);
    if (end <= start) continue;
    // (a) an unSACKed octet not lost is still in the network.
    if (!lost_rule(ranges_above, bytes_above, smss)) in_flight += span_len(start, end);
    // (b) a retransmitted octet is in the network (again).
    in_flight += span_len(start, wire::seq_min(end, high_rxt));
  }
  return in_flight;
}

sack_scoreboard::next_segment sack_scoreboard::next_seg(seq32 una, seq32 snd_max, seq32 high_rxt,
                                                        std::uint32_t smss,
                                                        std::uint32_t new_data_allowed) const
    noexcept {
  // The holes rules (1) and (3) may pick: unSACKed octets above HighRxt and
  // below the highest SACKed octet, i.e. the holes below each range.
  std::uint32_t bytes_above = 0;
  for (std::size_t k = 0; k < _count; ++k) {
    bytes_above += span_len(wire::seq_max(_ranges[k].left, una), _ranges[k].right);
  }
  next_segment unsacked{};
  for (std::size_t k = 0; k < _count; ++k) {
    const seq32 hole_start = k == 0 ? una : _ranges[k - 1].right;
    const seq32 start = wire::seq_max(wire::seq_max(hole_start, una), high_rxt);
    const seq32 end = _ranges[k].left;
    if (start < end) {
      const std::uint32_t len = std::min(smss, span_len(start, end));
      // (1) the lowest lost octet above HighRxt.
      if (lost_rule(static_cast<std::uint32_t>(_count - k), bytes_above, smss)) {
        return {next_rule::lost, start, len};
      }
      if (unsacked.rule == next_rule::none) unsacked = {next_rule::unsacked, start, len};
    }
    bytes_above -= span_len(wire::seq_max(_ranges[k].left, una), _ranges[k].right);
  }
  // (2) new data, if the window and the application allow.
  if (new_data_allowed > 0) {
    return {next_rule::new_data, snd_max, std::min(smss, new_data_allowed)};
  }
  // (3) the lowest unSACKed octet above HighRxt even though not yet lost.
  return unsacked;
}

}  // namespace kbt::tcp
