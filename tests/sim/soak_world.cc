// A soak world run: the application on both engines, the invariants after
// every poll, and the outcome table at the end (soak_world.hh).
//
// lib/ bugs the soak found, each fixed with a unit test that names it:
//  1. shutdown() in SYN_SENT deleted the connection with the data send()
//     had taken, and on_closed said normal
//     (SynSent.ShutdownInSynSentSendsQueuedDataAndFinOnceEstablished).
//  2. on_closed came while reading was paused and what the stack held was
//     freed undelivered (api::detail::dispatch now delivers it first).
//  3. A connection handed back with close() while the peer still sent took
//     data nobody read; once its window shut the peer probed for ever
//     (FinWait2.DataAfterReleaseGetsRstAndTheTcbIsFreed: RFC 1122 §4.2.2.13).
//  4. Segments cut at seven send-buffer mbufs were held back by SWS
//     avoidance as window-limited runts: small zero-copy sends stalled
//     until the RTO (Data.SegmentCutAtThePieceLimitIsSentAtOnce).
//  5. Keepalive ran while data was outstanding and timed a live connection
//     out during an RTO backoff (Keepalive.NoProbesWhileDataIsOutstanding).
//  6. An RTO retransmission was a full MSS whatever the peer's window, so
//     SND.MAX passed its right edge and every later ACK was unacceptable to
//     it (Data.RtoRetransmissionStaysInsideThePeersWindow,
//     Data.AckIsNumberedAtTheRightEdgeOfAShrunkWindow).
#include "soak_world.hh"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "api/app.hh"
#include "frame_view.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp_peer.hh"

namespace kbt::sim {
namespace {

using finish = end_plan::finish;
using reader = end_plan::reader;
using tcp::close_reason;

constexpr unsigned kPoolSize = 8191;  // per side: eight paused 256 KB windows fit
constexpr std::uint32_t kMaxConns = 24;

// One end of a connection as its application sees it.
struct end_state {
  const end_plan* plan = nullptr;
  std::size_t conn = 0;
  bool client = false;
  side where = side::a;
  std::uint64_t tx_seed = 0, rx_seed = 0;
  std::uint64_t expect = 0;  // the peer's send_bytes: never more than that arrives
  api::connection handle;
  bool opened = false;  // connect() called, or accepted
  std::uint64_t opened_ns = 0;
  std::uint64_t sent = 0, received = 0, acked = 0;
  bool connected = false, peer_fin = false, shut = false, acted = false;
  bool closed = false;    // on_closed came
  bool released = false;  // close() handed it back
  close_reason reason = close_reason::normal;
  tcp::tcp_state state_at_release = tcp::tcp_state::closed;
  std::uint64_t sent_at_release = 0;
  std::uint64_t received_at_release = 0;
  std::uint64_t unread_at_close = 0;  // held by the stack, never delivered
  bool paused = false, pause_done = false;
  std::uint64_t resume_at_ns = 0;
  std::string error;

  bool finished() const noexcept { return closed || released; }
};

class soak_run;

// The per-side handler of api/app.hh.
struct soak_app {
  soak_run* run;
  side where;
  void on_accept(api::connection c);
  void on_connected(api::connection c);
  void on_data(api::connection c, api::rx_data& d);
  void on_peer_fin(api::connection c);
  void on_acked(api::connection c, std::uint64_t n);
  void on_writable(api::connection c);
  void on_closed(api::connection c, api::close_reason why);
  void on_poll(api::core_context& ctx);
};

class soak_run {
 public:
  soak_run(sim_world& w, const world_plan& plan);
  ~soak_run();
  soak_run(const soak_run&) = delete;
  soak_run& operator=(const soak_run&) = delete;

  bool failed() const noexcept { return !_failure.empty(); }
  const std::string& failure() const noexcept { return _failure; }
  bool all_done() noexcept;
  std::string check_outcomes() const;
  std::string describe();
  void collect(soak_stats& s) const;
  core::engine& engine(side s) noexcept { return *_engines[index(s)]; }

  // soak_app's
  end_state* end_of(api::connection c, const char* where);
  void accept(side s, api::connection c);
  void poll_app(side s, api::core_context& ctx);
  void pump(end_state& e);
  void act(end_state& e);
  void release(end_state& e);
  void fail(const std::string& why) {
    if (_failure.empty()) _failure = why;
  }
  std::uint64_t now() const noexcept { return _world.now_ns(); }

 private:
  static std::size_t index(side s) noexcept { return static_cast<std::size_t>(s); }
  void check_layer(side s);
  std::string describe_layer(side s);

  sim_world& _world;
  const world_plan& _plan;
  std::vector<end_state> _ends;  // 2 per connection: client, server
  std::array<core::core_counters, 2> _counters;
  std::array<std::unique_ptr<core::engine>, 2> _engines;
  std::array<std::vector<api::detail::app_core<soak_app>>, 2> _cores;
  std::uint32_t _states_seen = 0;
  std::string _failure;
};

soak_run::soak_run(sim_world& w, const world_plan& plan) : _world(w), _plan(plan) {
  for (std::size_t i = 0; i < plan.conns.size(); ++i) {
    const conn_plan& c = plan.conns[i];
    for (int k = 0; k < 2; ++k) {
      end_state e;
      e.plan = &c.ends[k];
      e.conn = i;
      e.client = k == 0;
      e.where = (k == 0) == c.client_is_a ? side::a : side::b;
      e.tx_seed = c.stream_seed[k];
      e.rx_seed = c.stream_seed[1 - k];
      e.expect = c.ends[1 - k].send_bytes;
      _ends.push_back(e);
    }
  }
  for (side s : {side::a, side::b}) {
    const std::size_t i = index(s);
    core::engine_config ec =
        w.endpoint_config(s, s == side::a ? kMacA : kMacB, s == side::a ? kIpA : kIpB);
    ec.tcp = true;
    ec.tcp_layer.tcp = plan.tcp[i];
    ec.tcp_layer.tcp.cc = plan.cc[i];
    ec.tcp_layer.max_conns = kMaxConns;
    const std::uint64_t k = w.endpoint_seed(s);
    for (std::size_t j = 0; j < ec.tcp_layer.isn_key.size(); ++j) {
      ec.tcp_layer.isn_key[j] = static_cast<std::uint8_t>((k >> ((j % 8) * 8)) + j);
      ec.tcp_layer.cookie_key[j] = static_cast<std::uint8_t>((k >> ((j % 8) * 8)) + 3 * j + 1);
    }
    _engines[i] = std::make_unique<core::engine>(ec, _counters[i]);
    _cores[i].resize(1);
    api::detail::init_core(_cores[i][0], *_engines[i], w.pool(s), 0);
    _cores[i][0].handler = std::make_unique<soak_app>(soak_app{this, s});
    w.set_poll(s, [this, s](std::uint64_t now_ns) {
      const base::instant now = base::instant_from_ns(now_ns);
      core::engine& e = engine(s);
      e.poll(now);
      api::detail::poll_hook<soak_app>(e, now, &_cores[index(s)]);
      e.flush_all();
      check_layer(s);
    });
  }
  for (std::size_t i = 0; i < plan.conns.size(); ++i) {
    const conn_plan& c = plan.conns[i];
    _engines[index(c.client_is_a ? side::b : side::a)]->tcp()->listen(c.port);
  }
}

soak_run::~soak_run() {
  _world.set_poll(side::a, nullptr);
  _world.set_poll(side::b, nullptr);
}

// After every poll: each TCB in one of the eleven states, and the state
// gauges (what telemetry shows) agreeing with the TCBs and TIME_WAIT records.
void soak_run::check_layer(side s) {
  tcp::tcp_layer& l = *engine(s).tcp();
  std::array<std::uint64_t, tcp::kStateCount> count{};
  std::size_t live = 0;
  for (std::uint32_t i = 0; i < l.config().max_conns; ++i) {
    const tcp::tcb* c = l.at(i);
    if (c == nullptr || !c->in_use()) continue;
    ++live;
    const auto st = static_cast<std::size_t>(c->state);
    if (st >= tcp::kStateCount) {
      fail("TCB " + std::to_string(i) + " on " + (s == side::a ? "A" : "B") + " in state " +
           std::to_string(st) + ", not one of the eleven");
      return;
    }
    ++count[st];
    _states_seen |= 1U << st;
    // RFC 9293 §3.3.1: SND.UNA <= SND.NXT, and nothing acknowledged or
    // about to be sent lies past what was ever sent.
    if (c->state != tcp::tcp_state::closed &&
        !(c->snd_una <= c->snd_nxt && c->snd_nxt <= c->snd_max)) {
      fail("TCB " + std::to_string(i) + " on " + (s == side::a ? "A" : "B") + " in " +
           std::string(tcp::to_string(c->state)) + ": una=" + std::to_string(c->snd_una.value) +
           " nxt=" + std::to_string(c->snd_nxt.value) + " max=" +
           std::to_string(c->snd_max.value) + " out of order at " +
           std::to_string((now() - _world.config().start_ns) / 1000) + " us");
      return;
    }
  }
  constexpr auto kTimeWait = static_cast<std::size_t>(tcp::tcp_state::time_wait);
  count[kTimeWait] += l.time_wait().size();
  if (l.time_wait().size() != 0) _states_seen |= 1U << kTimeWait;
  if (live != l.connections()) {
    fail("layer counts " + std::to_string(l.connections()) + " connections, " +
         std::to_string(live) + " TCBs in use");
  }
  for (std::size_t st = 0; st < tcp::kStateCount; ++st) {
    if (l.counters().states[st].get() != count[st]) {
      fail(std::string("state gauge ") + std::string(tcp::to_string(static_cast<tcp::tcp_state>(st))) +
           " on " + (s == side::a ? "A" : "B") + " says " +
           std::to_string(l.counters().states[st].get()) + ", the TCBs say " +
           std::to_string(count[st]));
      return;
    }
  }
}

end_state* soak_run::end_of(api::connection c, const char* where) {
  auto* e = static_cast<end_state*>(c.user());
  if (e == nullptr) fail(std::string(where) + " for a connection the application never took");
  return e;
}

void soak_run::accept(side s, api::connection c) {
  const std::uint16_t port = c.tuple().local_port;
  for (end_state& e : _ends) {
    if (e.client || e.where != s || _plan.conns[e.conn].port != port) continue;
    if (e.opened) {
      fail("conn " + std::to_string(e.conn) + " accepted twice");
      return;
    }
    e.opened = true;
    e.connected = true;
    e.opened_ns = now();
    e.handle = c;
    c.set_user(&e);
    c.set_nodelay(e.plan->nodelay);
    c.set_keepalive(true);
    return;
  }
  fail("accepted a connection on port " + std::to_string(port) + " that no plan has");
}

void soak_run::act(end_state& e) {
  e.acted = true;
  if (e.plan->how == finish::abort) {
    e.handle.abort();  // on_closed(aborted) follows
    return;
  }
  e.sent_at_release = e.sent;
  release(e);
}

void soak_run::release(end_state& e) {
  e.state_at_release = e.handle.state();
  e.received_at_release = e.received;
  e.released = true;
  e.handle.close();
  e.handle = {};
}

void soak_run::pump(end_state& e) {
  const end_plan& p = *e.plan;
  if (!e.handle.valid() || e.acted || e.shut) return;
  if (p.send_after_peer_fin && !e.peer_fin) return;
  std::array<std::byte, 65536> copy;
  while (e.sent < p.send_bytes) {
    if (p.how != finish::normal && e.sent >= p.act_after_sent) return act(e);
    const std::uint64_t want = std::min<std::uint64_t>(p.chunk, p.send_bytes - e.sent);
    const std::uint64_t n = std::min<std::uint64_t>(want, e.handle.send_space());
    if (n == 0) break;
    if (p.zero_copy) {
      api::tx_buffer b = e.handle.alloc_tx(n);
      if (!b) break;
      for (std::uint64_t i = 0; i < n; ++i) {
        b.data()[i] = static_cast<std::byte>(pattern_byte(e.tx_seed, e.sent + i));
      }
      if (e.handle.send(b) == 0) break;
      e.sent += n;
    } else {
      for (std::uint64_t i = 0; i < n; ++i) {
        copy[i] = static_cast<std::byte>(pattern_byte(e.tx_seed, e.sent + i));
      }
      const std::size_t took = e.handle.send_copy(std::span(copy.data(), n));
      e.sent += took;
      if (took < n) break;
    }
  }
  if (p.how != finish::normal && e.sent >= p.act_after_sent) return act(e);
  if (p.how == finish::normal && e.sent == p.send_bytes) {
    e.shut = true;
    e.handle.shutdown();
  }
}

void soak_run::poll_app(side s, api::core_context& ctx) {
  const std::uint64_t t = base::ns_since_start(ctx.now);
  const std::uint64_t start = _world.config().start_ns;
  for (end_state& e : _ends) {
    if (e.where != s || e.finished()) continue;
    const end_plan& p = *e.plan;
    if (e.client && !e.opened) {
      const conn_plan& c = _plan.conns[e.conn];
      if (t < start + c.start_ns) continue;
      e.opened = true;
      e.opened_ns = t;
      e.handle = api::connect(ctx, s == side::a ? kIpB : kIpA, c.port, &e);
      if (!e.handle.valid()) {
        fail("connect for conn " + std::to_string(e.conn) + " failed");
        return;
      }
      e.handle.set_nodelay(p.nodelay);
    }
    if (!e.opened || !e.handle.valid() || e.acted) continue;
    if (p.how != finish::normal && !e.acted && t - e.opened_ns >= p.act_after_ns) {
      act(e);
      continue;
    }
    if (p.read == reader::pause_once && !e.pause_done && !e.paused &&
        t - e.opened_ns >= p.pause_after_ns) {
      e.paused = true;
      e.resume_at_ns = t + p.pause_for_ns;
      e.handle.pause_reading();
    }
    if (e.paused && t >= e.resume_at_ns) {
      e.paused = false;
      e.pause_done = p.read == reader::pause_once;
      e.handle.resume_reading();
    }
    pump(e);
  }
}

void soak_app::on_accept(api::connection c) { run->accept(where, c); }

void soak_app::on_connected(api::connection c) {
  end_state* e = run->end_of(c, "on_connected");
  if (e == nullptr) return;
  e->connected = true;
  c.set_keepalive(true);
  run->pump(*e);
}

void soak_app::on_data(api::connection c, api::rx_data& d) {
  end_state* e = run->end_of(c, "on_data");
  if (e == nullptr) return;
  for (std::span<const std::byte> s : d) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (e->error.empty() &&
          static_cast<std::uint8_t>(s[i]) != pattern_byte(e->rx_seed, e->received + i)) {
        e->error = "wrong byte at offset " + std::to_string(e->received + i);
      }
    }
    e->received += s.size();
  }
  if (e->received > e->expect && e->error.empty()) {
    e->error = "received " + std::to_string(e->received) + " bytes of " +
               std::to_string(e->expect) + " sent";
  }
  const end_plan& p = *e->plan;
  if (p.how != finish::normal && !e->acted && e->received >= p.act_after_received) {
    run->act(*e);  // from inside the callback: the stack must cope
    return;
  }
  const std::uint64_t t = run->now();
  if (p.read == reader::slow) {
    e->paused = true;
    e->resume_at_ns = t + p.slow_interval_ns;
    c.pause_reading();
  } else if (p.read == reader::pause_once && !e->pause_done && !e->paused &&
             e->received >= p.pause_at_received) {
    e->paused = true;
    e->resume_at_ns = t + p.pause_for_ns;
    c.pause_reading();
  }
}

void soak_app::on_peer_fin(api::connection c) {
  if (end_state* e = run->end_of(c, "on_peer_fin"); e != nullptr) {
    e->peer_fin = true;
    run->pump(*e);
  }
}

void soak_app::on_acked(api::connection c, std::uint64_t n) {
  if (end_state* e = run->end_of(c, "on_acked"); e != nullptr) e->acked += n;
}

void soak_app::on_writable(api::connection c) {
  if (end_state* e = run->end_of(c, "on_writable"); e != nullptr) run->pump(*e);
}

void soak_app::on_closed(api::connection c, api::close_reason why) {
  end_state* e = run->end_of(c, "on_closed");
  if (e == nullptr) return;
  e->closed = true;
  e->reason = why;
  e->unread_at_close = c.unread_bytes();
  e->handle = {};
}

void soak_app::on_poll(api::core_context& ctx) { run->poll_app(where, ctx); }

bool soak_run::all_done() noexcept {
  if (failed()) return true;
  for (const end_state& e : _ends) {
    if (e.client && !e.opened) return false;
    if (e.opened && !e.finished()) return false;
  }
  // A packet held for ARP resolution is an mbuf out of its pool too: the
  // end is when ARP sent or dropped it.
  for (auto& e : _engines) {
    if (e->tcp()->connections() != 0 || e->tcp()->time_wait().size() != 0 ||
        e->neighbours().queued_packets() != 0) {
      return false;
    }
  }
  return true;
}

// What each end may have ended as, given both plans. An end that aborts or
// closes never sends a FIN before it does, so its peer can never close
// normally; a RST is the only news it can get, and if every RST is lost,
// the retransmission or keepalive timeout.
std::string check_end(const end_state& e, const end_state& peer) {
  const end_plan& p = *e.plan;
  const bool peer_aborts = peer.plan->how == finish::abort;
  auto say = [&](const std::string& what) {
    return std::string(e.client ? "client" : "server") + " of conn " + std::to_string(e.conn) +
           ": " + what;
  };
  if (!e.error.empty()) return say(e.error);
  if (e.sent > p.send_bytes || e.acked > e.sent) {
    return say("sent " + std::to_string(e.sent) + " acked " + std::to_string(e.acked));
  }
  if (!e.opened) {
    // Only a server, and only when its client gave up before the handshake
    // reached it.
    if (peer.plan->how != finish::normal && peer.acted) return {};
    return say("never accepted, though the client went on to " +
               std::string(peer.closed ? tcp::to_string(peer.reason) : "release"));
  }
  if (!e.finished()) return say("not finished");
  if (e.released) return {};
  const close_reason r = e.reason;
  // The peer let go of the connection before all we sent had reached its
  // application: its RST says the data was lost (RFC 1122 §4.2.2.13), or,
  // with every RST lost, our retransmissions time out.
  const bool peer_lost_data =
      peer.plan->how == finish::close && peer.released && e.sent > peer.received_at_release;
  if (p.how == finish::abort && e.acted) {
    // Our own RST, unless the peer's came first in the same poll.
    if (r == close_reason::aborted || ((peer_aborts || peer_lost_data) && r == close_reason::reset)) {
      return {};
    }
    return say(std::string("aborted, but told ") + std::string(tcp::to_string(r)));
  }
  if (peer_lost_data && (r == close_reason::reset || r == close_reason::timeout)) return {};
  if (p.how != finish::normal || peer_aborts) {
    // Closed before acting, or the peer aborted: only its RST (or silence).
    if (peer_aborts && (r == close_reason::reset || r == close_reason::timeout)) return {};
    return say(std::string("ended ") + std::string(tcp::to_string(r)) + " though nobody aborted it");
  }
  // A normal end whose peer ended normally or closed: the whole exchange.
  if (r != close_reason::normal) return say(std::string("ended ") + std::string(tcp::to_string(r)));
  const std::uint64_t want = peer.released ? peer.sent_at_release : peer.plan->send_bytes;
  if (peer.plan->how == finish::close && !peer.released) return say("peer never closed");
  if (e.received != want) {
    return say("received " + std::to_string(e.received) + " of " + std::to_string(want) +
               (e.unread_at_close != 0 ? "; " + std::to_string(e.unread_at_close) +
                                             " more held by the stack at on_closed, undelivered"
                                       : std::string()));
  }
  if (e.sent != p.send_bytes || e.acked != p.send_bytes) {
    return say("sent " + std::to_string(e.sent) + " acked " + std::to_string(e.acked) + " of " +
               std::to_string(p.send_bytes));
  }
  return {};
}

std::string soak_run::check_outcomes() const {
  std::string out;
  for (std::size_t i = 0; i + 1 < _ends.size(); i += 2) {
    for (int k = 0; k < 2; ++k) {
      const std::string why =
          check_end(_ends[i + k], _ends[i + 1 - k]);
      if (!why.empty()) out += why + "\n";
    }
  }
  return out;
}

std::string soak_run::describe_layer(side s) {
  tcp::tcp_layer& l = *engine(s).tcp();
  std::string out;
  for (std::uint32_t i = 0; i < l.config().max_conns; ++i) {
    tcp::tcb* c = l.at(i);
    if (c == nullptr || !c->in_use()) continue;
    auto u = [](auto v) { return std::to_string(v); };
    out += std::string("  ") + (s == side::a ? "A" : "B") + " tcb " + u(i) + " " +
           u(c->tuple.local_port) + "->" + u(c->tuple.remote_port) + " " +
           std::string(tcp::to_string(c->state)) + " app=" + u(c->app_holds()) +
           " una=" + u(c->snd_una.value) + " nxt=" + u(c->snd_nxt.value) +
           " max=" + u(c->snd_max.value) + " wnd=" + u(c->snd_wnd) +
           " held=" + u(c->snd.bytes()) + " fin_queued=" + u(c->fin_queued) +
           " rcv_nxt=" + u(c->rcv_nxt.value) + " rcv_adv=" + u(c->rcv_adv.value) +
           " rx=" + u(c->rx_bytes) + " ooo=" + u(c->out_of_order.bytes()) + " paused=" + u(c->rx_paused) +
           " retries=" + u(c->retries) + " rto_armed=" + u(c->rto_timer().armed()) +
           " persist_armed=" + u(c->persist_timer().armed()) +
           " keepalive_armed=" + u(c->idle_timer().armed()) + "\n";
  }
  out += std::string("  ") + (s == side::a ? "A" : "B") + " TIME_WAIT records " +
         std::to_string(l.time_wait().size()) + ", no_mbuf " +
         std::to_string(l.counters().no_mbuf.get()) + ", tx_dropped " +
         std::to_string(l.counters().tx_dropped.get()) + ", retransmits " +
         std::to_string(l.counters().retransmits.get()) + ", timeouts " +
         std::to_string(l.counters().timeouts.get()) + "\n";
  return out;
}

std::string soak_run::describe() {
  std::string out;
  for (const end_state& e : _ends) {
    char line[400];
    std::snprintf(line, sizeof line,
                  "  conn %zu %s on %c: opened=%d connected=%d sent=%llu received=%llu/%llu "
                  "acked=%llu peer_fin=%d shut=%d acted=%d closed=%d(%s) released=%d(in %s, "
                  "sent %llu) paused=%d\n",
                  e.conn, e.client ? "client" : "server", e.where == side::a ? 'A' : 'B',
                  e.opened, e.connected, static_cast<unsigned long long>(e.sent),
                  static_cast<unsigned long long>(e.received),
                  static_cast<unsigned long long>(e.expect),
                  static_cast<unsigned long long>(e.acked), e.peer_fin, e.shut, e.acted, e.closed,
                  e.closed ? tcp::to_string(e.reason).data() : "-", e.released,
                  std::string(tcp::to_string(e.state_at_release)).c_str(),
                  static_cast<unsigned long long>(e.sent_at_release), e.paused);
    out += line;
  }
  out += describe_layer(side::a) + describe_layer(side::b);
  return out;
}

void soak_run::collect(soak_stats& s) const {
  s.connections += _plan.conns.size();
  s.states_seen |= _states_seen;
  for (const end_state& e : _ends) {
    s.bytes += e.received;
    if (e.released) ++s.released;
    if (!e.client && !e.opened) ++s.never_accepted;
    if (!e.closed) continue;
    switch (e.reason) {
      case close_reason::normal: ++s.normal; break;
      case close_reason::reset: ++s.reset; break;
      case close_reason::timeout: ++s.timeout; break;
      case close_reason::refused: ++s.refused; break;
      case close_reason::aborted: ++s.aborted; break;
    }
  }
}

}  // namespace

soak_outcome run_soak_world(std::uint64_t seed, const soak_options& options) {
  const world_plan plan = draw_plan(seed);
  soak_outcome out;
  out.stats.worlds = 1;
  world_config wc;
  wc.seed = seed;
  wc.a_to_b = plan.link[0];
  wc.b_to_a = plan.link[1];
  wc.granularity_ns = plan.granularity_ns;
  wc.pool_size = kPoolSize;
  wc.ring_size = 2048;
  try {
    sim_world w(wc);
    const unsigned base = w.mbufs_in_use();
    std::string& f = out.failure;
    {
      soak_run run(w, plan);
    // KBT_SOAK_TRACE=1 on a replay prints every TCP segment as it arrives.
    if (const char* t = std::getenv("KBT_SOAK_TRACE"); t != nullptr && *t != '\0') {
      w.set_observer([&w, start = wc.start_ns](side to, const rte_mbuf* m) {
        const auto seg = tcp_of(m);
        if (!seg) return;
        std::printf("%.6f ->%c %u->%u flags=%02x seq=%u ack=%u len=%u wnd=%u\n",
                    static_cast<double>(w.now_ns() - start) / 1e9, to == side::a ? 'A' : 'B',
                    seg->src_port, seg->dst_port, seg->flags, seg->seq.value, seg->ack.value,
                    seg->payload_len, seg->window);
      });
    }
      const run_result r =
          w.run_until([&] { return run.all_done(); }, options.virtual_ns, options.steps);
      if (run.failed()) {
        f = run.failure();
      } else if (!r.done) {
        f = "not finished after " + std::to_string(r.steps) + " steps, " +
            std::to_string((r.now_ns - wc.start_ns) / kMs) + " ms virtual";
      } else {
        f = run.check_outcomes();
      }
      out.stats.steps = w.steps();
      out.stats.virtual_s = static_cast<double>(w.now_ns() - wc.start_ns) / 1e9;
      if (f.empty()) {
        // What is still on the wire (a duplicate, a last RST) lands on empty
        // layers; then every mbuf must be home.
        if (!w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done) {
          f = "frames still in flight 10 s after the end";
        } else if (w.mbufs_in_use() != base) {
          f = std::to_string(w.mbufs_in_use() - base) +
              " mbufs not back in their pools after every connection closed";
        }
      }
      if (!f.empty()) f += "\n" + run.describe() + plan.describe();
      run.collect(out.stats);
    }
    if (w.mbufs_in_use() != base) {
      out.leaked = true;
      if (f.empty()) f = "mbufs not back once the engines were gone\n" + plan.describe();
    }
    for (side s : {side::a, side::b}) {
      const link_counters& c = w.link_from(s).counters();
      out.stats.frames += c.sent;
      out.stats.lost += c.lost;
      out.stats.duplicated += c.duplicated;
      out.stats.reordered += c.reordered;
      out.stats.corrupted += c.corrupted;
      out.stats.queue_dropped += c.queue_dropped;
    }
  } catch (const std::exception& e) {
    out.failure = std::string("exception: ") + e.what();
  }
  return out;
}

}  // namespace kbt::sim
