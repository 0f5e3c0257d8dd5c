#pragma once
// A TCP endpoint for the simulator: a core::engine with TCP on one side of a
// sim_world, and a small application on it that streams a seeded byte
// pattern, checks every byte it receives against the peer's pattern (so a
// lost, duplicated or reordered byte is caught where it happens), and
// half-closes when its part is sent.
#include <cstdint>
#include <memory>
#include <string>

#include "core/counters.hh"
#include "core/engine.hh"
#include "prng.hh"
#include "sim_world.hh"
#include "tcp/tcp_layer.hh"

namespace kbt::sim {

// Byte i of the stream that `seed` names.
std::uint8_t pattern_byte(std::uint64_t seed, std::uint64_t i) noexcept;

struct stream_plan {
  std::uint64_t send_bytes = 0;      // what this side sends
  std::uint64_t expect_bytes = 0;    // what it must receive
  std::uint64_t tx_seed = 0;         // pattern of what it sends
  std::uint64_t rx_seed = 0;         // pattern it expects
  bool shutdown_when_sent = true;    // FIN after the last byte
  bool wait_for_peer_fin = false;    // ... but only once the peer's FIN came
  bool read = true;                  // false: let the receive window fill
  // 0: send_copy as much as the buffer takes. Otherwise each write is
  // 1..max_write bytes (drawn from the endpoint's seed) in an mbuf of its
  // own handed over zero-copy, so segments are chains of odd-sized pieces,
  // as an echo server's are.
  std::uint32_t max_write = 0;
};

class tcp_peer {
 public:
  tcp_peer(sim_world& w, side s, wire::mac_addr mac, wire::ipv4_addr ip,
           const tcp::tcp_config& tcp, tcp::cc_algorithm cc = tcp::cc_algorithm::cubic);
  ~tcp_peer();

  void listen(std::uint16_t port);
  void connect(wire::ipv4_addr ip, std::uint16_t port, std::uint16_t local_port = 0);
  void set_plan(const stream_plan& p) { _plan = p; }
  void set_reading(bool on) { _plan.read = on; }

  core::engine& engine() noexcept { return *_engine; }
  tcp::tcp_layer& tcp() noexcept { return *_engine->tcp(); }
  const core::core_counters& counters() const noexcept { return _counters; }

  // The connection while the application holds it (nullptr before it is
  // made and after it closed).
  tcp::tcb* conn() const noexcept { return _conn; }
  bool connected() const noexcept { return _connected; }
  bool closed() const noexcept { return _closed; }
  bool peer_fin() const noexcept { return _peer_fin; }
  tcp::close_reason reason() const noexcept { return _reason; }
  std::uint64_t sent() const noexcept { return _sent; }
  std::uint64_t received() const noexcept { return _received; }
  // The connection's variables, for failure messages.
  std::string describe() const;
  // The first wrong byte, described; empty while all is well.
  const std::string& error() const noexcept { return _error; }
  bool done() const noexcept {
    return _closed && _received == _plan.expect_bytes && _sent == _plan.send_bytes;
  }
  std::uint64_t in_state(tcp::tcp_state s) const noexcept {
    return _engine->tcp()->counters().states[static_cast<std::size_t>(s)].get();
  }

 private:
  void poll(base::instant now);
  void on_event(tcp::tcb& c, std::uint8_t ev, base::instant now);
  void read_all(base::instant now);
  void pump(base::instant now);
  bool write_piece(base::instant now);

  sim_world& _world;
  side _side;
  core::core_counters _counters;
  std::unique_ptr<core::engine> _engine;
  stream_plan _plan;
  tcp::tcb* _conn = nullptr;
  bool _connected = false;
  bool _closed = false;
  bool _peer_fin = false;
  bool _fin_sent = false;
  tcp::close_reason _reason = tcp::close_reason::normal;
  std::uint64_t _sent = 0;
  std::uint64_t _received = 0;
  prng _write_sizes;
  std::string _error;
  std::string _at_close;
};

}  // namespace kbt::sim
