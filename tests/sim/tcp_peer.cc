#include "tcp_peer.hh"

#include <algorithm>
#include <array>

namespace kbt::sim {

std::uint8_t pattern_byte(std::uint64_t seed, std::uint64_t i) noexcept {
  // SplitMix64 of (seed, i / 8): cheap, and no two nearby offsets alike.
  std::uint64_t x = seed + (i >> 3) * 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<std::uint8_t>(x >> ((i & 7) * 8));
}

tcp_peer::tcp_peer(sim_world& w, side s, wire::mac_addr mac, wire::ipv4_addr ip,
                   const tcp::tcp_config& tcp, tcp::cc_algorithm cc)
    : _world(w), _side(s), _write_sizes(sub_seed(w.endpoint_seed(s), 1)) {
  core::engine_config ec = w.endpoint_config(s, mac, ip);
  ec.tcp = true;
  ec.tcp_layer.tcp = tcp;
  ec.tcp_layer.tcp.cc = cc;
  ec.tcp_layer.max_conns = 8;
  // A key from the endpoint's seed: the whole run replays from one seed.
  const std::uint64_t k = w.endpoint_seed(s);
  for (std::size_t i = 0; i < ec.tcp_layer.isn_key.size(); ++i) {
    ec.tcp_layer.isn_key[i] = static_cast<std::uint8_t>((k >> ((i % 8) * 8)) + i);
  }
  _engine = std::make_unique<core::engine>(ec, _counters);
  w.set_poll(s, [this](std::uint64_t now) { poll(base::instant_from_ns(now)); });
}

// The world must not poll an endpoint that is gone.
tcp_peer::~tcp_peer() { _world.set_poll(_side, nullptr); }

void tcp_peer::listen(std::uint16_t port) { _engine->tcp()->listen(port); }

void tcp_peer::connect(wire::ipv4_addr ip, std::uint16_t port, std::uint16_t local_port) {
  _conn = _engine->tcp()->connect(ip, port, _world.now(), local_port);
  if (_conn == nullptr) _error = "connect failed";
  _engine->flush_all();
}

void tcp_peer::poll(base::instant now) {
  _engine->poll(now);
  _engine->tcp()->poll_events(
      [this, now](tcp::tcb& c, std::uint8_t ev) { on_event(c, ev, now); });
  if (_conn != nullptr && _connected) {
    if (_plan.read) read_all(now);
    pump(now);
  }
  _engine->flush_all();
}

void tcp_peer::on_event(tcp::tcb& c, std::uint8_t ev, base::instant now) {
  if ((ev & tcp::event::kConnected) != 0) {
    if (_conn == nullptr) _conn = &c;  // accepted
    if (&c != _conn) {
      _error = "a second connection";
      return;
    }
    _connected = true;
  }
  if (&c != _conn) return;
  if ((ev & tcp::event::kReadable) != 0 && _plan.read) read_all(now);
  if ((ev & tcp::event::kPeerFin) != 0) _peer_fin = true;
  if ((ev & tcp::event::kClosed) != 0) {
    if (_plan.read) read_all(now);
    _closed = true;
    _reason = c.reason;
    _at_close = describe();
    _at_close += " snd.una=" + std::to_string(c.snd.una().value) +
                 " snd.bytes=" + std::to_string(c.snd.bytes()) +
                 " t=" + std::to_string(base::ns_since_start(now));
    _engine->tcp()->release(c, now);
    _conn = nullptr;
  }
}

void tcp_peer::read_all(base::instant now) {
  rte_mbuf* m = _engine->tcp()->recv(*_conn, now);
  for (rte_mbuf* s = m; s != nullptr; s = s->next) {
    const auto* p = rte_pktmbuf_mtod(s, const std::uint8_t*);
    for (std::uint16_t i = 0; i < s->data_len; ++i) {
      if (_error.empty() && p[i] != pattern_byte(_plan.rx_seed, _received)) {
        _error = "wrong byte at offset " + std::to_string(_received);
      }
      ++_received;
    }
  }
  rte_pktmbuf_free(m);
  if (_received > _plan.expect_bytes && _error.empty()) _error = "more bytes than sent";
}

// One write of 1..max_write bytes in an mbuf of its own; false when the
// pool or the send buffer has no room for it now.
bool tcp_peer::write_piece(base::instant now) {
  const auto want = static_cast<std::uint16_t>(std::min<std::uint64_t>(
      {1 + _write_sizes.below(_plan.max_write), _plan.send_bytes - _sent,
       RTE_MBUF_DEFAULT_DATAROOM}));
  rte_mbuf* m = rte_pktmbuf_alloc(_world.pool(_side));
  if (m == nullptr) return false;
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, want));
  for (std::uint16_t i = 0; i < want; ++i) p[i] = pattern_byte(_plan.tx_seed, _sent + i);
  if (!_engine->tcp()->send(*_conn, m, now)) {
    rte_pktmbuf_free(m);
    return false;
  }
  _sent += want;
  return true;
}

void tcp_peer::pump(base::instant now) {
  std::array<std::uint8_t, 16384> chunk;
  for (int round = 0; round < 64 && _sent < _plan.send_bytes; ++round) {
    if (_plan.max_write != 0) {
      if (!write_piece(now)) break;
      continue;
    }
    // Only what the send buffer takes: making the pattern costs time.
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(
        {chunk.size(), _plan.send_bytes - _sent, _conn->snd.free_space()}));
    if (n == 0) break;
    for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern_byte(_plan.tx_seed, _sent + i);
    const std::uint32_t took =
        _engine->tcp()->send_copy(*_conn, std::as_bytes(std::span(chunk.data(), n)), now);
    _sent += took;
    if (took < n) break;  // the send buffer is full; kWritable comes later
  }
  const bool may_close = !_plan.wait_for_peer_fin || _peer_fin;
  if (_plan.shutdown_when_sent && !_fin_sent && _sent == _plan.send_bytes && may_close) {
    _fin_sent = true;
    _engine->tcp()->shutdown(*_conn, now);
  }
}

}  // namespace kbt::sim

namespace kbt::sim {

std::string tcp_peer::describe() const {
  if (_conn == nullptr) {
    return _closed ? "closed, reason " + std::to_string(static_cast<int>(_reason)) + "; at close: " + _at_close
                   : "no connection";
  }
  tcp::tcb& c = *_conn;
  auto u = [](auto v) { return std::to_string(v); };
  return std::string(tcp::to_string(c.state)) + " una=" + u(c.snd_una.value) +
         " nxt=" + u(c.snd_nxt.value) + " max=" + u(c.snd_max.value) +
         " wnd=" + u(c.snd_wnd) + " cwnd=" + u(c.cc.cwnd()) + " ssthresh=" + u(c.cc.ssthresh()) +
         " recovery=" + u(c.in_recovery) + " recover=" + u(c.recover.value) +
         " high_rxt=" + u(c.high_rxt.value) + " sacked=" + u(c.scoreboard.sacked_bytes()) +
         " rto_armed=" + u(c.rto_timer().armed()) + " persist_armed=" + u(c.persist_timer().armed()) +
         " rto=" + u(c.rtt.rto_ns()) + " retries=" + u(c.retries) +
         " unsent=" + u(c.snd.bytes_unsent(c.snd_nxt)) + " held=" + u(c.snd.bytes()) +
         " fin_queued=" + u(c.fin_queued) + " rcv_nxt=" + u(c.rcv_nxt.value) +
         " rcv_adv=" + u(c.rcv_adv.value) + " ooo=" + u(c.out_of_order.bytes()) + " rx=" + u(c.rx_bytes);
}

}  // namespace kbt::sim
