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
//   on_writable(connection)           after a send that was refused (or a short
//                                     send_copy): space is back; once per refusal,
//                                     and only for that connection
//   on_closed(connection, close_reason)  the end; the handle dies when it returns
//   on_poll(core_context&)            once per loop iteration (timers, new connects)
//
// Also from a handler: connect(), listen() / stop_listening() at run time,
// schedule_timer() / cancel_timer() on the core's wheel (app_timer.hh),
// connection::set_user(p, deleter) for data freed when the connection goes,
// and request_stop() (stack.hh), which ends run_app.
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

#include "api/app_timer.hh"
#include "api/connection.hh"
#include "api/stack.hh"
#include "api/thread_link.hh"

namespace kbt::api {

// An active open from `ctx`'s core; the source port is chosen so that the
// replies reach this core. An invalid handle when no port or TCB is free.
// `user` and `deleter` as connection::set_user (when the connect fails, the
// application keeps `user`: the deleter is not called).
inline connection connect(core_context& ctx, wire::ipv4_addr ip, std::uint16_t port,
                          void* user = nullptr, user_deleter deleter = nullptr) noexcept {
  if (ctx.tcp == nullptr) return {};  // the stack runs without TCP
  const tcp::handle c(ctx.tcp->connect(ip, port, ctx.now));
  if (!c) return {};
  ctx.set_user(c, user, deleter);
  return connection(&ctx, c);
}

// Listening from a running core (stack_config::tcp_listen does it at
// start-up): `ctx`'s core takes connections for `port` from now on; false
// without TCP or when 16 ports listen already. Every core that should take
// them listens: the NIC (or the software steering) gives a new flow to any
// core, and a core that does not listen answers its SYN with RST. E.g. in
// each core's on_poll: if (!_listening && ready.load()) _listening = api::listen(ctx, 6379);
inline bool listen(core_context& ctx, std::uint16_t port) noexcept {
  return ctx.tcp != nullptr && ctx.tcp->listen(port);
}
// Closes this core's listener on `port` (RFC 9293 §3.10.4): new SYNs get
// RST; handshakes under way still finish and reach on_accept, and open
// connections go on. False when this core does not listen there.
inline bool stop_listening(core_context& ctx, std::uint16_t port) noexcept {
  return ctx.tcp != nullptr && ctx.tcp->unlisten(port);
}

// A timer on `ctx`'s core (app_timer.hh): fn(ctx, arg) after `after_ms`
// milliseconds (at the wheel's 1 ms resolution, never early). 0 when the
// core's pool of timers is spent (stack_config::app_timers_per_core).
inline timer_id schedule_timer(core_context& ctx, std::uint64_t after_ms, timer_callback fn,
                               void* arg = nullptr) noexcept {
  if (ctx.timers == nullptr) return 0;
  return ctx.timers->schedule(ctx.now, after_ms, fn, arg);
}
// Stops a pending timer of this core; false when it already ran, was
// cancelled, or `id` is 0.
inline bool cancel_timer(core_context& ctx, timer_id id) noexcept {
  return ctx.timers != nullptr && ctx.timers->cancel(id);
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
  std::vector<tcp::handle> stalled;       // reading paused: their thread's queue was full
  std::vector<conn_state> conns;          // the API's records, by TCB slot (ctx.conns)
  std::unique_ptr<app_timers> timers;     // ctx.timers
};

// Core `core`'s context, records and timers, before it runs: what run_app
// does for each core, and what tests that drive an engine in-process do for
// theirs. Once placed, `ac` must not move (handles point at its ctx).
template <class H>
void init_core(app_core<H>& ac, core::engine& e, rte_mempool* pool, std::uint16_t core,
               std::uint32_t timers = 1024) {
  ac.ctx = core_context{};
  ac.ctx.engine = &e;
  ac.ctx.tcp = e.tcp();
  ac.ctx.pool = pool;
  ac.ctx.core = core;
  if (e.tcp() != nullptr) ac.conns.assign(e.tcp()->config().max_conns, conn_state{});
  ac.ctx.conns = ac.conns;
  // Without TCP there is no wheel: every schedule is refused, counted.
  ac.timers = std::make_unique<app_timers>(timers, e.tcp() != nullptr ? &e.tcp()->wheel() : nullptr,
                                           &ac.ctx);
  ac.ctx.timers = ac.timers.get();
}

inline external_conn* external_of(std::vector<external_conn>& ext, tcp::handle c) noexcept {
  if (c.slot() >= ext.size() || c.user() != &ext[c.slot()]) return nullptr;
  return &ext[c.slot()];
}

// Whether this event hands data to the application: while reading is on,
// and at the close whatever the pause, the last chance before the stack
// frees it (the soak found it freed unread). For handlers and threads alike.
inline bool delivers_data(tcp::handle c, std::uint8_t ev) noexcept {
  const bool closing = (ev & tcp::event::kClosed) != 0;
  return (ev & (tcp::event::kReadable | tcp::event::kClosed)) != 0 && (!c.reading_paused() || closing);
}

// Events of a thread's connection become completions on its link.
inline void dispatch_external(core_context& ctx, std::vector<tcp::handle>& stalled,
                              external_conn& x, tcp::handle c, std::uint8_t ev) noexcept {
  thread_link& link = *x.link;
  const conn_id id = make_conn_id(ctx.core, c);
  using kind = thread_completion::kind;
  if ((ev & tcp::event::kConnected) != 0) (void)link.complete({kind::connected, id, x.tag});
  const bool closing = (ev & tcp::event::kClosed) != 0;
  if (delivers_data(c, ev)) {
    // The last data before a close may use the reserve; otherwise only
    // hand data over while there is room, and pause reading until there is.
    if (closing || link.has_room()) {
      if (rte_mbuf* m = ctx.tcp->recv(c.tcb_ref(), ctx.now); m != nullptr) {
        if (!link.complete({kind::data, id, x.tag, m})) rte_pktmbuf_free(m);
      }
    } else {
      ctx.tcp->set_reading(c.tcb_ref(), false);
      stalled.push_back(c);
    }
  }
  if ((ev & tcp::event::kPeerFin) != 0) (void)link.complete({kind::peer_fin, id, x.tag});
  // Only after a send_refused (the thread waits for it), once.
  if ((ev & tcp::event::kWritable) != 0 && ctx.wants_writable(c)) {
    if (link.complete({kind::writable, id, x.tag})) ctx.writable_delivered(c);
  }
  if (closing) {
    (void)link.complete({kind::closed, id, x.tag, nullptr, c.why_closed()});
    c.set_user(nullptr);
    x = external_conn{};
    ctx.tcp->release(c.tcb_ref(), ctx.now);
  }
}

// A request's connection, if the id still names it and a thread owns it.
inline tcp::handle external_handle(core_context& ctx, std::vector<external_conn>& ext,
                                   conn_id id) noexcept {
  const tcp::handle c(ctx.tcp != nullptr ? ctx.tcp->at(slot_of(id)) : nullptr);
  if (!c.still_held(generation_of(id))) return {};
  return external_of(ext, c) != nullptr ? c : tcp::handle{};
}

template <class H>
void serve_links(app_core<H>& ac) noexcept {
  core_context& ctx = ac.ctx;
  // Connections stalled on a full completion queue read again once it drained.
  for (std::size_t i = 0; i < ac.stalled.size();) {
    const tcp::handle c = ac.stalled[i];
    external_conn* x = external_of(ac.external, c);
    if (x == nullptr || !c.in_use()) {
      ac.stalled[i] = ac.stalled.back();
      ac.stalled.pop_back();
    } else if (x->link->has_room()) {
      ctx.tcp->set_reading(c.tcb_ref(), true);
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
        const tcp::handle c(ctx.tcp != nullptr ? ctx.tcp->connect(r.ip, r.port, ctx.now)
                                               : nullptr);
        if (!c) {
          (void)link->complete({thread_completion::kind::connect_failed, 0, r.tag});
          continue;
        }
        ac.external[c.slot()] = external_conn{link, r.tag};
        c.set_user(&ac.external[c.slot()]);
        continue;
      }
      const tcp::handle c = external_handle(ctx, ac.external, r.id);
      if (!c) {
        rte_pktmbuf_free(r.data);  // the connection is gone: the data with it
        continue;
      }
      switch (r.what) {
        case op::send:
          if (!ctx.tcp->send(c.tcb_ref(), r.data, ctx.now)) {
            ctx.want_writable(c);
            (void)link->complete({thread_completion::kind::send_refused, r.id,
                                  ac.external[c.slot()].tag, r.data});
          }
          break;
        case op::shutdown: ctx.tcp->shutdown(c.tcb_ref(), ctx.now); break;
        case op::close: {
          // thread_link.hh promises {closed}: the id dies here, while the
          // close handshake and TIME_WAIT go on without the thread.
          const std::uint64_t tag = ac.external[c.slot()].tag;
          c.set_user(nullptr);
          ac.external[c.slot()] = external_conn{};
          ctx.tcp->release(c.tcb_ref(), ctx.now);
          (void)link->complete({thread_completion::kind::closed, r.id, tag, nullptr,
                                tcp::close_reason::normal});
          break;
        }
        case op::abort: ctx.tcp->abort(c.tcb_ref(), ctx.now); break;
        case op::connect: break;
      }
    }
  }
}

template <class H>
void dispatch(app_core<H>& ac, tcp::handle c, std::uint8_t ev) {
  if (external_conn* x = external_of(ac.external, c); x != nullptr) {
    return dispatch_external(ac.ctx, ac.stalled, *x, c, ev);
  }
  H& h = *ac.handler;
  core_context& ctx = ac.ctx;
  connection conn(&ctx, c);
  // Space freed after a refused or short send (connection.hh); decided
  // before the callbacks, whose own refusals wait for a later ACK.
  const bool writable = (ev & tcp::event::kWritable) != 0 && ctx.wants_writable(c);
  if ((ev & tcp::event::kConnected) != 0) {
    if (c.accepted()) {
      if constexpr (requires { h.on_accept(conn); }) h.on_accept(conn);
    } else {
      if constexpr (requires { h.on_connected(conn); }) h.on_connected(conn);
    }
  }
  // Data first, then the FIN that follows it, then the close.
  if (delivers_data(c, ev) && conn.valid()) {
    if (rte_mbuf* m = ctx.tcp->recv(c.tcb_ref(), ctx.now); m != nullptr) {
      rx_data d(m);
      if constexpr (requires { h.on_data(conn, d); }) h.on_data(conn, d);
      if (rte_mbuf* rest = d.put_back(); rest != nullptr) {
        if (conn.valid()) {
          ctx.tcp->unrecv(c.tcb_ref(), rest);
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
    const std::uint64_t n = c.take_acked_bytes();
    if constexpr (requires { h.on_acked(conn, n); }) h.on_acked(conn, n);
  }
  if (writable && conn.valid()) {
    ctx.writable_delivered(c);
    if constexpr (requires { h.on_writable(conn); }) h.on_writable(conn);
  }
  if ((ev & tcp::event::kClosed) != 0 && conn.valid()) {
    const close_reason why = c.why_closed();
    if constexpr (requires { h.on_closed(conn, why); }) h.on_closed(conn, why);
    if (conn.valid()) {
      ctx.release_user(c);  // after on_closed, which may still read it
      ctx.tcp->release(c.tcb_ref(), ctx.now);
    }
  }
}

template <class H>
void poll_hook(core::engine& e, base::instant now, void* ctx) {
  auto& cores = *static_cast<std::vector<app_core<H>>*>(ctx);
  app_core<H>& ac = cores[e.config().core];
  ac.ctx.now = now;
  if constexpr (requires { ac.handler->on_poll(ac.ctx); }) ac.handler->on_poll(ac.ctx);
  if (!ac.links.empty()) serve_links(ac);
  if (ac.ctx.tcp == nullptr) return;  // tcp_on = false: no connections
  ac.ctx.tcp->poll_events([&ac](tcp::handle c, std::uint8_t ev) { dispatch(ac, c, ev); });
}

// The stack has stopped: the user data of every connection a handler still
// holds is freed (set_user's deleter), once. Thread-owned connections have
// none. The TCBs themselves go with the engines.
template <class H>
void release_user_data(std::vector<app_core<H>>& cores) noexcept {
  for (app_core<H>& ac : cores) {
    if (ac.ctx.tcp == nullptr) continue;
    for (std::uint32_t i = 0; i < ac.conns.size(); ++i) {
      const tcp::handle c(ac.ctx.tcp->at(i));
      if (!c || !c.held_by_app()) continue;
      if (external_of(ac.external, c) == nullptr) ac.ctx.release_user(c);
    }
  }
}

template <class H>
void attach_links(app_core<H>& ac, thread_links& links, unsigned core, std::uint32_t max_conns) {
  for (unsigned t = 0; t < links.threads(); ++t) ac.links.push_back(&links.at(t, core));
  ac.external.assign(max_conns, external_conn{});
  ac.stalled.reserve(max_conns);
}

}  // namespace detail

// run_app's configuration: `config` with TCP on unless the application
// set tcp_on (false: no TCP, e.g. a handler that only uses on_poll).
inline stack_config with_app_defaults(const stack_config& config) {
  stack_config c = config;
  if (!c.tcp_on.has_value()) c.tcp_on = true;
  return c;
}

// Starts the stack (EAL, port, one engine per lcore), makes one handler per
// core with make(core_context&) -> Handler, and runs until SIGINT/SIGTERM
// or request_stop() (stack.hh); the handlers live until it returns.
// Returns the process exit code. Start-up errors throw base::startup_error.
template <class Handler, class Factory>
int run_app(const std::vector<std::string>& eal_args, const stack_config& config,
            Factory&& make, thread_links* links = nullptr) {
  stack s(eal_args, with_app_defaults(config));
  std::vector<detail::app_core<Handler>> cores(s.cores());
  for (unsigned i = 0; i < s.cores(); ++i) {
    core::engine& e = s.engine_of(i);
    detail::init_core(cores[i], e, e.config().pool, static_cast<std::uint16_t>(i),
                      config.app_timers_per_core);
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
  detail::release_user_data(cores);
  return rc;
}

}  // namespace kbt::api
