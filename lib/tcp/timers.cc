// What the timer wheel drives per connection: retransmission (RFC 6298,
// SYN and SYN-ACK included), delayed ACK, persist (RFC 9293 §3.8.6.1) and keepalive (RFC 1122 §4.2.3.6).
#include <algorithm>

#include "tcp/tcp_layer.hh"

namespace kbt::tcp {

// Plain functions for the wheel: they find the TCB from its node and the
// layer from the wheel's context. No virtual call. The connection runs the
// timer; the layer ends it when the timer says so (connection.hh).
struct tcp_timers {
  static void rto(base::timer_node& n, base::instant now, void* ctx) noexcept {
    auto& c = base::owner_of<tcb, rto_tag>(n);
    auto* layer = static_cast<tcp_layer*>(ctx);
    layer->end_if(c, layer->conn(c).on_rto(now));
  }
  static void delack(base::timer_node& n, base::instant now, void* ctx) noexcept {
    auto& c = base::owner_of<tcb, delack_tag>(n);
    static_cast<tcp_layer*>(ctx)->conn(c).on_delack(now);
  }
  static void persist(base::timer_node& n, base::instant now, void* ctx) noexcept {
    auto& c = base::owner_of<tcb, persist_tag>(n);
    auto* layer = static_cast<tcp_layer*>(ctx);
    layer->end_if(c, layer->conn(c).on_persist(now));
  }
  static void idle(base::timer_node& n, base::instant now, void* ctx) noexcept {
    auto& c = base::owner_of<tcb, idle_tag>(n);
    auto* layer = static_cast<tcp_layer*>(ctx);
    layer->end_if(c, layer->conn(c).on_idle_timeout(now));
  }
};

void install_timer_callbacks(tcb& c) noexcept {
  c.rto_timer().set_callback(&tcp_timers::rto);
  c.delack_timer().set_callback(&tcp_timers::delack);
  c.persist_timer().set_callback(&tcp_timers::persist);
  c.idle_timer().set_callback(&tcp_timers::idle);
}

void tcp_layer::advance(base::instant now) noexcept {
  _wheel.advance(now);
  _demux.time_wait().expire(now);
  wake_blocked_senders();
  run_deferred(now);
}

void tcp_layer::end_if(tcb& c, timer_outcome what) noexcept {
  switch (what) {
    case timer_outcome::go_on:
      return;
    case timer_outcome::timed_out:
      // The peer stopped answering: the connection ends, the application
      // hears why.
      _counters.timeouts.add();
      report_closed(c, close_reason::timeout);
      to_closed(c);
      return;
    case timer_outcome::reset:
      reset_and_close(c);
      return;
    case timer_outcome::closed:
      to_closed(c);
      return;
  }
}

void connection::cancel_timers() noexcept {
  _cx.wheel.cancel(_c.rto_timer());
  _cx.wheel.cancel(_c.delack_timer());
  _cx.wheel.cancel(_c.persist_timer());
  _cx.wheel.cancel(_c.idle_timer());
}

timer_outcome connection::on_rto(base::instant now) noexcept {
  switch (_c.state) {
    case tcp_state::syn_sent:
    case tcp_state::syn_rcvd: {
      const std::uint8_t limit = _c.state == tcp_state::syn_sent ? _cx.tcp.max_syn_retries
                                                                 : _cx.tcp.max_synack_retries;
      if (++_c.retries > limit) return timer_outcome::timed_out;
      _c.rtt.on_timeout();  // RFC 6298 §5.5: back off
      _c.rtt_timing = false;
      _cx.counters.retransmits.add();
      _cx.counters.syn_retransmits.add();
      if (_c.syn_retransmits < UINT8_MAX) ++_c.syn_retransmits;
      send_syn(now);
      return timer_outcome::go_on;
    }
    case tcp_state::closed:
    case tcp_state::listen:
      return timer_outcome::go_on;
    default:
      break;
  }
  if (_c.snd_una == _c.snd_max) return timer_outcome::go_on;  // nothing outstanding after all
  if (_c.snd_wnd == 0) {
    // The peer's last ACK closed its window over what is outstanding: it is
    // alive and just cannot take more. Resending into a closed window would
    // count toward giving up on a peer that answers every time (RFC 1122
    // §4.2.2.17: keep the connection open while the peer answers probes),
    // so switch to persist probing until the window opens.
    _c.retries = 0;
    _c.snd_nxt = _c.snd_una;
    _c.rtt_timing = false;
    _c.in_recovery = false;
    _c.dupacks = 0;
    _c.scoreboard.reset();
    return on_persist(now);
  }
  // RFC 1122 §4.2.3.5 R2: give up and tell the application.
  if (++_c.retries > _cx.tcp.max_retries) return timer_outcome::timed_out;
  _cx.counters.rto_expiries.add();
  // RFC 5681 §3.1 eq. 4 / RFC 6298 §5.4-5.6: collapse the window, back off,
  // and send again from the first unacknowledged byte (go-back-N; with
  // SACK the scoreboard is forgotten, RFC 6675 §5.1).
  _c.cc.on_rto(_c.flight_size(), base::ns_since_start(now), _c.retries > 1);
  _c.rtt.on_timeout();
  _c.rtt_timing = false;
  _c.in_recovery = false;
  _c.dupacks = 0;
  _c.recover = _c.snd_max;
  _c.scoreboard.reset();
  _c.snd_nxt = retransmit_first(now);
  if (_c.ts_ok && _c.retries == 1) {
    // RFC 3522 §2: remember the first retransmission's TSval (a retransmission
    // that waits for tx room goes out later, with a larger one: still newer
    // than the original's).
    _c.rto_retransmit_tsval = tsval(now);
  }
  arm_rto(now);
  return timer_outcome::go_on;
}

void connection::on_delack(base::instant now) noexcept {
  if (_c.unacked_segs > 0 || _c.ack_now) send_ack(now);
}

// Zero window and data waiting: a probe with an old sequence number makes
// the peer answer with its current window (Linux's tcp_probe_timer style),
// backing off up to persist_max. It never gives up while the peer answers
// (RFC 1122 §4.2.2.17); a peer silent through max_retries probes in a row
// is gone, as after max_retries RTOs (else it would hold the TCB and its
// data forever: found by fuzz_tcp_established).
timer_outcome connection::on_persist(base::instant now) noexcept {
  // Nothing to send and nothing outstanding: no probing. A FIN alone still
  // outstanding is probed for like data, or a peer that closed its window
  // and fell silent would keep the connection for ever (fuzz_tcp_established).
  if (_c.snd.bytes_unsent(_c.snd_nxt) == 0 && _c.snd_una == _c.snd_max) {
    _c.persist_backoff = 0;
    return timer_outcome::go_on;
  }
  if (_c.snd_wnd > 0) {
    // The window is open but smaller than a segment and the sender SWS
    // rule held the data back: the override timeout has run, send what fits.
    _c.persist_backoff = 0;
    _c.sws_override = true;
    output(now);
    _c.sws_override = false;
    return timer_outcome::go_on;
  }
  if (_c.last_rx >= _c.probe_sent) _c.probes_unanswered = 0;
  if (++_c.probes_unanswered > _cx.tcp.max_retries) return timer_outcome::timed_out;
  // Released, and the peer's window stays shut: nobody will read what it
  // might take, and the send buffer holds the core's mbufs. Linux resets
  // such an orphan after tcp_orphan_retries probes (tcp_probe_timer).
  if (!_c.app_holds() && _c.persist_backoff >= _cx.tcp.orphan_probes) {
    _cx.counters.orphan_probe_timeouts.add();
    return timer_outcome::reset;
  }
  _c.probe_sent = now;
  _cx.counters.zero_window_probes.add();
  send_segment(_c.snd_una - 1, 0, wire::tcp_flag::kAck, now);
  if (_c.persist_backoff < 16) ++_c.persist_backoff;
  const base::nanos wait =
      std::min(base::nanos{_c.rtt.rto_ns() << _c.persist_backoff}, _cx.tcp.persist_max);
  _cx.wheel.arm(_c.persist_timer(), now + wait);
  return timer_outcome::go_on;
}

// The idle timer of a released connection in FIN_WAIT_2 (as Linux
// uses it): keepalive is the application's, and it has gone.
void connection::arm_orphan_timeout(base::instant now) noexcept {
  _cx.wheel.arm(_c.idle_timer(), now + _cx.tcp.orphan_fin_wait_2);
}

timer_outcome connection::on_idle_timeout(base::instant now) noexcept {
  if (_c.state == tcp_state::fin_wait_2 && !_c.app_holds()) {
    _cx.counters.orphan_fin_wait_2_timeouts.add();
    return timer_outcome::closed;
  }
  if (!is_synchronized(_c.state) || _c.state == tcp_state::time_wait) return timer_outcome::go_on;
  const tcp_config& t = _cx.tcp;
  if (now - _c.last_rx < t.keepalive_idle && _c.keepalive_sent == 0) {
    _cx.wheel.arm(_c.idle_timer(), _c.last_rx + t.keepalive_idle);
    return timer_outcome::go_on;
  }
  // Data or a FIN outstanding: the retransmission (or persist) timer is
  // already finding out whether the peer lives, with its own limit. A
  // keepalive probe then would only count silence during an RTO backoff
  // against a live connection (found by the soak), so wait, as Linux does.
  if (_c.snd_una != _c.snd_max) {
    _c.keepalive_sent = 0;
    _cx.wheel.arm(_c.idle_timer(), now + t.keepalive_idle);
    return timer_outcome::go_on;
  }
  if (_c.keepalive_sent >= t.keepalive_probes) return timer_outcome::timed_out;
  // RFC 1122 §4.2.3.6: SEG.SEQ = SND.NXT - 1 (here SND.UNA = SND.NXT), no
  // data: an old sequence number, so the peer must answer with an ACK.
  ++_c.keepalive_sent;
  _cx.counters.keepalive_probes.add();
  send_segment(_c.snd_una - 1, 0, wire::tcp_flag::kAck, now);
  _cx.wheel.arm(_c.idle_timer(), now + t.keepalive_interval);
  return timer_outcome::go_on;
}

}  // namespace kbt::tcp
