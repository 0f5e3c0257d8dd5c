#include "tcp_swarm.hh"

#include <array>
#include <cstring>
#include <span>

namespace kbt::sim {

tcp_swarm::tcp_swarm(sim_world& w, side s, const swarm_config& config,
                     core::steering_fabric* steering, bool attach)
    : _world(w), _side(s), _attached(attach) {
  core::engine_config ec = w.endpoint_config(s, config.mac, config.ip);
  ec.core = config.core;  // every core on the world's one queue
  ec.gateway = config.gateway;
  ec.tcp = true;
  ec.tcp_layer.tcp = config.tcp;
  ec.tcp_layer.max_conns = config.max_conns;
  for (std::size_t i = 0; i < ec.tcp_layer.isn_key.size(); ++i) {
    ec.tcp_layer.isn_key[i] = static_cast<std::uint8_t>((config.key_seed >> ((i % 8) * 8)) + i);
    ec.tcp_layer.cookie_key[i] = static_cast<std::uint8_t>((config.key_seed >> ((i % 8) * 8)) + 3 * i + 1);
  }
  ec.rss = config.rss;
  ec.steering = steering;
  _engine = std::make_unique<core::engine>(ec, _counters);
  if (attach) w.set_poll(s, [this](std::uint64_t now) { poll(now); });
}

tcp_swarm::~tcp_swarm() {
  if (_attached) _world.set_poll(_side, nullptr);
}

void tcp_swarm::serve(std::uint16_t port) {
  _server = true;
  _engine->tcp()->listen(port);
}

std::optional<std::size_t> tcp_swarm::open(wire::ipv4_addr ip, std::uint16_t port,
                                           std::uint32_t request_bytes) {
  tcp::tcb* c = _engine->tcp()->connect(ip, port, _world.now());
  if (c == nullptr) return std::nullopt;
  const std::size_t index = _results.size();
  _results.emplace_back();
  _request_bytes.push_back(request_bytes);
  // The index rides in the user pointer: no map per connection.
  c->user = reinterpret_cast<void*>(index + 1);
  _engine->flush_all();
  return index;
}

void tcp_swarm::poll(std::uint64_t now_ns) {
  const base::instant now = base::instant_from_ns(now_ns);
  _engine->poll(now);
  _engine->tcp()->poll_events(
      [this, now](tcp::tcb& c, std::uint8_t ev) { on_event(c, ev, now); });
  _engine->flush_all();
}

void tcp_swarm::on_event(tcp::tcb& c, std::uint8_t ev, base::instant now) {
  if (_server) {
    server_event(c, ev, now);
  } else {
    client_event(c, ev, now);
  }
}

void tcp_swarm::server_event(tcp::tcb& c, std::uint8_t ev, base::instant now) {
  tcp::tcp_layer& l = *_engine->tcp();
  if ((ev & tcp::event::kReadable) != 0) {
    rte_mbuf* m = l.recv(c, now);
    std::array<std::uint8_t, 2048> copy;
    for (rte_mbuf* s = m; s != nullptr; s = s->next) {
      const auto n = std::min<std::size_t>(s->data_len, copy.size());
      std::memcpy(copy.data(), rte_pktmbuf_mtod(s, const void*), n);
      // The echo is small: it fits the send buffer whole.
      l.send_copy(c, std::as_bytes(std::span(copy.data(), n)), now);
    }
    rte_pktmbuf_free(m);
  }
  if ((ev & tcp::event::kPeerFin) != 0) l.shutdown(c, now);
  if ((ev & tcp::event::kClosed) != 0) {
    ++_served;
    l.release(c, now);
  }
}

void tcp_swarm::client_event(tcp::tcb& c, std::uint8_t ev, base::instant now) {
  tcp::tcp_layer& l = *_engine->tcp();
  const auto index = reinterpret_cast<std::size_t>(c.user) - 1;
  if (index >= _results.size()) return;
  client_result& r = _results[index];
  const std::uint32_t want = _request_bytes[index];
  if ((ev & tcp::event::kConnected) != 0) {
    r.connected = true;
    std::vector<std::uint8_t> req(want);
    for (std::uint32_t i = 0; i < want; ++i) req[i] = request_byte(index, i);
    l.send_copy(c, std::as_bytes(std::span(req)), now);  // small: fits whole
  }
  if ((ev & tcp::event::kReadable) != 0) {
    rte_mbuf* m = l.recv(c, now);
    for (rte_mbuf* s = m; s != nullptr; s = s->next) {
      const auto* p = rte_pktmbuf_mtod(s, const std::uint8_t*);
      for (std::uint16_t i = 0; i < s->data_len; ++i) {
        if (r.echoed < want && p[i] == request_byte(index, r.echoed)) ++r.echoed;
      }
    }
    rte_pktmbuf_free(m);
    if (r.echoed == want) l.shutdown(c, now);
  }
  if ((ev & tcp::event::kClosed) != 0) {
    r.closed = true;
    r.reason = c.reason;
    l.release(c, now);
  }
}

std::size_t tcp_swarm::succeeded() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < _results.size(); ++i) n += _results[i].ok(_request_bytes[i]) ? 1 : 0;
  return n;
}

std::size_t tcp_swarm::finished() const noexcept {
  std::size_t n = 0;
  for (const auto& r : _results) n += r.closed ? 1 : 0;
  return n;
}

}  // namespace kbt::sim
