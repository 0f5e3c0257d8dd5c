#pragma once
// The API's view of one connection: a cheap, copyable, non-owning handle
// to a TCB with an accessor for each thing the API and the applications
// may know or change. This is the one place outside lib/tcp that reads a
// TCB's fields, so that reshaping the TCB changes this file and not the
// API (issue 16: "the API works through a handle with accessors").
//
// Accessors are inline and make no call: a handle costs what the pointer
// it wraps costs. Like a pointer, a handle's constness is shallow: a const
// handle still reaches a connection it may change. Every accessor but
// still_held() and the null test needs a non-null handle.
#include <cstdint>
#include <utility>

#include "tcp/events.hh"
#include "tcp/state.hh"
#include "tcp/tcb.hh"
#include "tcp/tuple.hh"

namespace kbt::tcp {

class handle {
 public:
  handle() noexcept = default;
  explicit handle(tcb* c) noexcept : _c(c) {}
  explicit handle(tcb& c) noexcept : _c(&c) {}

  explicit operator bool() const noexcept { return _c != nullptr; }
  bool operator==(const handle&) const noexcept = default;

  // --- identity
  // The TCB's slot in its core's pool: the index of per-connection records.
  std::uint32_t slot() const noexcept { return _c->index; }
  // Bumped on every reuse of the slot: with slot(), names one connection.
  std::uint32_t generation() const noexcept { return _c->generation; }
  const four_tuple& tuple() const noexcept { return _c->tuple; }
  tcp_state state() const noexcept { return _c->state; }
  // Made by a listener (passive open), not by connect().
  bool accepted() const noexcept { return _c->passive(); }

  // --- who holds it
  // A live connection that the application has not let go of (release()).
  bool held_by_app() const noexcept { return _c->in_use() && _c->app_holds(); }
  // Still the connection that had `generation` when the application got
  // it, and still the application's: a stale handle (closed, or its slot
  // reused by another connection) says false.
  bool still_held(std::uint32_t generation) const noexcept {
    return _c != nullptr && held_by_app() && _c->generation == generation;
  }
  // The slot holds a connection (the application's or not).
  bool in_use() const noexcept { return _c->in_use(); }

  // --- the application's pointer for this connection
  void* user() const noexcept { return _c->user; }
  void set_user(void* p) const noexcept { _c->user = p; }

  // --- what the application reads
  // Why it ended; meaningful once event::kClosed came.
  close_reason why_closed() const noexcept { return _c->reason; }
  // The application asked the stack to hold received data back (set_reading).
  bool reading_paused() const noexcept { return _c->rx_paused; }
  // The peer's FIN has arrived (half-close).
  bool peer_fin_received() const noexcept { return _c->fin_received; }
  // In-order bytes received and not taken by the application yet.
  std::uint32_t unread_bytes() const noexcept { return _c->rx_bytes; }
  // Room in the send buffer now, in bytes.
  std::uint32_t send_space() const noexcept { return _c->snd.free_space(); }
  // Times the handshake's SYN or SYN-ACK was sent again by the RTO
  // (RFC 6298 §2.1), kept after the handshake.
  unsigned syn_retransmits() const noexcept { return _c->syn_retransmits; }

  // --- what the API changes
  // Bytes the peer acknowledged since the last event::kAcked was reported;
  // the count starts again from zero.
  std::uint64_t take_acked_bytes() const noexcept { return std::exchange(_c->acked_unreported, 0); }
  // A pending event::kWritable from this iteration's input is older than a
  // send just refused: it must not wake the sender (api::core_context).
  void drop_pending_writable() const noexcept {
    _c->events = static_cast<std::uint8_t>(_c->events & ~event::kWritable);
  }

  // For tcp_layer's functions, which work on the TCB itself.
  tcb& tcb_ref() const noexcept { return *_c; }

 private:
  tcb* _c = nullptr;
};

}  // namespace kbt::tcp
