#pragma once
// Where one core's TCP puts the segments it makes: a fixed queue that the
// owner (the engine, the simulator, a test rig) drains through its flush
// hook, and the room the owner's transmit queue has this iteration. A
// connection's output asks has_room() before it builds a segment; without
// room the connection waits for a later iteration instead of losing the
// segment to the RTO.
#include <rte_mbuf.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/ipv4.hh"

namespace kbt::tcp {

// An IPv4 packet (header first; no Ethernet header yet) for `dst`.
struct out_packet {
  rte_mbuf* m = nullptr;
  wire::ipv4_addr dst;
};

// Called with the queued packets when the queue fills and when the owner
// flushes, one call per batch. Returns how many it took (and owns), from the
// first: the rest stay queued, in order, for the next flush, and no more
// segments are made this iteration.
using tx_flush_fn = std::size_t (*)(void* ctx, std::span<const out_packet> packets) noexcept;

class segment_queue {
 public:
  static constexpr std::size_t kCapacity = 256;
  // First SYNs of active opens per iteration (set_room starts one): a
  // client that opens thousands of connections at once sends them at the
  // pace it takes in the answers (a few rx bursts an iteration), not faster
  // than a peer on a shared-memory link can take them.
  static constexpr std::uint32_t kSynsPerIteration = 64;
  static constexpr std::uint32_t kUnlimited = UINT32_MAX;

  segment_queue(tx_flush_fn fn, void* ctx) noexcept : _flush(fn), _ctx(ctx) {}
  ~segment_queue();  // frees what is still queued
  segment_queue(const segment_queue&) = delete;
  segment_queue& operator=(const segment_queue&) = delete;

  // Queues `m` for `dst`, flushing a full queue first. False when the owner
  // cannot take even that: `m` is freed (the caller counts the drop).
  // Packets with no connection behind them (RST, cookie SYN-ACK, TIME_WAIT
  // ACK) come here without asking has_room(): they answer a segment, and
  // the owner keeps a reserve for them.
  // Inline: once per segment sent, from the output code of another file.
  bool push(rte_mbuf* m, wire::ipv4_addr dst) noexcept {
    if (_room != kUnlimited && _room > 0) --_room;
    if (_count == _out.size()) flush();
    if (_count == _out.size()) {
      rte_pktmbuf_free(m);
      return false;
    }
    _out[_count++] = {m, dst};
    return true;
  }
  // Hands everything queued to the flush hook.
  void flush() noexcept;
  // Whether a connection's segment may go now.
  bool has_room() noexcept {
    if (_count == _out.size()) flush();
    return _room != 0 && _count < _out.size();
  }
  // The owner's transmit queue takes `packets` more now; unlimited by default.
  void set_room(std::uint32_t packets) noexcept {
    _room = packets;
    _syns = 0;
  }
  bool room_left() const noexcept { return _room != 0; }
  bool syn_allowed() const noexcept { return _room == kUnlimited || _syns < kSynsPerIteration; }
  void count_syn() noexcept { ++_syns; }
  std::size_t size() const noexcept { return _count; }

 private:
  tx_flush_fn _flush;
  void* _ctx;
  std::array<out_packet, kCapacity> _out{};
  std::size_t _count = 0;
  std::uint32_t _room = kUnlimited;
  std::uint32_t _syns = 0;  // first SYNs sent this iteration
};

}  // namespace kbt::tcp
