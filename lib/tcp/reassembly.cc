#include "tcp/reassembly.hh"

#include <algorithm>

namespace kbt::tcp {

using wire::seq32;

namespace {

// Drops the first n bytes of a chain (0 < n < pkt_len) and returns its new
// head, with pkt_len and nb_segs right. Whole leading segments are freed;
// the rest is an offset change (no byte moves).
rte_mbuf* trim_front(rte_mbuf* head, std::uint32_t n) noexcept {
  const std::uint32_t pkt_len = head->pkt_len - n;
  std::uint16_t nb_segs = head->nb_segs;
  while (n > 0 && n >= head->data_len) {
    n -= head->data_len;
    rte_mbuf* next = head->next;
    head->next = nullptr;
    rte_pktmbuf_free_seg(head);
    head = next;
    --nb_segs;
  }
  head->data_off = static_cast<std::uint16_t>(head->data_off + n);
  head->data_len = static_cast<std::uint16_t>(head->data_len - n);
  head->pkt_len = pkt_len;
  head->nb_segs = nb_segs;
  return head;
}

// Keeps the first `keep` bytes of a chain (0 < keep <= pkt_len), frees the
// segments after them and returns the new last segment.
rte_mbuf* trim_back(rte_mbuf* head, std::uint32_t keep) noexcept {
  std::uint32_t before = 0;
  std::uint16_t nb_segs = 1;
  rte_mbuf* s = head;
  while (before + s->data_len < keep) {
    before += s->data_len;
    s = s->next;
    ++nb_segs;
  }
  s->data_len = static_cast<std::uint16_t>(keep - before);
  if (s->next != nullptr) {
    rte_pktmbuf_free(s->next);
    s->next = nullptr;
  }
  head->pkt_len = keep;
  head->nb_segs = nb_segs;
  return s;
}

}  // namespace

reassembly::reassembly(std::uint32_t max_bytes, std::uint32_t max_segments)
    : _max_bytes(max_bytes),
      _max_segments(std::clamp<std::uint32_t>(max_segments, 1, kMaxSegmentsCap)) {
  // Every run holds at least one segment, so max_segments runs always fit;
  // the segment at RCV.NXT, accepted even over the bound, may need one more.
  _capacity = _max_segments + 1;
  _runs = std::make_unique<run[]>(_capacity);
}

reassembly::~reassembly() { clear(); }

void reassembly::clear() noexcept {
  for (std::uint32_t i = 0; i < _count; ++i) rte_pktmbuf_free(_runs[i].head);
  _count = 0;
  _bytes = 0;
  _segments = 0;
  _have_fin = false;
  _recent_count = 0;
}

void reassembly::free_run(run& r) noexcept {
  _bytes -= r.len;
  _segments -= r.head->nb_segs;
  rte_pktmbuf_free(r.head);
  r = run{};
}

std::uint32_t reassembly::first_ending_after(seq32 seq) const noexcept {
  // Fast path: a segment beyond everything held (the usual case after a
  // loss, when later segments keep arriving in order above the hole).
  if (_count == 0 || _runs[_count - 1].end() <= seq) return _count;
  std::uint32_t lo = 0;
  std::uint32_t hi = _count - 1;  // the answer is in [lo, hi]
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    if (_runs[mid].end() > seq) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

void reassembly::merge_with_next(std::uint32_t i) noexcept {
  run& a = _runs[i];
  const run& b = _runs[i + 1];
  // Link the chains; nb_segs cannot overflow since the total is bounded by
  // max_segments <= RTE_MBUF_MAX_NB_SEGS.
  a.last->next = b.head;
  a.head->nb_segs = static_cast<std::uint16_t>(a.head->nb_segs + b.head->nb_segs);
  a.head->pkt_len += b.len;
  a.last = b.last;
  a.len += b.len;
  std::copy(_runs.get() + (i + 2), _runs.get() + _count, _runs.get() + (i + 1));
  --_count;
}

void reassembly::drop_below(seq32 rcv_nxt) noexcept {
  // Runs the caller has meanwhile delivered directly (an in-order segment
  // that overlapped queued data) are freed or trimmed here.
  std::uint32_t gone = 0;
  while (gone < _count && _runs[gone].end() <= rcv_nxt) free_run(_runs[gone++]);
  if (gone > 0) {
    std::copy(_runs.get() + gone, _runs.get() + _count, _runs.get());
    _count -= gone;
  }
  if (_count > 0 && _runs[0].seq < rcv_nxt) {
    run& r = _runs[0];
    const auto cut = static_cast<std::uint32_t>(rcv_nxt - r.seq);
    const std::uint16_t before = r.head->nb_segs;
    r.head = trim_front(r.head, cut);
    _segments -= before - r.head->nb_segs;
    _bytes -= cut;
    r.len -= cut;
    r.seq = rcv_nxt;
  }
}

bool reassembly::note_fin(seq32 rcv_nxt, seq32 fin_seq) noexcept {
  // The first FIN wins; one that contradicts it, lies below RCV.NXT or below
  // data already held is not believed (RFC 9293 §3.10.7.4 eighth: nothing
  // follows a FIN).
  if (_have_fin || fin_seq < rcv_nxt) return false;
  if (_count > 0 && _runs[_count - 1].end() > fin_seq) return false;
  _have_fin = true;
  _fin_seq = fin_seq;
  return true;
}

void reassembly::note_recent(seq32 seq, std::uint32_t run_index) noexcept {
  // RFC 2018 §4: blocks after the first repeat the most recently reported
  // blocks "that are not subsets of a SACK block already included", so keep
  // one entry per run: forget older entries of the run seq now belongs to.
  const run& r = _runs[run_index];
  std::uint8_t kept = 0;
  std::array<seq32, kMaxSackBlocks> next{};
  next[kept++] = seq;
  for (std::uint8_t k = 0; k < _recent_count && kept < next.size(); ++k) {
    if (!wire::in_window(_recent[k], r.seq, r.len)) next[kept++] = _recent[k];
  }
  _recent = next;
  _recent_count = kept;
}

reassembly::insert_result reassembly::insert(seq32 rcv_nxt, seq32 seq, rte_mbuf* payload,
                                             std::uint32_t len, bool fin,
                                             std::uint32_t max_segments) noexcept {
  // The payload is exactly `len` bytes from here on (Ethernet pads short
  // frames; the padding is not TCP data).
  if (payload != nullptr) {
    len = std::min(len, payload->pkt_len);
    if (len == 0) {
      rte_pktmbuf_free(payload);
      payload = nullptr;
    } else if (payload->pkt_len > len) {
      trim_back(payload, len);
    }
  } else {
    len = 0;
  }
  const bool fin_new = fin && note_fin(rcv_nxt, seq + len);
  drop_below(rcv_nxt);

  // Nothing follows a FIN: cut data beyond it.
  if (payload != nullptr && _have_fin && seq + len > _fin_seq) {
    const std::uint32_t keep = seq < _fin_seq ? static_cast<std::uint32_t>(_fin_seq - seq) : 0;
    if (keep == 0) {
      rte_pktmbuf_free(payload);
      payload = nullptr;
    } else {
      trim_back(payload, keep);
    }
    len = keep;
  }
  // Bytes below RCV.NXT were delivered already.
  if (payload != nullptr && seq < rcv_nxt) {
    const auto cut = static_cast<std::uint32_t>(rcv_nxt - seq);
    if (cut >= len) {
      rte_pktmbuf_free(payload);
      payload = nullptr;
    } else {
      payload = trim_front(payload, cut);
      seq = rcv_nxt;
      len -= cut;
    }
  }
  insert_result result{};
  if (payload != nullptr) {
    result = insert_data(seq, payload, len, seq == rcv_nxt, std::min(max_segments, _max_segments));
  }
  if (fin_new && result.status == insert_status::duplicate) result.status = insert_status::queued;
  return result;
}

reassembly::insert_result reassembly::insert_data(seq32 seq, rte_mbuf* m, std::uint32_t len,
                                                  bool in_order,
                                                  std::uint32_t max_segments) noexcept {
  const seq32 end = seq + len;
  const std::uint32_t i = first_ending_after(seq);
  if (i < _count && _runs[i].seq <= seq && end <= _runs[i].end()) {
    rte_pktmbuf_free(m);  // every byte already held
    return {insert_status::duplicate, 0};
  }

  // Plan before changing anything, so a segment refused for the bound
  // leaves the queue exactly as it was.
  const bool left_cut = i < _count && _runs[i].seq < seq;  // run i keeps [seq_i, seq)
  const std::uint32_t first = left_cut ? i + 1 : i;         // first run the segment may cover
  std::uint32_t j = first;
  std::uint32_t overlap = left_cut ? static_cast<std::uint32_t>(_runs[i].end() - seq) : 0;
  std::uint32_t covered_segs = 0;
  while (j < _count && _runs[j].end() <= end) {
    overlap += _runs[j].len;
    covered_segs += _runs[j].head->nb_segs;
    ++j;
  }
  const bool right_cut = j < _count && _runs[j].seq < end;  // run j loses [seq_j, end)
  if (right_cut) overlap += static_cast<std::uint32_t>(end - _runs[j].seq);
  const std::uint32_t covered = j - first;
  // Partial trims may free segments too; not counting them errs on the safe side.
  std::uint64_t new_bytes = std::uint64_t{_bytes} + len - overlap;
  std::uint64_t new_segs = std::uint64_t{_segments} + m->nb_segs - covered_segs;
  auto over = [&]() noexcept {
    return new_bytes > _max_bytes || new_segs > max_segments ||
           (covered == 0 && _count == _capacity);
  };
  std::uint32_t reneged = 0;
  if (over()) {
    if (!in_order) {
      rte_pktmbuf_free(m);
      return {insert_status::over_limit, len};
    }
    // The segment at RCV.NXT is never refused, or a full queue could wait
    // forever for the one segment that would drain it. Room comes from the
    // highest runs instead: RFC 2018 §8 lets a receiver discard SACKed data
    // (the sender keeps it until cumulatively acknowledged).
    const std::uint32_t keep = right_cut ? j + 1 : j;  // runs entirely above end start here
    while (over() && _count > keep) {
      run& r = _runs[_count - 1];
      reneged += r.len;
      new_bytes -= r.len;
      new_segs -= r.head->nb_segs;
      free_run(r);
      --_count;
    }
  }

  if (left_cut) {
    run& l = _runs[i];
    const auto keep = static_cast<std::uint32_t>(seq - l.seq);
    const std::uint16_t before = l.head->nb_segs;
    l.last = trim_back(l.head, keep);
    _segments -= before - l.head->nb_segs;
    _bytes -= l.len - keep;
    l.len = keep;
  }
  for (std::uint32_t k = first; k < j; ++k) free_run(_runs[k]);
  if (right_cut) {
    run& r = _runs[j];
    const auto cut = static_cast<std::uint32_t>(end - r.seq);
    const std::uint16_t before = r.head->nb_segs;
    r.head = trim_front(r.head, cut);
    _segments -= before - r.head->nb_segs;
    _bytes -= cut;
    r.len -= cut;
    r.seq = end;
  }
  // The new run takes the slot of the runs it covered.
  if (covered == 0) {
    std::copy_backward(_runs.get() + first, _runs.get() + _count, _runs.get() + (_count + 1));
  } else if (covered > 1) {
    std::copy(_runs.get() + j, _runs.get() + _count, _runs.get() + (first + 1));
  }
  _count = _count + 1 - covered;
  _runs[first] = run{seq, len, m, rte_pktmbuf_lastseg(m)};
  _bytes += len;
  _segments += m->nb_segs;

  std::uint32_t at = first;
  if (at + 1 < _count && _runs[at].end() == _runs[at + 1].seq) merge_with_next(at);
  if (at > 0 && _runs[at - 1].end() == _runs[at].seq) merge_with_next(--at);
  note_recent(seq, at);
  return {insert_status::queued, reneged};
}

reassembly::popped reassembly::pop(seq32 rcv_nxt) noexcept {
  drop_below(rcv_nxt);
  popped out{};
  // Runs never touch, so at most one run continues from RCV.NXT.
  if (_count > 0 && _runs[0].seq == rcv_nxt) {
    run& r = _runs[0];
    out.data = r.head;
    out.len = r.len;
    _bytes -= r.len;
    _segments -= r.head->nb_segs;
    std::copy(_runs.get() + 1, _runs.get() + _count, _runs.get());
    --_count;
  }
  if (_have_fin) {
    const seq32 next = rcv_nxt + out.len;
    if (_fin_seq == next) {
      out.fin = true;
      _have_fin = false;
    } else if (_fin_seq < next) {
      _have_fin = false;  // data was delivered past it: it was not a real FIN
    }
  }
  return out;
}

std::size_t reassembly::sack_blocks(std::span<wire::sack_block> out) const noexcept {
  std::size_t n = 0;
  auto add = [&](const run& r) noexcept {
    const wire::sack_block b{r.seq, r.end()};
    for (std::size_t k = 0; k < n; ++k) {
      if (out[k] == b) return;
    }
    out[n++] = b;
  };
  // RFC 2018 §4: newest segment's block first, then other recently reported ones.
  for (std::uint8_t k = 0; k < _recent_count && n < out.size(); ++k) {
    const std::uint32_t i = first_ending_after(_recent[k]);
    if (i < _count && _runs[i].seq <= _recent[k]) add(_runs[i]);
  }
  // Then whatever else is held, so the peer learns as much as fits.
  for (std::uint32_t i = 0; i < _count && n < out.size(); ++i) add(_runs[i]);
  return n;
}

}  // namespace kbt::tcp
