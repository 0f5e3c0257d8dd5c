#include "tcp/tcp_layer.hh"

#include <rte_errno.h>
#include <rte_jhash.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "base/startup_error.hh"

namespace kbt::tcp {

void install_timer_callbacks(tcb& c) noexcept;  // timers.cc

namespace {

// rte_hash names are global to the process: one per layer.
std::string table_name(std::uint32_t id, const void* layer) {
  return "kbt_tcp_" + std::to_string(id) + "_" +
         std::to_string(reinterpret_cast<std::uintptr_t>(layer));
}

}  // namespace

tcp_layer::tcp_layer(const tcp_layer_config& config, tx_flush_fn flush_fn, void* flush_ctx)
    : _config(resolve_memory(config)),
      _out(flush_fn, flush_ctx),
      _isn(config.isn_key),
      _wheel(base::timer_wheel_config{.tick = base::nanos{kMs}, .levels = 6, .start = config.start},
             this),
      _builder(config.pool, config.tx_cksum_offload),
      _control(_builder, _out, _counters),
      _listener(_config.tcp, config.cookie_key, _isn, _ts, _control, _counters),
      _ports(config.rss, config.core, config.port_first, config.port_last, config.sources,
             config.local_ip),
      _snd_mem(_config.tcp.core_snd_mbufs, _config.tcp.snd_mbufs, _config.tcp.guaranteed_mbufs),
      _rcv_mem(_config.tcp.core_rcv_mbufs, _config.tcp.rcv_mbufs, _config.tcp.guaranteed_mbufs),
      _challenge_budget(config.isn_key, config.cookie_key, config.core,
                        config.tcp.challenge_ack_limit),
      _demux(table_name(config.id, this), config.max_conns, _config.tcp, _control, _ts, _ports,
             _listener, _counters, _config.local_ip),
      _cx{.tcp = _config.tcp,
          .pool = _config.pool,
          .counters = _counters,
          .out = _out,
          .builder = _builder,
          .ts = _ts,
          .wheel = _wheel,
          .snd_mem = _snd_mem,
          .rcv_mem = _rcv_mem,
          .events = _events,
          .syn_queues = _listener.syn_queues(),
          .challenges = _challenge_budget,
          .blocked = _blocked,
          .deferred = _deferred,
          .syn_waiting = _syn_waiting} {
  connection_table& table = _demux.connections();
  for (std::uint32_t i = 0; i < table.capacity(); ++i) install_timer_callbacks(*table.at(i));
}

tcp_layer::~tcp_layer() {
  connection_table& table = _demux.connections();
  for (std::uint32_t i = 0; i < table.capacity(); ++i) {
    tcb* c = table.at(i);
    if (c->in_use()) {
      conn(*c).cancel_timers();
      c->snd.clear();
      c->out_of_order.clear();
      rte_pktmbuf_free(c->rx_head);
      c->rx_head = c->rx_tail = nullptr;
    }
  }
}

// Under a SYN flood the pool can fill with SYN_RCVD entries whose peers
// never answer. An entry whose ISS is a cookie is expendable: its own peer's
// ACK still validates as a cookie (listener.cc). So rather than refuse a
// real client's connection, one such entry goes, found from a rotating
// cursor so that no slot is favoured; the scan is short because under a
// flood most of the pool is such entries.
bool tcp_layer::evict_embryonic() noexcept {
  connection_table& table = _demux.connections();
  for (std::size_t i = 0; i < table.capacity(); ++i) {
    tcb& c = table.next_in_rotation();
    if (c.in_use() && c.state == tcp_state::syn_rcvd && c.passive() && c.iss_is_cookie() &&
        !c.app_holds() && !c.on_event_list) {
      to_closed(c);
      _counters.syn_rcvd_evicted.add();
      return true;
    }
  }
  return false;
}

// With no SYN-queue entry to spare, a connection the application has let go
// of (closing without it: FIN_WAIT_1/2, CLOSING, LAST_ACK) makes room for a
// new one, as Linux kills orphans when they cost too much
// (tcp_out_of_resources): the peer of an idle connection closed by a
// timeout may never answer our FIN, and 60 s of FIN_WAIT_2 for each would
// lock new clients out. A RST tells the peer, if it is still there.
bool tcp_layer::evict_orphan() noexcept {
  connection_table& table = _demux.connections();
  for (std::size_t i = 0; i < table.capacity(); ++i) {
    tcb& c = table.next_in_rotation();
    if (c.life == lifecycle::orphan && is_closing(c.state) && !c.on_event_list) {
      _control.rst(c.tuple, c.snd_nxt, seq32{}, false);
      to_closed(c);
      _counters.orphans_evicted.add();
      return true;
    }
  }
  return false;
}

tcb* tcp_layer::alloc_tcb(const four_tuple& t, lifecycle life) noexcept {
  if (_demux.connections().exhausted()) evict_embryonic();
  if (_demux.connections().exhausted()) evict_orphan();
  tcb* c = _demux.connections().take(t);
  if (c == nullptr) {
    _counters.no_tcb.add();
    return nullptr;
  }
  c->life = life;
  c->opened = open_kind::active;
  c->state = tcp_state::closed;
  c->listener_slot = tcb::kNoListener;
  c->holds_pool_port = false;
  c->owes_rst = false;
  _counters.states[static_cast<std::size_t>(tcp_state::closed)].add();
  return c;
}

tcb* tcp_layer::open_tcb(const four_tuple& t, lifecycle life, seq32 iss,
                        base::instant now) noexcept {
  tcb* c = alloc_tcb(t, life);
  if (c != nullptr) conn(*c).reset_for_open(iss, _isn.ts_offset(t), now);
  return c;
}

// Off the table, out of the accept queue, its port back in the pool
// (unless a TIME_WAIT record took the port over): the connection no longer
// stands in the way of a new one on its tuple.
void tcp_layer::detach(tcb& c) noexcept {
  _demux.connections().remove(c);
  _listener.leave_accept_queue(c);
  if (c.holds_pool_port) _ports.give_back(c.tuple.local_ip, c.tuple.local_port);
  c.holds_pool_port = false;
}

void tcp_layer::free_tcb(tcb& c) noexcept {
  conn(c).cancel_timers();
  detach(c);
  _blocked.remove(c);
  _deferred.remove(c);
  _syn_waiting.remove(c);
  const std::uint32_t snd_before = c.snd.segments();
  const std::uint32_t rcv_before = c.rcv_held_mbufs();
  c.snd.clear();
  c.out_of_order.clear();
  rte_pktmbuf_free(c.rx_head);
  c.rx_head = c.rx_tail = nullptr;
  c.rx_bytes = 0;
  c.rx_mbufs = 0;
  conn(c).account_snd(snd_before);
  conn(c).account_rcv(rcv_before);
  c.scoreboard.reset();
  // The state gauge leaves whatever state the TCB was in.
  _counters.states[static_cast<std::size_t>(c.state)].sub();
  c.state = tcp_state::closed;
  c.life = lifecycle::free;
  c.user = nullptr;
  _demux.connections().give_back(c);
}

// The connection is over for the application. The TCB itself goes back to
// the pool once the application has released it and the protocol no longer
// needs it (TIME_WAIT keeps it until 2MSL).
void tcp_layer::report_closed(tcb& c, close_reason why) noexcept {
  if ((c.events & event::kClosed) != 0 || c.state == tcp_state::closed) return;
  c.reason = why;
  notify(c, event::kClosed);
}

void tcp_layer::release(tcb& c, base::instant now) noexcept {
  c.user = nullptr;
  _listener.leave_accept_queue(c);
  c.life = lifecycle::orphan;
  if (c.state == tcp_state::syn_sent && c.snd.bytes() == 0) {
    // RFC 9293 §3.10.4: CLOSE in SYN_SENT deletes the TCB; no RST is sent.
    to_closed(c);
  } else if (is_synchronized(c.state) && (c.rx_bytes > 0 || !c.out_of_order.empty())) {
    reset_data_lost(c);
  } else if (c.state == tcp_state::fin_wait_2) {
    conn(c).arm_orphan_timeout(now);
  } else if (c.state != tcp_state::closed) {
    // Still open: our side is done, so send the FIN; the close handshake and
    // TIME_WAIT go on without the application.
    shutdown(c, now);
  }
  reap(c);
}

// RFC 1122 §4.2.2.13: "If such a host issues a CLOSE call while received
// data is still pending in TCP, or if new data is received after CLOSE is
// called, its TCP SHOULD send a RST to show that data was lost." Without it
// a peer that keeps sending fills a window nobody reads and probes it for
// ever (as Linux does, RST <SEQ=SND.NXT>).
void tcp_layer::reset_data_lost(tcb& c) noexcept {
  _counters.reset_data_lost.add();
  reset_and_close(c);
}

// RST <SEQ=SND.NXT> for a connection we end (RFC 9293 §3.10.5), and CLOSED.
// With no tx room the TCB stays, off the table, until its RST has gone
// (run_deferred): a client that aborts ten thousand connections at once
// loses none of the RSTs that tell the server.
void tcp_layer::reset_and_close(tcb& c) noexcept {
  if (!_out.room_left()) {
    c.owes_rst = true;
    conn(c).defer();
  } else {
    _control.rst(c.tuple, c.snd_nxt, seq32{}, false);
  }
  to_closed(c);
}

void tcp_layer::reap(tcb& c) noexcept {
  if (c.in_use() && c.state == tcp_state::closed && !c.app_holds() && !c.on_event_list &&
      !c.owes_rst) {
    free_tcb(c);
  }
}

void tcp_layer::to_closed(tcb& c) noexcept {
  conn(c).cancel_timers();
  conn(c).set_state(tcp_state::closed);
  // The tuple is free from now on, even while the application still holds
  // the handle: a new segment on it finds no connection (RFC 9293 §3.10.7.1).
  detach(c);
  reap(c);
}

void tcp_layer::abort(tcb& c, base::instant now) noexcept {
  (void)now;
  // RFC 9293 §3.10.5: in synchronized states send RST <SEQ=SND.NXT>.
  report_closed(c, close_reason::aborted);
  if (is_synchronized(c.state)) {
    reset_and_close(c);
  } else {
    to_closed(c);
  }
}

// RFC 9293 §3.10.7.4: FIN_WAIT_2 or CLOSING to TIME_WAIT. The TCB goes
// back to the pool; a compact record (time_wait.hh) keeps the tuple for 2 MSL.
void tcp_layer::enter_time_wait(tcb& c, base::instant now) noexcept {
  // The ACK of the peer's FIN goes now: the TCB will not be there for the
  // output that follows input.
  if (c.ack_now) conn(c).send_ack(now);
  time_wait_record r;
  r.tuple = c.tuple;
  r.snd_nxt = c.snd_max;  // just past our FIN
  r.rcv_nxt = c.rcv_nxt;  // just past theirs
  r.ts_recent = c.ts_recent;
  r.ts_offset = c.ts_offset;
  r.window = conn(c).advertised_window();
  r.ts_ok = c.ts_ok;
  // The same connection: its limit on invalid-segment ACKs goes on.
  r.last_invalid_ack_ms = c.last_invalid_ack_ms;
  r.port_from_pool = c.holds_pool_port;
  report_closed(c, close_reason::normal);
  // When the table is full the connection skips TIME_WAIT (counted) and
  // the port goes back with the TCB.
  if (_demux.time_wait().enter(r, now)) {
    c.holds_pool_port = false;  // the record gives the port back on expiry
  }
  to_closed(c);
}

// Oldest first; a connection that fills the queue again goes back to the
// end of the list.
void tcp_layer::run_deferred(base::instant now) noexcept {
  while (!_syn_waiting.empty() && _out.syn_allowed() && _out.room_left()) {
    tcb& c = *_syn_waiting.front();
    _syn_waiting.remove(c);
    conn(c).send_syn(now);
  }
  for (std::size_t n = _demux.connections().live(); n > 0 && _out.room_left() && !_deferred.empty();
       --n) {
    tcb& c = *_deferred.front();
    _deferred.remove(c);
    if (c.owes_rst) {
      _control.rst(c.tuple, c.snd_nxt, seq32{}, false);
      c.owes_rst = false;
      reap(c);
    } else if (c.state == tcp_state::syn_sent || c.state == tcp_state::syn_rcvd) {
      conn(c).send_syn(now);
    } else if (c.state != tcp_state::closed) {
      conn(c).output(now);
    }
  }
}

}  // namespace kbt::tcp
