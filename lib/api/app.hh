#pragma once
// The application side of the stack: one handler object per core, made by
// the application's factory, whose callbacks run on the core that owns the
// connection. Dispatch is a template, so each callback is a direct (usually
// inlined) call; the only indirect call is the stack's poll hook, once per
// loop iteration.
//
//   struct echo {
//     void on_accept(api::connection c) {}
//     void on_data(api::connection c, api::rx_data& d) {
//       for (auto s : d) c.send_copy(s);
//     }
//     void on_peer_fin(api::connection c) { c.shutdown(); }
//     void on_closed(api::connection, api::close_reason) {}
//   };
//   api::run_app<echo>(eal_args, config, [](api::core_context&) { return echo{}; });
//
// Callbacks a handler may define (all optional):
//   on_accept(connection)             a passive open is established
//   on_connected(connection)          an active open (connect()) is established
//   on_data(connection, rx_data&)     in-order payload, in place (see connection.hh)
//   on_peer_fin(connection)           the peer closed its side (half-close)
//   on_acked(connection, uint64_t)    that many more bytes were acknowledged
//   on_writable(connection)           send buffer space freed after a refused send
//   on_closed(connection, close_reason)  the end; the handle dies when it returns
//   on_poll(core_context&)            once per loop iteration (timers, new connects)
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "api/connection.hh"
#include "api/stack.hh"

namespace kbt::api {

// An active open from `ctx`'s core; the source port is chosen so that the
// replies reach this core. An invalid handle when no port or TCB is free.
inline connection connect(core_context& ctx, wire::ipv4_addr ip, std::uint16_t port,
                          void* user = nullptr) noexcept {
  tcp::tcb* c = ctx.tcp->connect(ip, port, ctx.now_ns);
  if (c == nullptr) return {};
  c->user = user;
  return connection(&ctx, c);
}

namespace detail {

template <class Handler>
struct app_core {
  core_context ctx;
  std::unique_ptr<Handler> handler;
};

template <class H>
void dispatch(app_core<H>& ac, tcp::tcb& c, std::uint8_t ev) {
  H& h = *ac.handler;
  core_context& ctx = ac.ctx;
  connection conn(&ctx, &c);
  if ((ev & tcp::event::kConnected) != 0) {
    if (c.passive) {
      if constexpr (requires { h.on_accept(conn); }) h.on_accept(conn);
    } else {
      if constexpr (requires { h.on_connected(conn); }) h.on_connected(conn);
    }
  }
  // Data first, then the FIN that follows it, then the close.
  if ((ev & (tcp::event::kReadable | tcp::event::kClosed)) != 0 && conn.valid() && !c.rx_paused) {
    if (rte_mbuf* m = ctx.tcp->recv(c, ctx.now_ns); m != nullptr) {
      rx_data d(m);
      if constexpr (requires { h.on_data(conn, d); }) h.on_data(conn, d);
    }
  }
  if ((ev & tcp::event::kPeerFin) != 0 && conn.valid()) {
    if constexpr (requires { h.on_peer_fin(conn); }) h.on_peer_fin(conn);
  }
  if ((ev & tcp::event::kAcked) != 0 && conn.valid()) {
    const std::uint64_t n = c.acked_unreported;
    c.acked_unreported = 0;
    if constexpr (requires { h.on_acked(conn, n); }) h.on_acked(conn, n);
  }
  if ((ev & tcp::event::kWritable) != 0 && conn.valid()) {
    if constexpr (requires { h.on_writable(conn); }) h.on_writable(conn);
  }
  if ((ev & tcp::event::kClosed) != 0 && conn.valid()) {
    if constexpr (requires { h.on_closed(conn, c.reason); }) h.on_closed(conn, c.reason);
    if (conn.valid()) ctx.tcp->release(c, ctx.now_ns);
  }
}

template <class H>
void poll_hook(core::engine& e, std::uint64_t now_ns, void* ctx) {
  auto& cores = *static_cast<std::vector<app_core<H>>*>(ctx);
  app_core<H>& ac = cores[e.config().core];
  ac.ctx.now_ns = now_ns;
  if constexpr (requires { ac.handler->on_poll(ac.ctx); }) ac.handler->on_poll(ac.ctx);
  ac.ctx.tcp->poll_events([&ac](tcp::tcb& c, std::uint8_t ev) { dispatch(ac, c, ev); });
}

}  // namespace detail

// Starts the stack (EAL, port, one engine per lcore), makes one handler per
// core with make(core_context&) -> Handler, and runs until SIGINT/SIGTERM.
// Returns the process exit code. Start-up errors throw dev::startup_error.
template <class Handler, class Factory>
int run_app(const std::vector<std::string>& eal_args, const stack_config& config,
            Factory&& make) {
  stack_config with_tcp = config;
  with_tcp.tcp_on = true;
  stack s(eal_args, with_tcp);
  std::vector<detail::app_core<Handler>> cores(s.cores());
  for (unsigned i = 0; i < s.cores(); ++i) {
    core::engine& e = s.engine_of(i);
    cores[i].ctx = core_context{&e, e.tcp(), e.config().pool, static_cast<std::uint16_t>(i), 0};
    cores[i].handler = std::make_unique<Handler>(make(cores[i].ctx));
  }
  s.set_poll_hook(&detail::poll_hook<Handler>, &cores);
  const int rc = s.run();
  s.set_poll_hook(nullptr, nullptr);
  return rc;
}

}  // namespace kbt::api
