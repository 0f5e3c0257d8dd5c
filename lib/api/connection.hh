#pragma once
// What an application holds of a TCP connection, and the buffers that cross
// the API. Everything here runs on the core that owns the connection, inside
// the application's callbacks (api/app.hh); nothing locks or allocates from
// the heap.
//
// Who owns each mbuf:
// - rx_data: the stack's, for the length of on_data(). take() hands the
//   chain to the application, which then frees it (rte_pktmbuf_free) when it
//   likes; put_back_from() gives the unused tail back to the stack, which
//   keeps it (in its own memory budget) for the next on_data; otherwise the
//   stack frees it when on_data() returns.
// - tx_buffer: the application's from alloc_tx() until send(); send() takes
//   it whole (the stack keeps the mbufs for retransmission, never copies the
//   payload, and frees them when the peer acknowledges them) or, when the
//   send buffer has no room for all of it, takes nothing and leaves it with
//   the application, which may send it later or let it go (its destructor
//   frees it).
// - send_copy(): the bytes are copied; the caller keeps its memory.
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "api/app_timer.hh"
#include "core/engine.hh"
#include "tcp/handle.hh"
#include "tcp/tcp_layer.hh"

namespace kbt::api {

using tcp::close_reason;

// What the API layer keeps of each connection beside the TCB, by TCB slot
// (app.hh sizes one per core at start-up). `generation` says whose it is: a
// reused TCB finds a stale record and starts from a fresh one, so nothing
// has to clear it when a connection ends.
// Frees the application's per-connection data (connection::set_user).
using user_deleter = void (*)(void* user);

struct conn_state {
  std::uint32_t generation = 0;
  // A send was refused or short since the last on_writable: the next ACK
  // that frees space is reported (once), the others are not.
  bool wants_writable = false;
  user_deleter deleter = nullptr;  // for the TCB's user pointer
};

// The core's side of every connection handle: its engine, the time of
// the current loop iteration and the API's per-connection records.
struct core_context {
  core::engine* engine = nullptr;
  tcp::tcp_layer* tcp = nullptr;
  rte_mempool* pool = nullptr;
  std::uint16_t core = 0;
  base::instant now{};
  std::span<conn_state> conns;  // by TCB slot; empty: none (see state_of)
  app_timers* timers = nullptr;  // this core's application timers (app_timer.hh)

  // `c`'s record, fresh if it was another connection's; nullptr without records.
  conn_state* state_of(tcp::handle c) noexcept {
    if (c.slot() >= conns.size()) return nullptr;
    conn_state& s = conns[c.slot()];
    if (s.generation != c.generation()) {
      s = conn_state{};
      s.generation = c.generation();
    }
    return &s;
  }
  // A send to `c` did not take everything: report the next freed space.
  // An ACK that freed space before this send (a kWritable still pending
  // from this iteration's input) is older than the refusal: dropped.
  void want_writable(tcp::handle c) noexcept {
    if (conn_state* s = state_of(c); s != nullptr) s->wants_writable = true;
    c.drop_pending_writable();
  }
  bool wants_writable(tcp::handle c) noexcept {
    const conn_state* s = state_of(c);
    return s != nullptr && s->wants_writable;
  }
  // on_writable is being delivered: the wish is granted.
  void writable_delivered(tcp::handle c) noexcept {
    if (conn_state* s = state_of(c); s != nullptr) s->wants_writable = false;
  }
  void set_user(tcp::handle c, void* user, user_deleter d) noexcept {
    c.set_user(user);
    if (conn_state* s = state_of(c); s != nullptr) {
      s->deleter = d;
    }
  }
  // The application lets go of `c`: its user data is freed, once.
  void release_user(tcp::handle c) noexcept {
    conn_state* s = state_of(c);
    if (s == nullptr || s->deleter == nullptr) return;
    const user_deleter d = std::exchange(s->deleter, nullptr);
    void* user = c.user();
    c.set_user(nullptr);
    d(user);
  }
};

// Received, in-order payload: one or more mbuf segments, read in place.
class rx_data {
 public:
  explicit rx_data(rte_mbuf* chain) noexcept : _m(chain) {}
  ~rx_data() {
    rte_pktmbuf_free(_m);
    rte_pktmbuf_free(_put_back);
  }
  rx_data(const rx_data&) = delete;
  rx_data& operator=(const rx_data&) = delete;

  std::size_t size() const noexcept { return _m == nullptr ? 0 : rte_pktmbuf_pkt_len(_m); }
  bool empty() const noexcept { return size() == 0; }

  // The bytes, segment by segment: for (std::span<const std::byte> s : data)
  class iterator {
   public:
    explicit iterator(const rte_mbuf* m) noexcept : _m(m) {}
    std::span<const std::byte> operator*() const noexcept {
      return {rte_pktmbuf_mtod(_m, const std::byte*), _m->data_len};
    }
    iterator& operator++() noexcept {
      _m = _m->next;
      return *this;
    }
    bool operator!=(const iterator& o) const noexcept { return _m != o._m; }

   private:
    const rte_mbuf* _m;
  };
  iterator begin() const noexcept { return iterator(_m); }
  iterator end() const noexcept { return iterator(nullptr); }

  // The application keeps the chain (and frees it later); rx_data is empty after.
  rte_mbuf* take() noexcept { return std::exchange(_m, nullptr); }

  // The bytes from `offset` on were not used: they go back to the stack
  // when on_data returns and come first in the next on_data (pause reading
  // meanwhile to wait, e.g. until a response has room). The first `offset`
  // bytes are freed now. Backpressure without holding the mbufs: what waits
  // stays in the stack's receive queue, counted and bounded there.
  void put_back_from(std::size_t offset) noexcept {
    while (_m != nullptr && offset >= _m->data_len) {
      offset -= _m->data_len;
      rte_mbuf* next = _m->next;
      if (next != nullptr) {
        next->nb_segs = static_cast<std::uint16_t>(_m->nb_segs - 1);
        next->pkt_len = _m->pkt_len - _m->data_len;
      }
      _m->next = nullptr;
      _m->nb_segs = 1;
      rte_pktmbuf_free_seg(_m);
      _m = next;
    }
    if (_m != nullptr && offset > 0) rte_pktmbuf_adj(_m, static_cast<std::uint16_t>(offset));
    _put_back = std::exchange(_m, nullptr);
  }
  // What put_back_from() left for the stack (the dispatcher's).
  rte_mbuf* put_back() noexcept { return std::exchange(_put_back, nullptr); }

 private:
  rte_mbuf* _m;
  rte_mbuf* _put_back = nullptr;
};

// Payload to send, in one mbuf with room for the stack's headers in front.
class tx_buffer {
 public:
  tx_buffer() noexcept = default;
  explicit tx_buffer(rte_mbuf* m) noexcept : _m(m) {}
  ~tx_buffer() { rte_pktmbuf_free(_m); }
  tx_buffer(tx_buffer&& o) noexcept : _m(std::exchange(o._m, nullptr)) {}
  tx_buffer& operator=(tx_buffer&& o) noexcept {
    if (this != &o) {
      rte_pktmbuf_free(_m);
      _m = std::exchange(o._m, nullptr);
    }
    return *this;
  }

  explicit operator bool() const noexcept { return _m != nullptr; }
  // The writable bytes (the mbuf's length, set by alloc_tx and resize).
  std::span<std::byte> data() noexcept {
    return _m == nullptr ? std::span<std::byte>{}
                         : std::span<std::byte>(rte_pktmbuf_mtod(_m, std::byte*), _m->data_len);
  }
  std::size_t size() const noexcept { return _m == nullptr ? 0 : rte_pktmbuf_pkt_len(_m); }
  // Up to the room the mbuf has; returns false (nothing changed) past it,
  // or for a chain (a buffer made from received data).
  bool resize(std::size_t n) noexcept {
    if (_m == nullptr || _m->nb_segs != 1 || n > _m->data_len + rte_pktmbuf_tailroom(_m)) {
      return false;
    }
    _m->data_len = static_cast<std::uint16_t>(n);
    _m->pkt_len = static_cast<std::uint32_t>(n);
    return true;
  }
  rte_mbuf* release() noexcept { return std::exchange(_m, nullptr); }

 private:
  rte_mbuf* _m = nullptr;
};

// A handle to one connection; cheap to copy. It stays valid until
// on_closed() returns or the application calls close(); after that every
// call is a no-op (valid() says false), even if the TCB is reused.
class connection {
 public:
  connection() noexcept = default;
  connection(core_context* ctx, tcp::handle c) noexcept
      : _ctx(ctx), _c(c), _generation(c ? c.generation() : 0) {}

  bool valid() const noexcept { return _c.still_held(_generation); }
  const tcp::four_tuple& tuple() const noexcept { return _c.tuple(); }
  tcp::tcp_state state() const noexcept { return _c.state(); }
  std::uint16_t core() const noexcept { return _ctx->core; }
  // The application's own pointer for this connection.
  void* user() const noexcept { return valid() ? _c.user() : nullptr; }
  // With a deleter, the stack calls deleter(p) exactly once when it lets go
  // of the connection, whichever way it ended: after on_closed returns
  // (normal close, reset, timeout, abort), inside close(), or when the stack
  // stops with the connection still open (run_app, before it returns).
  // Setting another pointer replaces both; the old one is the
  // application's again and its deleter is not called.
  void set_user(void* p, user_deleter deleter = nullptr) noexcept {
    if (valid()) _ctx->set_user(_c, p, deleter);
  }

  // An mbuf of `len` bytes (at most one mbuf's data room, 2048 by default)
  // from this core's pool; empty when the pool is out.
  tx_buffer alloc_tx(std::size_t len) noexcept {
    rte_mbuf* m = rte_pktmbuf_alloc(_ctx->pool);
    if (m == nullptr) return {};
    if (rte_pktmbuf_append(m, static_cast<std::uint16_t>(len)) == nullptr) {
      rte_pktmbuf_free(m);
      return {};
    }
    return tx_buffer(m);
  }
  // Zero-copy: takes all of `b` and returns its size, or takes nothing and
  // returns 0 (no room in the send buffer now: on_writable comes once
  // there is).
  std::size_t send(tx_buffer& b) noexcept {
    if (!valid() || !b) return 0;
    const std::size_t n = b.size();
    rte_mbuf* m = b.release();
    if (_ctx->tcp->send(_c.tcb_ref(), m, _ctx->now)) return n;
    b = tx_buffer(m);
    _ctx->want_writable(_c);
    return 0;
  }
  // Copies what fits; returns the bytes taken. Short of `bytes.size()`:
  // on_writable comes once there is room again.
  std::size_t send_copy(std::span<const std::byte> bytes) noexcept {
    if (!valid()) return 0;
    const std::size_t n = _ctx->tcp->send_copy(_c.tcb_ref(), bytes, _ctx->now);
    if (n < bytes.size()) _ctx->want_writable(_c);
    return n;
  }
  // The peer has sent its FIN (on_peer_fin came or is coming).
  bool peer_closed() const noexcept { return valid() && _c.peer_fin_received(); }
  // Received bytes the stack holds that on_data has not delivered yet
  // (while reading is paused).
  std::size_t unread_bytes() const noexcept { return valid() ? _c.unread_bytes() : 0; }
  // Room in the send buffer now, in bytes.
  std::size_t send_space() const noexcept { return valid() ? _c.send_space() : 0; }
  // Times the handshake's SYN (active open) or SYN-ACK (passive) had to be
  // sent again after its timeout: each cost the connection a second or
  // more (RFC 6298 §2.1), though it may have succeeded in the end.
  unsigned syn_retransmits() const noexcept { return valid() ? _c.syn_retransmits() : 0; }

  // Our side is done sending: FIN after what is queued (half-close). Reading goes on.
  void shutdown() noexcept {
    if (valid()) _ctx->tcp->shutdown(_c.tcb_ref(), _ctx->now);
  }
  // Done with it: FIN after what is queued, and no more callbacks; the
  // close handshake and TIME_WAIT go on without the application.
  void close() noexcept {
    if (valid()) {
      _ctx->release_user(_c);  // set_user's deleter, now
      _ctx->tcp->release(_c.tcb_ref(), _ctx->now);
    }
    _c = tcp::handle{};
  }
  // RST now (RFC 9293 §3.10.5); on_closed(aborted) follows.
  void abort() noexcept {
    if (valid()) _ctx->tcp->abort(_c.tcb_ref(), _ctx->now);
  }
  void set_nodelay(bool on) noexcept {
    if (valid()) _ctx->tcp->set_nodelay(_c.tcb_ref(), on);
  }
  void set_keepalive(bool on) noexcept {
    if (valid()) _ctx->tcp->set_keepalive(_c.tcb_ref(), on, _ctx->now);
  }
  // Backpressure on the receive side: while paused, received data stays in
  // the stack (its window closes as the buffer fills) and on_data waits;
  // resuming delivers what waited.
  void pause_reading() noexcept {
    if (valid()) _ctx->tcp->set_reading(_c.tcb_ref(), false);
  }
  void resume_reading() noexcept {
    if (valid()) _ctx->tcp->set_reading(_c.tcb_ref(), true);
  }

  // The stack's handle to this connection (tcp/handle.hh), stale or not.
  tcp::handle handle() const noexcept { return _c; }

 private:
  core_context* _ctx = nullptr;
  tcp::handle _c;
  std::uint32_t _generation = 0;
};

}  // namespace kbt::api
