#pragma once
// Many connections on one simulated endpoint, for tests at scale: a server
// that echoes each request and closes after the client does, or a swarm of
// clients that each connect, send one request, check the echo and close.
// Each connection's fate is recorded, so a test can say "every client
// succeeded" and mean it byte for byte.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/counters.hh"
#include "core/engine.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp/tcp_layer.hh"

namespace kbt::sim {

struct swarm_config {
  wire::mac_addr mac;
  wire::ipv4_addr ip;
  std::optional<wire::ipv4_addr> gateway;
  tcp::tcp_config tcp;
  std::uint32_t max_conns = 2048;
  std::uint64_t key_seed = 1;  // ISN and cookie keys
  const base::rss_table* rss = nullptr;
  std::uint16_t core = 0;
};

// Host A's or host B's swarm (sim_hosts.hh) with a 2 s MSL, so that
// TIME_WAIT ends soon on the virtual clock, and keys drawn from `key_seed`.
inline swarm_config host_a(std::uint64_t key_seed) {
  swarm_config c{.mac = kMacA, .ip = kIpA};
  c.tcp.msl = base::nanos{2 * kSec};
  c.key_seed = key_seed;
  return c;
}
inline swarm_config host_b(std::uint64_t key_seed) {
  swarm_config c{.mac = kMacB, .ip = kIpB};
  c.tcp.msl = base::nanos{2 * kSec};
  c.key_seed = key_seed;
  return c;
}

// What happened to one client connection.
struct client_result {
  bool connected = false;
  bool closed = false;
  std::uint32_t echoed = 0;  // bytes of the echo that matched
  tcp::close_reason reason = tcp::close_reason::normal;
  bool ok(std::uint32_t request_bytes) const noexcept {
    return connected && closed && echoed == request_bytes && reason == tcp::close_reason::normal;
  }
};

class tcp_swarm {
 public:
  // On side `s` of `w`, polled by the world (unless `attach` is false: a test
  // that drives several swarms on one side polls them itself).
  tcp_swarm(sim_world& w, side s, const swarm_config& config, core::steering_fabric* steering = nullptr,
            bool attach = true);
  ~tcp_swarm();

  // Server: echo every byte back; close after the peer's FIN.
  void serve(std::uint16_t port);
  // Client: open one connection to ip:port now, sending `request_bytes`.
  // Returns its index in results(), or nullopt when connect() failed.
  std::optional<std::size_t> open(wire::ipv4_addr ip, std::uint16_t port, std::uint32_t request_bytes);

  void poll(std::uint64_t now_ns);
  core::engine& engine() noexcept { return *_engine; }
  tcp::tcp_layer& tcp() noexcept { return *_engine->tcp(); }
  const core::core_counters& counters() const noexcept { return _counters; }
  const std::vector<client_result>& results() const noexcept { return _results; }
  std::size_t succeeded() const noexcept;
  std::size_t finished() const noexcept;  // closed, one way or the other
  std::uint64_t served() const noexcept { return _served; }  // server: connections closed

 private:
  void on_event(tcp::tcb& c, std::uint8_t ev, base::instant now);
  void client_event(tcp::tcb& c, std::uint8_t ev, base::instant now);
  void server_event(tcp::tcb& c, std::uint8_t ev, base::instant now);

  sim_world& _world;
  side _side;
  bool _attached;
  bool _server = false;
  core::core_counters _counters;
  std::unique_ptr<core::engine> _engine;
  std::vector<client_result> _results;
  std::vector<std::uint32_t> _request_bytes;
  std::uint64_t _served = 0;
};

// Byte i of every request (and so of every echo).
inline std::uint8_t request_byte(std::size_t conn, std::uint32_t i) noexcept {
  return static_cast<std::uint8_t>(conn * 31 + i * 7 + 1);
}

}  // namespace kbt::sim
