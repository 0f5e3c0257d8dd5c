#pragma once
// The send side's byte store (RFC 9293 §3.3.1, SND.UNA .. SND.UNA+bytes):
// every byte the application has handed over and the peer has not yet
// acknowledged, kept in the application's own mbufs so payload is never
// copied (docs/ARCHITECTURE.md, "Zero copy").
//
// Layout: a fixed ring of piece descriptors, one per non-empty mbuf
// segment, in sequence order. An appended chain is split into its segments
// so each piece is a standalone single-segment mbuf the buffer owns; that
// lets ack() free a fully acknowledged segment without touching the rest of
// its chain, and lets make_segment() clone exactly the pieces it needs. The
// ring is sized at construction; nothing is allocated afterwards.
//
// Sending: make_segment() returns a NEW chain of indirect mbufs
// (rte_pktmbuf_attach to the held pieces, then adjusted and trimmed) that
// references [seq, seq+len). The held data is shared, never copied, and the
// same range can be cloned again for a retransmission for as long as it is
// unacknowledged. The caller prepends its own header mbuf:
//   hdr->next = seg; hdr->nb_segs = 1 + seg->nb_segs; hdr->pkt_len = hdr->data_len + seg->pkt_len;
// Headers MUST go in that separate mbuf: the headroom of an indirect piece is
// the application's buffer (earlier payload bytes, shared by every clone in
// flight), so writing there would corrupt data that may be retransmitted.
//
// FIN: the buffer holds data only. The FIN occupies one sequence number right
// after the last byte (RFC 9293 §3.4), i.e. end() once the application has
// closed. The caller sends it with seq == end(), advances SND.NXT past it, and
// must not append() after close. An ACK covering the FIN (end() + 1) is
// accepted by ack(): the buffer frees everything and stops at una() == end();
// the caller knows its FIN was acknowledged because SEG.ACK == end() + 1.
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "wire/seq32.hh"

namespace kbt::tcp {

class send_buffer {
 public:
  // Payload pieces per make_segment() chain unless told otherwise: 7 plus the
  // caller's header mbuf makes 8, the smallest common per-packet descriptor
  // limit of non-TSO transmit (Intel i40e/ice). A segment that would need more
  // pieces is cut short, so len can be below max_len.
  static constexpr std::uint16_t kDefaultMaxPieces = 7;
  // An appended segment shorter than this is copied onto the end of the
  // last held piece when that one has room and is not shared (coalesce()).
  static constexpr std::uint16_t kCoalesceBelow = 128;
  // Upper bound for the max_pieces argument (make_segment's stack array).
  static constexpr std::uint16_t kMaxPieces = 64;
  // Capacity in bytes is capped so SND.UNA..end() stays far below 2^31, where
  // seq32 comparisons stop being meaningful (RFC 7323 §2.3 caps windows at 2^30).
  static constexpr std::uint32_t kMaxCapacityBytes = 1U << 30;

  // capacity_bytes: the most unacknowledged bytes held (what the application
  // sees as its send window); capacity_segments: the most mbuf segments held.
  // `una` is the sequence number of the first byte (ISS + 1); reset() sets it
  // later when the buffer is built before the ISN is known.
  // Allocates the descriptor ring here and never again (throws bad_alloc).
  send_buffer(std::uint32_t capacity_bytes, std::uint32_t capacity_segments,
              wire::seq32 una = {});
  ~send_buffer();
  send_buffer(const send_buffer&) = delete;
  send_buffer& operator=(const send_buffer&) = delete;
  send_buffer(send_buffer&& other) noexcept;
  send_buffer& operator=(send_buffer&& other) noexcept;

  // Takes the whole chain or nothing. On true the buffer owns `payload` (its
  // segments are unlinked and held one by one; empty segments are freed at
  // once). On false (nullptr, or not enough bytes or segments free) ownership
  // stays with the caller. The mbufs must not be shared with anyone who
  // writes to them: to send the same bytes on several connections, hand each
  // one an rte_pktmbuf_clone().
  bool append(rte_mbuf* payload) noexcept;

  // Copies as much of `data` as fits (free_space()): first into the room
  // after the last held piece when the buffer made that piece itself, then
  // into at most `max_new` new mbufs from `pool`, each filled before the
  // next. Returns the bytes taken. Small writes thus share mbufs instead of
  // pinning one each (an HTTP response of 200 bytes, pipelined).
  std::uint32_t append_copy(std::span<const std::byte> data, rte_mempool* pool,
                            std::uint32_t max_new) noexcept;

  // How many bytes make_segment(seq, max_len, pool, max_pieces) would cover:
  // 0 when seq is outside [una(), end()) or max_len is 0.
  std::uint32_t segment_len(wire::seq32 seq, std::uint32_t max_len,
                            std::uint16_t max_pieces = kDefaultMaxPieces) const noexcept;

  // A new chain of at most max_pieces indirect mbufs from `indirect_pool`
  // covering [seq, seq + segment_len(...)), owned by the caller (who frees it,
  // usually by handing it to tx). The held pieces are only referenced
  // (refcnt + 1), so this works for retransmission of any held range.
  // nullptr when segment_len() is 0 or, to be counted by the caller, when
  // indirect_pool has too few mbufs (then nothing was allocated).
  rte_mbuf* make_segment(wire::seq32 seq, std::uint32_t max_len, rte_mempool* indirect_pool,
                         std::uint16_t max_pieces = kDefaultMaxPieces) noexcept;

  // Cumulative ACK (RFC 9293 §3.10.7.4 fifth, "SND.UNA < SEG.ACK =< SND.NXT"):
  // frees fully acknowledged pieces, trims a partially acknowledged first one
  // (rte_pktmbuf_adj; clones already in flight keep their own offsets) and
  // returns the data bytes released. An ACK at or below una() releases 0; one
  // beyond end() (it covers the FIN) releases everything.
  std::uint32_t ack(wire::seq32 new_una) noexcept;

  // Frees every held mbuf; una() stays where it was.
  void clear() noexcept;
  // Frees every held mbuf and restarts the sequence space at `una`.
  void reset(wire::seq32 una) noexcept;

  wire::seq32 una() const noexcept { return _una; }
  // One past the last held byte: where new data goes, and the FIN's sequence number.
  wire::seq32 end() const noexcept { return _una + _bytes; }
  std::uint32_t bytes() const noexcept { return _bytes; }
  // Held bytes at or after snd_nxt (0 once snd_nxt has reached end()).
  std::uint32_t bytes_unsent(wire::seq32 snd_nxt) const noexcept;
  std::uint32_t free_space() const noexcept { return _capacity_bytes - _bytes; }
  std::uint32_t segments() const noexcept { return _count; }
  std::uint32_t free_segments() const noexcept { return _capacity_segments - _count; }
  std::uint32_t capacity_bytes() const noexcept { return _capacity_bytes; }
  std::uint32_t capacity_segments() const noexcept { return _capacity_segments; }

 private:
  // One held single-segment mbuf and the sequence number of its first byte.
  // len mirrors m->data_len so lookups stay within the descriptor array.
  struct piece {
    wire::seq32 seq;
    std::uint32_t len = 0;
    rte_mbuf* m = nullptr;
    // append_copy() made it: nobody but this buffer writes to it, so bytes
    // may go into its room even while clones of its earlier bytes are in
    // flight (they reference only what lay before the room).
    bool copy = false;
  };

  piece& at(std::uint32_t i) noexcept { return _ring[(_head + i) & _mask]; }
  const piece& at(std::uint32_t i) const noexcept { return _ring[(_head + i) & _mask]; }
  // Index (from the oldest piece) of the piece holding seq; seq must be held.
  std::uint32_t find(wire::seq32 seq) const noexcept;
  // Copies a short segment onto the last piece; false: hold it as a piece.
  bool coalesce(const rte_mbuf* s) noexcept;
  // Room to copy into after the last held piece (0 when it may not be written).
  std::uint32_t tail_room() const noexcept;
  // Pieces and bytes make_segment would take starting in piece `first`.
  std::uint32_t plan(std::uint32_t first, std::uint32_t offset, std::uint32_t max_len,
                     std::uint16_t max_pieces, std::uint32_t& pieces) const noexcept;

  std::unique_ptr<piece[]> _ring;
  std::uint32_t _mask = 0;  // ring size - 1; the size is a power of two
  std::uint32_t _head = 0;  // ring slot of the oldest piece
  std::uint32_t _count = 0;
  std::uint32_t _capacity_bytes = 0;
  std::uint32_t _capacity_segments = 0;
  std::uint32_t _bytes = 0;
  wire::seq32 _una;
  // Index of the piece the last make_segment() ended in: sending walks
  // forward, so the next lookup usually lands there or one later.
  std::uint32_t _hint = 0;
};

}  // namespace kbt::tcp
