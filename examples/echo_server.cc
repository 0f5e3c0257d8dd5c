// A complete TCP echo server on kbt: the README's example.
//   build/examples/echo-server [EAL arguments --]   (default: TAP kbt0, 198.18.0.2, port 7)
#include <cstdio>

#include "api/app.hh"
#include "api/eal_args.hh"
#include "base/startup_error.hh"

using namespace kbt;

// One per core; callbacks run on the core that owns the connection.
struct echo {
  // Zero-copy: the received mbufs become the reply. When the send buffer is
  // full, the reply waits in the connection's user pointer and reading
  // pauses, so the peer's window closes instead of data piling up here;
  // on_writable comes once there is room. Should the connection end first,
  // the stack frees the waiting reply (set_user's deleter).
  void on_data(api::connection c, api::rx_data& data) {
    if (c.user() != nullptr) return;  // at the close, a reply still waits: drop the rest
    api::tx_buffer reply(data.take());
    if (c.send(reply) == 0) {
      c.set_user(reply.release(), &free_mbuf);
      c.pause_reading();
    }
    finish(c);
  }
  void on_writable(api::connection c) {
    api::tx_buffer held(static_cast<rte_mbuf*>(c.user()));
    c.set_user(nullptr);  // ours again: the deleter will not run
    if (held && c.send(held) == 0) return c.set_user(held.release(), &free_mbuf);
    c.resume_reading();
    finish(c);
  }
  void on_peer_fin(api::connection c) { finish(c); }
  static void free_mbuf(void* m) { rte_pktmbuf_free(static_cast<rte_mbuf*>(m)); }
  // Half-close: our FIN once everything the peer sent has been echoed.
  static void finish(api::connection c) {
    if (c.peer_closed() && c.user() == nullptr && c.unread_bytes() == 0) c.shutdown();
  }
};

int main(int argc, char** argv) {
  const auto cl = api::split_command_line(argc, argv);  // EAL args before --, embedded default
  api::stack_config config;
  config.program = "echo-server";
  config.tcp_listen = {7};
  try {
    return api::run_app<echo>(cl.eal, config, [](api::core_context&) { return echo{}; });
  } catch (const base::startup_error& e) {
    std::fprintf(stderr, "echo-server: %s\n", e.what());
    return 1;
  }
}
