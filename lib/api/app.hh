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
//
// Threads that are not cores use connections through thread_links
// (api/thread_link.hh): pass a thread_links to run_app; their connections
// never reach the handler.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "api/connection.hh"
#include "api/stack.hh"
#include "api/thread_link.hh"

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

// The links of `threads` application threads to every core. Made before
// run_app (which sizes it once the number of cores is known); a thread
// waits for ready() before its first submit.
class thread_links {
 public:
  explicit thread_links(unsigned threads) : _threads(threads) {}
  unsigned threads() const noexcept { return _threads; }
  unsigned cores() const noexcept { return _cores; }
  bool ready() const noexcept { return _ready.load(std::memory_order_acquire); }
  thread_link& at(unsigned thread, unsigned core) noexcept { return *_links[thread * _cores + core]; }

  // run_app's: once, before the cores run.
  void attach(unsigned cores) {
    _cores = cores;
    for (unsigned i = 0; i < _threads * cores; ++i) _links.push_back(std::make_unique<thread_link>());
    _ready.store(true, std::memory_order_release);
  }

 private:
  unsigned _threads;
  unsigned _cores = 0;
  std::vector<std::unique_ptr<thread_link>> _links;
  std::atomic<bool> _ready{false};
};

namespace detail {

// A connection a thread owns: its link and the tag of its connect.
struct external_conn {
  thread_link* link = nullptr;
  std::uint64_t tag = 0;
};

template <class Handler>
struct app_core {
  core_context ctx;
  std::unique_ptr<Handler> handler;
  std::vector<thread_link*> links;        // the threads' links to this core
  std::vector<external_conn> external;   // by TCB slot
  std::vector<tcp::tcb*> stalled;         // reading paused: their thread's queue was full
};

inline external_conn* external_of(std::vector<external_conn>& ext, tcp::tcb& c) noexcept {
  if (c.index >= ext.size() || c.user != &ext[c.index]) return nullptr;
  return &ext[c.index];
}

// Whether this event hands data to the application: while reading is on,
// and at the close whatever the pause, the last chance before the stack
// frees it (the soak found it freed unread). For handlers and threads alike.
inline bool delivers_data(const tcp::tcb& c, std::uint8_t ev) noexcept {
  const bool closing = (ev & tcp::event::kClosed) != 0;
  return (ev & (tcp::event::kReadable | tcp::event::kClosed)) != 0 && (!c.rx_paused || closing);
}

// Events of a thread's connection become completions on its link.
inline void dispatch_external(core_context& ctx, std::vector<tcp::tcb*>& stalled,
                              external_conn& x, tcp::tcb& c, std::uint8_t ev) noexcept {
  thread_link& link = *x.link;
  const conn_id id = make_conn_id(ctx.core, c);
  using kind = thread_completion::kind;
  if ((ev & tcp::event::kConnected) != 0) (void)link.complete({kind::connected, id, x.tag});
  const bool closing = (ev & tcp::event::kClosed) != 0;
  if (delivers_data(c, ev)) {
    // The last data before a close may use the reserve; otherwise only
    // hand data over while there is room, and pause reading until there is.
    if (closing || link.has_room()) {
      if (rte_mbuf* m = ctx.tcp->recv(c, ctx.now_ns); m != nullptr) {
        if (!link.complete({kind::data, id, x.tag, m})) rte_pktmbuf_free(m);
      }
    } else {
      ctx.tcp->set_reading(c, false);
      stalled.push_back(&c);
    }
  }
  if ((ev & tcp::event::kPeerFin) != 0) (void)link.complete({kind::peer_fin, id, x.tag});
  if ((ev & tcp::event::kWritable) != 0) (void)link.complete({kind::writable, id, x.tag});
  if (closing) {
    (void)link.complete({kind::closed, id, x.tag, nullptr, c.reason});
    c.user = nullptr;
    x = external_conn{};
    ctx.tcp->release(c, ctx.now_ns);
  }
}

// A request's connection, if the id still names it and a thread owns it.
inline tcp::tcb* external_tcb(core_context& ctx, std::vector<external_conn>& ext,
                              conn_id id) noexcept {
  tcp::tcb* c = ctx.tcp->at(slot_of(id));
  if (c == nullptr || !c->in_use || !c->app_holds || c->generation != generation_of(id)) {
    return nullptr;
  }
  return external_of(ext, *c) != nullptr ? c : nullptr;
}

template <class H>
void serve_links(app_core<H>& ac) noexcept {
  core_context& ctx = ac.ctx;
  // Connections stalled on a full completion queue read again once it drained.
  for (std::size_t i = 0; i < ac.stalled.size();) {
    tcp::tcb* c = ac.stalled[i];
    external_conn* x = external_of(ac.external, *c);
    if (x == nullptr || !c->in_use) {
      ac.stalled[i] = ac.stalled.back();
      ac.stalled.pop_back();
    } else if (x->link->has_room()) {
      ctx.tcp->set_reading(*c, true);
      ac.stalled[i] = ac.stalled.back();
      ac.stalled.pop_back();
    } else {
      ++i;
    }
  }
  using op = thread_request::op;
  for (thread_link* link : ac.links) {
    thread_request r;
    // Bounded per iteration, so one busy thread cannot starve the packets.
    for (int n = 0; n < 64 && link->take(r); ++n) {
      if (r.what == op::connect) {
        tcp::tcb* c = ctx.tcp->connect(r.ip, r.port, ctx.now_ns);
        if (c == nullptr) {
          (void)link->complete({thread_completion::kind::connect_failed, 0, r.tag});
          continue;
        }
        ac.external[c->index] = external_conn{link, r.tag};
        c->user = &ac.external[c->index];
        continue;
      }
      tcp::tcb* c = external_tcb(ctx, ac.external, r.id);
      if (c == nullptr) {
        rte_pktmbuf_free(r.data);  // the connection is gone: the data with it
        continue;
      }
      switch (r.what) {
        case op::send:
          if (!ctx.tcp->send(*c, r.data, ctx.now_ns)) {
            (void)link->complete({thread_completion::kind::send_refused, r.id,
                                  ac.external[c->index].tag, r.data});
          }
          break;
        case op::shutdown: ctx.tcp->shutdown(*c, ctx.now_ns); break;
        case op::close: {
          // thread_link.hh promises {closed}: the id dies here, while the
          // close handshake and TIME_WAIT go on without the thread.
          const std::uint64_t tag = ac.external[c->index].tag;
          c->user = nullptr;
          ac.external[c->index] = external_conn{};
          ctx.tcp->release(*c, ctx.now_ns);
          (void)link->complete({thread_completion::kind::closed, r.id, tag, nullptr,
                                tcp::close_reason::normal});
          break;
        }
        case op::abort: ctx.tcp->abort(*c, ctx.now_ns); break;
        case op::connect: break;
      }
    }
  }
}

template <class H>
void dispatch(app_core<H>& ac, tcp::tcb& c, std::uint8_t ev) {
  if (external_conn* x = external_of(ac.external, c); x != nullptr) {
    return dispatch_external(ac.ctx, ac.stalled, *x, c, ev);
  }
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
  if (delivers_data(c, ev) && conn.valid()) {
    if (rte_mbuf* m = ctx.tcp->recv(c, ctx.now_ns); m != nullptr) {
      rx_data d(m);
      if constexpr (requires { h.on_data(conn, d); }) h.on_data(conn, d);
      if (rte_mbuf* rest = d.put_back(); rest != nullptr) {
        if (conn.valid()) {
          ctx.tcp->unrecv(c, rest);
        } else {
          rte_pktmbuf_free(rest);
        }
      }
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
  if (!ac.links.empty()) serve_links(ac);
  ac.ctx.tcp->poll_events([&ac](tcp::tcb& c, std::uint8_t ev) { dispatch(ac, c, ev); });
}

template <class H>
void attach_links(app_core<H>& ac, thread_links& links, unsigned core, std::uint32_t max_conns) {
  for (unsigned t = 0; t < links.threads(); ++t) ac.links.push_back(&links.at(t, core));
  ac.external.assign(max_conns, external_conn{});
  ac.stalled.reserve(max_conns);
}

}  // namespace detail

// Starts the stack (EAL, port, one engine per lcore), makes one handler per
// core with make(core_context&) -> Handler, and runs until SIGINT/SIGTERM.
// Returns the process exit code. Start-up errors throw dev::startup_error.
template <class Handler, class Factory>
int run_app(const std::vector<std::string>& eal_args, const stack_config& config,
            Factory&& make, thread_links* links = nullptr) {
  stack_config with_tcp = config;
  with_tcp.tcp_on = true;
  stack s(eal_args, with_tcp);
  std::vector<detail::app_core<Handler>> cores(s.cores());
  for (unsigned i = 0; i < s.cores(); ++i) {
    core::engine& e = s.engine_of(i);
    cores[i].ctx = core_context{&e, e.tcp(), e.config().pool, static_cast<std::uint16_t>(i), 0};
    cores[i].handler = std::make_unique<Handler>(make(cores[i].ctx));
  }
  if (links != nullptr) {
    links->attach(s.cores());
    for (unsigned i = 0; i < s.cores(); ++i) {
      attach_links(cores[i], *links, i, config.max_conns_per_core);
    }
  }
  s.set_poll_hook(&detail::poll_hook<Handler>, &cores);
  const int rc = s.run();
  s.set_poll_hook(nullptr, nullptr);
  return rc;
}

}  // namespace kbt::api
