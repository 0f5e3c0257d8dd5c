// The mbufs a core's connections hold (mbuf_budget.hh), accounted where
// they enter and leave send buffers and receive queues, and the senders
// that wait for the budget to have room again.
//
// The split of a core's pool: half for send buffers, a quarter for receive
// queues (each may overshoot by an eighth for the guaranteed minimums), a
// sixteenth for segments waiting in the engine's transmit backlog
// (core/engine.hh); the rest, about a tenth, stays free for what the core
// needs every iteration: the rx ring's refills (so that receive can always
// take the next burst, and with it the ACKs and RSTs that free the rest),
// headers and clones on their way out, ARP and ICMP.
#include <algorithm>
#include <cstring>

#include "tcp/tcp_layer.hh"

namespace kbt::tcp {

namespace {

// One send mbuf per KB of send buffer leaves room for half-filled ones
// (send_copy fills its own). One receive mbuf per 512 bytes of receive
// buffer: each segment takes an mbuf of its own unless it is small enough
// to be copied (kRxCopyBelow), so a peer whose MSS is RFC 9293's default
// 536 can still fill the window it is offered.
constexpr std::uint32_t kSendBytesPerMbuf = 1024;
constexpr std::uint32_t kReceiveBytesPerMbuf = 512;
constexpr std::uint32_t kMinConnMbufs = 16;
// The pool size assumed when a test gives no pool (stack_config's default).
constexpr std::uint32_t kDefaultPoolMbufs = 16383;
// In-order payload at most this long is copied into the room of the
// receive queue's last segment rather than held in its own mbuf: what a
// peer sending tiny segments pins is then bounded by bytes, not segments.
constexpr std::uint32_t kRxCopyBelow = 512;
// Blocked senders told kWritable per advance(): bounded work per poll.
constexpr int kWakeBatch = 64;

std::uint32_t per_conn_default(std::uint32_t bytes, std::uint32_t per_mbuf) noexcept {
  return std::max(kMinConnMbufs, bytes / per_mbuf);
}

// Whether in-order payload of `len` bytes (one segment) goes into the room
// of the receive queue's last segment: only into an mbuf nobody else holds.
bool copies_into_rx_tail(const tcb& c, std::uint32_t len) noexcept {
  const rte_mbuf* t = c.rx_tail;
  return t != nullptr && len < kRxCopyBelow && RTE_MBUF_DIRECT(t) &&
         rte_mbuf_refcnt_read(t) == 1 && rte_pktmbuf_tailroom(t) >= len;
}

}  // namespace

tcp_layer_config tcp_layer::resolve_memory(tcp_layer_config config) noexcept {
  tcp_config& t = config.tcp;
  const std::uint32_t pool = config.pool != nullptr ? config.pool->size : kDefaultPoolMbufs;
  if (t.snd_mbufs == 0) t.snd_mbufs = per_conn_default(t.snd_buffer, kSendBytesPerMbuf);
  if (t.rcv_mbufs == 0) t.rcv_mbufs = per_conn_default(t.rcv_buffer, kReceiveBytesPerMbuf);
  if (t.core_snd_mbufs == 0) t.core_snd_mbufs = pool / 2;
  if (t.core_rcv_mbufs == 0) t.core_rcv_mbufs = pool / 4;
  return config;
}

namespace {

// A connection's holding went from `before` to `after`: its budget and the
// gauge that telemetry shows follow.
void account(mbuf_budget& budget, base::counter& gauge, std::uint32_t before,
             std::uint32_t after) noexcept {
  if (after == before) return;
  budget.update(before, after);
  if (after > before) {
    gauge.add(after - before);
  } else {
    gauge.sub(before - after);
  }
}

}  // namespace

void connection::account_snd(std::uint32_t before) noexcept {
  account(_cx.snd_mem, _cx.counters.snd_mbufs, before, _c.snd.segments());
}

void connection::account_rcv(std::uint32_t before) noexcept {
  account(_cx.rcv_mem, _cx.counters.rcv_mbufs, before, _c.rcv_held_mbufs());
}

bool connection::rcv_memory_allows(rte_mbuf* payload, std::uint32_t len,
                                   seq32 seq) const noexcept {
  const tcb& c = _c;
  if (payload == nullptr || len == 0) return true;
  if (seq == c.rcv_nxt) {
    // In order: into the receive queue's last mbuf if it fits; or the one
    // segment that fills the first hole, which the reassembly queue takes
    // by reneging runs above it (ooo_room()), or it would wait for ever.
    if (!c.out_of_order.empty()) return true;
    if (payload->nb_segs == 1 && copies_into_rx_tail(c, len)) return true;
  }
  return _cx.rcv_mem.allowance(c.rcv_held_mbufs()) >= payload->nb_segs;
}

std::uint32_t connection::ooo_room() const noexcept {
  return _c.out_of_order.segments() + _cx.rcv_mem.allowance(_c.rcv_held_mbufs());
}

void connection::append_rx(rte_mbuf* data, std::uint32_t len) noexcept {
  tcb& c = _c;
  const std::uint32_t before = c.rcv_held_mbufs();
  if (rte_mbuf* t = c.rx_tail; data->nb_segs == 1 && copies_into_rx_tail(c, len)) {
    if (char* room = rte_pktmbuf_append(t, static_cast<std::uint16_t>(len)); room != nullptr) {
      // rte_pktmbuf_append grew the tail's own pkt_len; the chain's is the head's.
      if (t != c.rx_head) {
        t->pkt_len = t->data_len;
        c.rx_head->pkt_len += len;
      }
      std::memcpy(room, rte_pktmbuf_mtod(data, const char*), len);
      rte_pktmbuf_free(data);
      c.rx_bytes += len;
      return;
    }
  }
  if (c.rx_head == nullptr) {
    c.rx_head = data;
  } else if (rte_pktmbuf_chain(c.rx_head, data) != 0) {
    // More segments than one chain may hold: the application is far behind.
    // The window is what stops a peer; reaching this means a tiny-segment
    // flood inside it, so drop and let the peer send again.
    rte_pktmbuf_free(data);
    return;
  }
  c.rx_tail = rte_pktmbuf_lastseg(data);
  c.rx_mbufs += data->nb_segs;
  c.rx_bytes += len;
  account_rcv(before);
}

// Oldest first, and only while the budget would take a send from the one
// at the head: a sender told kWritable that cannot send would only be
// refused again.
void tcp_layer::wake_blocked_senders() noexcept {
  for (int n = 0; n < kWakeBatch && !_blocked.empty(); ++n) {
    tcb& c = *_blocked.front();
    if (_snd_mem.allowance(c.snd.segments()) == 0) return;
    _blocked.remove(c);
    if (can_send(c.state)) notify(c, event::kWritable);
  }
}

}  // namespace kbt::tcp
