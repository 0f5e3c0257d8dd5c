// What the timer wheel drives per connection: retransmission (RFC 6298,
// SYN and SYN-ACK included), delayed ACK, persist (RFC 9293 §3.8.6.1) and keepalive (RFC 1122 §4.2.3.6).
#include <algorithm>

#include "tcp/tcp_layer.hh"

namespace kbt::tcp {

// Plain functions for the wheel: they find the TCB from its node and the
// layer from the wheel's context. No virtual call.
struct tcp_timers {
  static void rto(base::timer_node& n, std::uint64_t now_ns, void* ctx) noexcept {
    auto& c = base::owner_of<tcb, rto_tag>(n);
    auto* layer = static_cast<tcp_layer*>(ctx);
    layer->on_rto(c, now_ns);
  }
  static void delack(base::timer_node& n, std::uint64_t now_ns, void* ctx) noexcept {
    static_cast<tcp_layer*>(ctx)->on_delack(base::owner_of<tcb, delack_tag>(n), now_ns);
  }
  static void persist(base::timer_node& n, std::uint64_t now_ns, void* ctx) noexcept {
    static_cast<tcp_layer*>(ctx)->on_persist(base::owner_of<tcb, persist_tag>(n), now_ns);
  }
  static void idle(base::timer_node& n, std::uint64_t now_ns, void* ctx) noexcept {
    static_cast<tcp_layer*>(ctx)->on_idle_timeout(base::owner_of<tcb, idle_tag>(n), now_ns);
  }
};

void install_timer_callbacks(tcb& c) noexcept {
  c.rto_timer().set_callback(&tcp_timers::rto);
  c.delack_timer().set_callback(&tcp_timers::delack);
  c.persist_timer().set_callback(&tcp_timers::persist);
  c.idle_timer().set_callback(&tcp_timers::idle);
}

void tcp_layer::advance(std::uint64_t now_ns) noexcept {
  _wheel.advance(now_ns);
  _time_wait.expire(now_ns);
  wake_blocked_senders();
  run_deferred(now_ns);
}

void tcp_layer::cancel_timers(tcb& c) noexcept {
  _wheel.cancel(c.rto_timer());
  _wheel.cancel(c.delack_timer());
  _wheel.cancel(c.persist_timer());
  _wheel.cancel(c.idle_timer());
}

void tcp_layer::on_rto(tcb& c, std::uint64_t now_ns) noexcept {
  switch (c.state) {
    case tcp_state::syn_sent:
    case tcp_state::syn_rcvd: {
      const std::uint8_t limit = c.state == tcp_state::syn_sent ? _config.tcp.max_syn_retries
                                                                 : _config.tcp.max_synack_retries;
      if (++c.retries > limit) return give_up(c);
      c.rtt.on_timeout();  // RFC 6298 §5.5: back off
      c.rtt_timing = false;
      _counters.retransmits.add();
      _counters.syn_retransmits.add();
      if (c.syn_retransmits < UINT8_MAX) ++c.syn_retransmits;
      conn(c).send_syn(now_ns);
      return;
    }
    case tcp_state::closed:
    case tcp_state::listen:
      return;
    default:
      break;
  }
  if (c.snd_una == c.snd_max) return;  // nothing outstanding after all
  if (c.snd_wnd == 0) {
    // The peer's last ACK closed its window over what is outstanding: it is
    // alive and just cannot take more. Resending into a closed window would
    // count toward giving up on a peer that answers every time (RFC 1122
    // §4.2.2.17: keep the connection open while the peer answers probes),
    // so switch to persist probing until the window opens.
    c.retries = 0;
    c.snd_nxt = c.snd_una;
    c.rtt_timing = false;
    c.in_recovery = false;
    c.dupacks = 0;
    c.scoreboard.reset();
    on_persist(c, now_ns);
    return;
  }
  // RFC 1122 §4.2.3.5 R2: give up and tell the application.
  if (++c.retries > _config.tcp.max_retries) return give_up(c);
  _counters.rto_expiries.add();
  // RFC 5681 §3.1 eq. 4 / RFC 6298 §5.4-5.6: collapse the window, back off,
  // and send again from the first unacknowledged byte (go-back-N; with
  // SACK the scoreboard is forgotten, RFC 6675 §5.1).
  c.cc.on_rto(c.flight_size(), now_ns, c.retries > 1);
  c.rtt.on_timeout();
  c.rtt_timing = false;
  c.in_recovery = false;
  c.dupacks = 0;
  c.recover = c.snd_max;
  c.scoreboard.reset();
  c.snd_nxt = conn(c).retransmit_first(now_ns);
  conn(c).arm_rto(now_ns);
}

// The peer stopped answering: the connection ends, the application hears
// why.
void tcp_layer::give_up(tcb& c) noexcept {
  _counters.timeouts.add();
  report_closed(c, close_reason::timeout);
  to_closed(c);
}

void tcp_layer::on_delack(tcb& c, std::uint64_t now_ns) noexcept {
  if (c.unacked_segs > 0 || c.ack_now) conn(c).send_ack(now_ns);
}

// Zero window and data waiting: a probe with an old sequence number makes
// the peer answer with its current window (Linux's tcp_probe_timer style),
// backing off up to persist_max. It never gives up while the peer answers
// (RFC 1122 §4.2.2.17); a peer silent through max_retries probes in a row
// is gone, as after max_retries RTOs (else it would hold the TCB and its
// data forever: found by fuzz_tcp_established).
void tcp_layer::on_persist(tcb& c, std::uint64_t now_ns) noexcept {
  // Nothing to send and nothing outstanding: no probing. A FIN alone still
  // outstanding is probed for like data, or a peer that closed its window
  // and fell silent would keep the connection for ever (fuzz_tcp_established).
  if (c.snd.bytes_unsent(c.snd_nxt) == 0 && c.snd_una == c.snd_max) {
    c.persist_backoff = 0;
    return;
  }
  if (c.snd_wnd > 0) {
    // The window is open but smaller than a segment and the sender SWS
    // rule held the data back: the override timeout has run, send what fits.
    c.persist_backoff = 0;
    c.sws_override = true;
    conn(c).output(now_ns);
    c.sws_override = false;
    return;
  }
  if (c.last_rx_ns >= c.probe_sent_ns) c.probes_unanswered = 0;
  if (++c.probes_unanswered > _config.tcp.max_retries) return give_up(c);
  // Released, and the peer's window stays shut: nobody will read what it
  // might take, and the send buffer holds the core's mbufs. Linux resets
  // such an orphan after tcp_orphan_retries probes (tcp_probe_timer).
  if (!c.app_holds() && c.persist_backoff >= _config.tcp.orphan_probes) {
    _counters.orphan_probe_timeouts.add();
    return reset_and_close(c);
  }
  c.probe_sent_ns = now_ns;
  _counters.zero_window_probes.add();
  conn(c).send_segment(c.snd_una - 1, 0, wire::tcp_flag::kAck, now_ns);
  if (c.persist_backoff < 16) ++c.persist_backoff;
  const std::uint64_t wait =
      std::min<std::uint64_t>(c.rtt.rto_ns() << c.persist_backoff, _config.tcp.persist_max_ns);
  _wheel.arm(c.persist_timer(), now_ns + wait);
}

// The idle timer of a released connection in FIN_WAIT_2 (as Linux
// uses it): keepalive is the application's, and it has gone.
void tcp_layer::arm_orphan_timeout(tcb& c, std::uint64_t now_ns) noexcept {
  _wheel.arm(c.idle_timer(), now_ns + _config.tcp.orphan_fin_wait_2_ns);
}

void tcp_layer::on_idle_timeout(tcb& c, std::uint64_t now_ns) noexcept {
  if (c.state == tcp_state::fin_wait_2 && !c.app_holds()) {
    _counters.orphan_fin_wait_2_timeouts.add();
    to_closed(c);
    return;
  }
  if (!is_synchronized(c.state) || c.state == tcp_state::time_wait) return;
  const tcp_config& t = _config.tcp;
  if (now_ns - c.last_rx_ns < t.keepalive_idle_ns && c.keepalive_sent == 0) {
    _wheel.arm(c.idle_timer(), c.last_rx_ns + t.keepalive_idle_ns);
    return;
  }
  // Data or a FIN outstanding: the retransmission (or persist) timer is
  // already finding out whether the peer lives, with its own limit. A
  // keepalive probe then would only count silence during an RTO backoff
  // against a live connection (found by the soak), so wait, as Linux does.
  if (c.snd_una != c.snd_max) {
    c.keepalive_sent = 0;
    _wheel.arm(c.idle_timer(), now_ns + t.keepalive_idle_ns);
    return;
  }
  if (c.keepalive_sent >= t.keepalive_probes) return give_up(c);
  // RFC 1122 §4.2.3.6: SEG.SEQ = SND.NXT - 1 (here SND.UNA = SND.NXT), no
  // data: an old sequence number, so the peer must answer with an ACK.
  ++c.keepalive_sent;
  _counters.keepalive_probes.add();
  conn(c).send_segment(c.snd_una - 1, 0, wire::tcp_flag::kAck, now_ns);
  _wheel.arm(c.idle_timer(), now_ns + t.keepalive_interval_ns);
}

}  // namespace kbt::tcp
