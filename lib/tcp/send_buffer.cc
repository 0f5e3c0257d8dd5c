#include "tcp/send_buffer.hh"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

namespace kbt::tcp {

using wire::seq32;

send_buffer::send_buffer(std::uint32_t capacity_bytes, std::uint32_t capacity_segments,
                         seq32 una)
    : _capacity_bytes(std::min(capacity_bytes, kMaxCapacityBytes)),
      _capacity_segments(std::max<std::uint32_t>(capacity_segments, 1)),
      _una(una) {
  // A power-of-two ring turns the modulo into a mask on every lookup.
  const std::uint32_t size = std::bit_ceil(_capacity_segments);
  _ring = std::make_unique<piece[]>(size);
  _mask = size - 1;
}

send_buffer::~send_buffer() { clear(); }

send_buffer::send_buffer(send_buffer&& other) noexcept
    : _ring(std::move(other._ring)),
      _mask(std::exchange(other._mask, 0)),
      _head(std::exchange(other._head, 0)),
      _count(std::exchange(other._count, 0)),
      _capacity_bytes(std::exchange(other._capacity_bytes, 0)),
      _capacity_segments(std::exchange(other._capacity_segments, 0)),
      _bytes(std::exchange(other._bytes, 0)),
      _una(other._una),
      _hint(std::exchange(other._hint, 0)) {}

send_buffer& send_buffer::operator=(send_buffer&& other) noexcept {
  if (this != &other) {
    clear();
    _ring = std::move(other._ring);
    _mask = std::exchange(other._mask, 0);
    _head = std::exchange(other._head, 0);
    _count = std::exchange(other._count, 0);
    _capacity_bytes = std::exchange(other._capacity_bytes, 0);
    _capacity_segments = std::exchange(other._capacity_segments, 0);
    _bytes = std::exchange(other._bytes, 0);
    _una = other._una;
    _hint = std::exchange(other._hint, 0);
  }
  return *this;
}

void send_buffer::clear() noexcept {
  for (std::uint32_t i = 0; i < _count; ++i) rte_pktmbuf_free(at(i).m);
  _head = 0;
  _count = 0;
  _bytes = 0;
  _hint = 0;
}

void send_buffer::reset(seq32 una) noexcept {
  clear();
  _una = una;
}

bool send_buffer::append(rte_mbuf* payload) noexcept {
  if (payload == nullptr) return false;
  // Check first, change nothing until the whole chain is known to fit: a
  // refused chain goes back to the caller exactly as it came.
  std::uint64_t total = 0;
  std::uint32_t pieces = 0;
  for (const rte_mbuf* s = payload; s != nullptr; s = s->next) {
    total += s->data_len;
    if (s->data_len != 0) ++pieces;
  }
  if (total > free_space() || pieces > free_segments()) return false;

  seq32 seq = end();
  rte_mbuf* s = payload;
  while (s != nullptr) {
    rte_mbuf* next = s->next;
    // Unlink: from here on each segment is a standalone packet of one segment.
    s->next = nullptr;
    s->nb_segs = 1;
    s->pkt_len = s->data_len;
    if (s->data_len == 0) {
      rte_pktmbuf_free(s);
    } else if (coalesce(s)) {
      seq += s->data_len;
      rte_pktmbuf_free(s);
    } else {
      at(_count) = piece{seq, s->data_len, s};
      ++_count;
      seq += s->data_len;
    }
    s = next;
  }
  _bytes += static_cast<std::uint32_t>(total);
  return true;
}

// A piece costs a descriptor in every segment that carries it (at most
// kDefaultMaxPieces a segment): tiny sends, held one mbuf each, made tiny
// segments (the soak sent 7-byte pieces, 49-byte segments). Copying them
// into the room after the last held piece is cheaper than that. Only into
// an mbuf nobody else references (refcnt 1: not in flight, not the
// application's), whose data ends where the piece does.
bool send_buffer::coalesce(const rte_mbuf* s) noexcept {
  if (s->data_len >= kCoalesceBelow || s->data_len > tail_room()) return false;
  piece& tail = at(_count - 1);
  char* room = rte_pktmbuf_append(tail.m, s->data_len);
  if (room == nullptr) return false;
  std::memcpy(room, rte_pktmbuf_mtod(s, const char*), s->data_len);
  tail.len += s->data_len;
  return true;
}

std::uint32_t send_buffer::tail_room() const noexcept {
  if (_count == 0) return 0;
  const piece& tail = at(_count - 1);
  const rte_mbuf* t = tail.m;
  if (!RTE_MBUF_DIRECT(t) || RTE_MBUF_HAS_EXTBUF(t) || tail.len != t->data_len) return 0;
  // An application's mbuf only while nobody else references it; our own
  // copy whatever its clones in flight.
  if (!tail.copy && rte_mbuf_refcnt_read(t) != 1) return 0;
  return rte_pktmbuf_tailroom(t);
}

std::uint32_t send_buffer::append_copy(std::span<const std::byte> data, rte_mempool* pool,
                                       std::uint32_t max_new) noexcept {
  const auto want = static_cast<std::uint32_t>(std::min<std::size_t>(data.size(), free_space()));
  std::uint32_t taken = 0;
  if (const std::uint32_t room = std::min(tail_room(), want); room > 0) {
    piece& tail = at(_count - 1);
    if (char* p = rte_pktmbuf_append(tail.m, static_cast<std::uint16_t>(room)); p != nullptr) {
      std::memcpy(p, data.data(), room);
      tail.len += room;
      taken = room;
    }
  }
  for (std::uint32_t made = 0; taken < want && made < max_new && _count < _capacity_segments;
       ++made) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) break;
    const auto n = static_cast<std::uint16_t>(
        std::min<std::uint32_t>(want - taken, rte_pktmbuf_tailroom(m)));
    char* p = rte_pktmbuf_append(m, n);
    if (p == nullptr) {
      rte_pktmbuf_free(m);
      break;
    }
    std::memcpy(p, data.data() + taken, n);
    at(_count) = piece{end() + taken, n, m, true};
    ++_count;
    taken += n;
  }
  _bytes += taken;
  return taken;
}

std::uint32_t send_buffer::bytes_unsent(seq32 snd_nxt) const noexcept {
  if (snd_nxt <= _una) return _bytes;
  const seq32 e = end();
  return snd_nxt < e ? static_cast<std::uint32_t>(e - snd_nxt) : 0;
}

std::uint32_t send_buffer::find(seq32 seq) const noexcept {
  // Sequential sending asks for the piece the previous segment ended in or
  // the next one; try those before searching.
  for (std::uint32_t i = _hint; i < _count && i <= _hint + 1; ++i) {
    const piece& p = at(i);
    if (wire::in_window(seq, p.seq, p.len)) return i;
  }
  // Pieces are in sequence order, so their offsets from una increase: find
  // the last piece that starts at or before seq.
  const std::uint32_t off = seq.value - _una.value;
  std::uint32_t lo = 0;
  std::uint32_t hi = _count;  // the answer is in [lo, hi)
  while (hi - lo > 1) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    if (at(mid).seq.value - _una.value <= off) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

std::uint32_t send_buffer::plan(std::uint32_t first, std::uint32_t offset, std::uint32_t max_len,
                                std::uint16_t max_pieces, std::uint32_t& pieces) const noexcept {
  std::uint32_t len = 0;
  pieces = 0;
  for (std::uint32_t i = first; i < _count && pieces < max_pieces && len < max_len; ++i) {
    const std::uint32_t avail = at(i).len - (i == first ? offset : 0);
    len += std::min(avail, max_len - len);
    ++pieces;
  }
  return len;
}

std::uint32_t send_buffer::segment_len(seq32 seq, std::uint32_t max_len,
                                       std::uint16_t max_pieces) const noexcept {
  if (max_len == 0 || !wire::in_window(seq, _una, _bytes)) return 0;
  max_pieces = std::clamp<std::uint16_t>(max_pieces, 1, kMaxPieces);
  const std::uint32_t first = find(seq);
  std::uint32_t pieces = 0;
  return plan(first, static_cast<std::uint32_t>(seq - at(first).seq), max_len, max_pieces, pieces);
}

rte_mbuf* send_buffer::make_segment(seq32 seq, std::uint32_t max_len, rte_mempool* indirect_pool,
                                    std::uint16_t max_pieces) noexcept {
  if (max_len == 0 || indirect_pool == nullptr || !wire::in_window(seq, _una, _bytes)) {
    return nullptr;
  }
  max_pieces = std::clamp<std::uint16_t>(max_pieces, 1, kMaxPieces);
  const std::uint32_t first = find(seq);
  const auto offset = static_cast<std::uint32_t>(seq - at(first).seq);
  std::uint32_t n = 0;
  const std::uint32_t len = plan(first, offset, max_len, max_pieces, n);

  // One bulk allocation: either every piece is available or nothing is
  // taken, so the failure path has nothing to undo.
  std::array<rte_mbuf*, kMaxPieces> out{};
  if (rte_pktmbuf_alloc_bulk(indirect_pool, out.data(), n) != 0) return nullptr;

  std::uint32_t left = len;
  for (std::uint32_t k = 0; k < n; ++k) {
    rte_mbuf* mi = out[k];
    // Indirect: mi's data pointer is into the held piece's buffer, whose
    // refcount keeps it alive until mi is freed (after tx completes).
    rte_pktmbuf_attach(mi, at(first + k).m);
    if (k == 0 && offset != 0) rte_pktmbuf_adj(mi, static_cast<std::uint16_t>(offset));
    if (mi->data_len > left) rte_pktmbuf_trim(mi, static_cast<std::uint16_t>(mi->data_len - left));
    left -= mi->data_len;
    if (k + 1 < n) mi->next = out[k + 1];
  }
  out[0]->nb_segs = static_cast<std::uint16_t>(n);
  out[0]->pkt_len = len;
  _hint = first + n - 1;
  return out[0];
}

std::uint32_t send_buffer::ack(seq32 new_una) noexcept {
  if (new_una <= _una) return 0;
  // Beyond end() is the FIN's sequence number: the caller's to account for.
  const std::uint32_t freed = std::min(static_cast<std::uint32_t>(new_una - _una), _bytes);
  std::uint32_t left = freed;
  std::uint32_t popped = 0;
  while (left > 0) {
    piece& p = at(0);
    if (p.len <= left) {
      left -= p.len;
      rte_pktmbuf_free(p.m);
      p = piece{};
      _head = (_head + 1) & _mask;
      --_count;
      ++popped;
    } else {
      // Partially acknowledged: drop the acknowledged front so the piece
      // describes only what may still need retransmission.
      rte_pktmbuf_adj(p.m, static_cast<std::uint16_t>(left));
      p.len -= left;
      p.seq += left;
      left = 0;
    }
  }
  _hint = _hint > popped ? _hint - popped : 0;
  _una += freed;
  _bytes -= freed;
  if (_count == 0) _head = 0;
  return freed;
}

}  // namespace kbt::tcp
