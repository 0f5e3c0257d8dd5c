// kbt-test-echo: a TCP echo server on the kbt stack for the interop tests
// against Linux's own TCP. It echoes what it receives without copying (the
// received mbufs go straight into the send buffer), follows the peer's
// half-close with its own, and releases connections when they close.
// Usage: kbt-test-echo [EAL arguments --] [--ip ADDR/PREFIX] [--port N]
//        [--stats-interval SECONDS]
#include <CLI/CLI.hpp>

#include "api/eal_args.hh"
#include "api/stack.hh"
#include "common/app_options.hh"
#include "core/engine.hh"
#include "base/startup_error.hh"

namespace {

using namespace kbt;

// Echoes what waits on `c`; what the send buffer cannot take yet stays in
// the connection's user pointer, and nothing more is read until it went,
// so a slow reader on the other side closes our receive window.
void pump(tcp::tcp_layer& t, tcp::tcb& c, base::instant now) {
  for (int round = 0; round < 64; ++round) {
    auto* pending = static_cast<rte_mbuf*>(c.user);
    if (pending == nullptr) pending = t.recv(c, now);
    if (pending == nullptr) return;
    if (!t.send(c, pending, now)) {
      c.user = pending;
      return;
    }
    c.user = nullptr;
  }
}

void on_poll(core::engine& e, base::instant now, void*) {
  tcp::tcp_layer& t = *e.tcp();
  t.poll_events([&](tcp::tcb& c, std::uint8_t ev) {
    if ((ev & (tcp::event::kConnected | tcp::event::kReadable | tcp::event::kWritable |
               tcp::event::kPeerFin)) != 0) {
      pump(t, c, now);
      // The peer is done and everything it sent is echoed (or queued to
      // be): our side is done too. shutdown() is a no-op the second time.
      if (c.fin_received && c.user == nullptr && c.rx_head == nullptr) t.shutdown(c, now);
    }
    if ((ev & tcp::event::kClosed) != 0) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(c.user));
      c.user = nullptr;
      t.release(c, now);
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  const std::string program = "kbt-test-echo";
  const auto cl = api::split_command_line(argc, argv);
  CLI::App app("kbt-test-echo: TCP echo server on kbt, for interop tests", program);
  app.footer(apps::eal_footer(program));
  apps::common_options common;
  unsigned port = 7;
  apps::add_common_options(app, common);
  app.add_option("--port", port, "TCP port to listen on")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(1, 65535));
  if (auto rc = apps::parse(app, cl.app)) return *rc;
  try {
    api::stack_config config = apps::to_stack_config(common, program);
    config.tcp_listen = {static_cast<std::uint16_t>(port)};
    config.on_poll = &on_poll;
    api::stack stack(cl.eal, config);
    return stack.run();
  } catch (const base::startup_error& e) {
    apps::report_error(program, e.what());
    return 1;
  }
}
