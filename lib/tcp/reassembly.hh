#pragma once
// The receive side's out-of-order queue (RFC 9293 §3.10.7.4, seventh,
// "process the segment text": segments beyond RCV.NXT "may be held for later
// processing") and the SACK blocks that describe it (RFC 2018 §4).
//
// Layout: a fixed array, sorted by sequence number, of runs of contiguous
// bytes. Each run is one mbuf chain (segments linked through `next`, with
// the head's pkt_len/nb_segs kept right), so a segment that continues a run
// is appended in O(1) and a run is exactly one SACK block. Runs never touch:
// there is always at least one missing byte between two runs. Nothing is
// allocated after construction; mbufs are only linked, trimmed and freed.
//
// Overlap policy (RFC 9293 leaves the choice open): a segment that brings no
// new byte (everything already held or already delivered) is dropped whole;
// otherwise the NEWEST segment's bytes win, and held runs it overlaps are
// trimmed or freed. This never has to split an mbuf (which would need an
// allocation that can fail): keeping the oldest bytes would, whenever a new
// segment spans a held run. Linux keeps the first bytes instead; for a peer
// that retransmits the same bytes the result is the same.
//
// Bound: max_bytes and max_segments (mbuf segments, since memory is spent per
// mbuf, not per byte: 1-byte segments each pin a whole buffer). An
// out-of-order segment that would go over either bound is dropped and
// reported as over_limit. The segment at RCV.NXT is never dropped - a full
// queue would otherwise wait forever for the one segment that drains it -
// instead whole runs above it are discarded, highest first (reneging, which
// RFC 2018 §8 allows: the sender keeps SACKed data until it is cumulatively
// acknowledged), and reported in dropped_bytes. Callers that deliver
// in-order data directly and then call pop() never reach that case.
//
// FIN: "a FIN that arrives before the data it follows waits in the reassembly
// queue" - its sequence number (SEG.SEQ + SEG.LEN) is kept and pop() reports
// it once RCV.NXT reaches it. Data beyond a known FIN is cut off; a second
// FIN at another sequence number, or one below held data, is ignored.
#include <rte_mbuf.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "wire/seq32.hh"
#include "wire/tcp_options.hh"

namespace kbt::tcp {

class reassembly {
 public:
  enum class insert_status : std::uint8_t {
    // New bytes (or a new FIN) were queued; the mbuf now belongs to the queue.
    queued,
    // Nothing new: every byte was already held or delivered (a D-SACK
    // candidate, RFC 2883) or the segment was empty. The mbuf was freed.
    duplicate,
    // The queue was at its bound; the segment was dropped (mbuf freed). Count it.
    over_limit,
  };

  struct insert_result {
    insert_status status = insert_status::duplicate;
    // Bytes dropped because of the bound: this segment's (over_limit), or
    // held bytes above it discarded to make room for the segment at RCV.NXT
    // (queued). Count them.
    std::uint32_t dropped_bytes = 0;
  };

  // What pop() hands over: the data now contiguous with RCV.NXT, as one mbuf
  // chain owned by the caller (nullptr when none), and whether the FIN
  // follows it (then the FIN's sequence number is rcv_nxt + len).
  struct popped {
    rte_mbuf* data = nullptr;
    std::uint32_t len = 0;
    bool fin = false;
  };

  // The most SACK blocks an option can carry (RFC 2018 §3): 4, or 3 beside timestamps.
  static constexpr std::size_t kMaxSackBlocks = wire::kTcpMaxSackBlocks;

  // max_segments is capped so any run, even after the segment at RCV.NXT
  // was accepted over the bound, fits one chain (nb_segs is 16 bits).
  static constexpr std::uint32_t kMaxSegmentsCap = RTE_MBUF_MAX_NB_SEGS / 2;

  // Allocates the run array here and never again (throws bad_alloc).
  reassembly(std::uint32_t max_bytes, std::uint32_t max_segments);
  ~reassembly();
  reassembly(const reassembly&) = delete;
  reassembly& operator=(const reassembly&) = delete;
  reassembly(reassembly&&) = delete;
  reassembly& operator=(reassembly&&) = delete;

  // Queues the `len` payload bytes of `payload` (data offset already past the
  // headers; anything after len - Ethernet padding - is cut off) received at
  // `seq`, plus a FIN at seq + len if `fin`. Always takes ownership of
  // `payload`, which may be nullptr for a bare FIN. Bytes below rcv_nxt are
  // dropped as already delivered; the caller has already trimmed the segment
  // to the receive window (RFC 9293 §3.10.7.4, first). `max_segments`, when
  // below the queue's own bound, is the bound for this insert: the caller's
  // share of its core's memory (the segment at RCV.NXT still goes in,
  // reneging runs above it to fit).
  insert_result insert(wire::seq32 rcv_nxt, wire::seq32 seq, rte_mbuf* payload,
                       std::uint32_t len, bool fin,
                       std::uint32_t max_segments = UINT32_MAX) noexcept;

  // Takes out the run that starts at (or straddles) rcv_nxt, freeing queued
  // bytes below rcv_nxt that were delivered another way, and reports whether
  // the queued FIN is now in order. Call after every advance of RCV.NXT while
  // !empty().
  popped pop(wire::seq32 rcv_nxt) noexcept;

  // Fills `out` with up to out.size() blocks (give it 3 with timestamps, 4
  // without) and returns how many. RFC 2018 §4: the first block holds the
  // most recently received segment, then the blocks of the next most recent
  // segments not already reported, then any other held blocks by sequence.
  // Blocks cover data only, never the FIN.
  std::size_t sack_blocks(std::span<wire::sack_block> out) const noexcept;

  // Frees everything queued, FIN included.
  void clear() noexcept;

  // True when neither data nor a FIN is queued.
  bool empty() const noexcept { return _count == 0 && !_have_fin; }
  std::uint32_t bytes() const noexcept { return _bytes; }
  // mbuf segments held (what max_segments bounds).
  std::uint32_t segments() const noexcept { return _segments; }
  // Runs of contiguous bytes held, i.e. the number of SACK blocks there are.
  std::uint32_t runs() const noexcept { return _count; }
  bool has_fin() const noexcept { return _have_fin; }
  wire::seq32 fin_seq() const noexcept { return _fin_seq; }

 private:
  struct run {
    wire::seq32 seq;
    std::uint32_t len = 0;
    rte_mbuf* head = nullptr;  // chain of the run's bytes
    rte_mbuf* last = nullptr;  // its last segment, for O(1) append
    wire::seq32 end() const noexcept { return seq + len; }
  };

  bool note_fin(wire::seq32 rcv_nxt, wire::seq32 fin_seq) noexcept;
  insert_result insert_data(wire::seq32 seq, rte_mbuf* m, std::uint32_t len,
                            bool in_order, std::uint32_t max_segments) noexcept;
  // First run whose end is after seq (runs are sorted and disjoint).
  std::uint32_t first_ending_after(wire::seq32 seq) const noexcept;
  // Joins run i + 1 onto run i when they touch.
  void merge_with_next(std::uint32_t i) noexcept;
  // Frees or trims what lies below rcv_nxt (delivered by the caller directly).
  void drop_below(wire::seq32 rcv_nxt) noexcept;
  // Records that a segment starting at seq just went into run run_index.
  void note_recent(wire::seq32 seq, std::uint32_t run_index) noexcept;
  void free_run(run& r) noexcept;

  std::unique_ptr<run[]> _runs;
  std::uint32_t _capacity = 0;  // runs that fit the array
  std::uint32_t _count = 0;
  std::uint32_t _max_bytes = 0;
  std::uint32_t _max_segments = 0;
  std::uint32_t _bytes = 0;
  std::uint32_t _segments = 0;
  bool _have_fin = false;
  wire::seq32 _fin_seq;
  // A byte of each of the most recently queued segments, newest first, for
  // the block order of RFC 2018 §4. Stale entries are skipped when read.
  std::array<wire::seq32, kMaxSackBlocks> _recent{};
  std::uint8_t _recent_count = 0;
};

}  // namespace kbt::tcp
