// A connection's side of the handshake (RFC 9293 §3.5): the fields every
// open starts from, what the peer's SYN (or a SYN cookie's ACK) tells it,
// its input in SYN_SENT (§3.10.7.3), and the one way into ESTABLISHED.
// Where the connection came from (connect, a SYN-queue entry, a cookie) is
// its owner's business: tcp_layer and the listener (listener.hh).
#include <algorithm>

#include "tcp/connection.hh"

namespace kbt::tcp {

using wire::tcp_flag::kAck;
using wire::tcp_flag::kRst;
using wire::tcp_flag::kSyn;

void connection::take_options(const wire::tcp_options& o) noexcept {
  tcb& c = _c;
  const tcp_config& t = _cx.tcp;
  // RFC 9293 §3.7.1: without the option, 536; never above what we can send.
  c.snd_mss = std::min<std::uint16_t>(o.mss.value_or(t.default_peer_mss), t.mss);
  if (c.snd_mss < 64) c.snd_mss = 64;  // RFC 6691 floor: a tiny MSS is an attack
  // RFC 7323 §2.2: both sides must send the option, else neither scales.
  if (t.window_scaling && o.window_scale) {
    c.snd_wscale = std::min<std::uint8_t>(*o.window_scale, 14);  // §2.3: at most 14
  } else {
    c.snd_wscale = 0;
    c.rcv_wscale = 0;
  }
  c.ws_ok = t.window_scaling && o.window_scale.has_value();
  c.ts_ok = t.timestamps && o.timestamps.has_value();
  c.sack_ok = t.sack && o.sack_permitted;
  c.cc.init(t.cc, effective_mss(), base::ns_since_start(c.last_rx));
}

void connection::start_sequence(seq32 iss) noexcept {
  tcb& c = _c;
  c.iss = iss;
  c.snd_una = c.snd_nxt = c.snd_max = iss;
  // RFC 6582 §3.2 step 1: recover starts at the ISS. Left at 0, every
  // connection whose ISS is 2^31 or more away looked "in recovery" and
  // never fast-retransmitted (found by test_netem.py).
  c.recover = iss;
  c.snd.reset(iss + 1);
}

void connection::reset_for_open(seq32 iss, std::uint32_t ts_offset,
                                base::instant now) noexcept {
  tcb& c = _c;
  const tcp_config& t = _cx.tcp;
  start_sequence(iss);
  c.snd_wnd = 0;
  c.max_snd_wnd = 0;
  c.snd_wl1 = c.snd_wl2 = seq32{};
  c.rcv_nxt = c.rcv_adv = c.irs = seq32{};
  c.snd_mss = t.default_peer_mss;
  c.snd_wscale = 0;
  c.rcv_wscale = 0;
  c.ts_ok = false;
  c.sack_ok = false;
  c.ts_recent = 0;
  c.ts_recent_stamp = {};
  c.ts_offset = ts_offset;
  c.last_invalid_ack_ms = 0;  // a new connection has answered nothing yet
  c.fin_queued = false;
  c.fin_received = false;
  c.nodelay = !t.nagle;
  c.retries = 0;
  c.syn_retransmits = 0;
  c.dupacks = 0;
  c.in_recovery = false;
  c.rtt = rtt_estimator{};
  c.rtt_timing = false;
  c.persist_backoff = 0;
  c.probes_unanswered = 0;
  c.probe_sent = {};
  c.keepalive_sent = 0;
  c.last_rx = now;
  c.last_send = now;
  c.rcv_buffer = t.rcv_buffer;
  c.unacked_segs = 0;
  c.ack_now = false;
  c.urgent_pending = false;
  c.events = 0;
  c.acked_unreported = 0;
  c.rx_paused = false;
  c.reason = close_reason::normal;
  c.scoreboard.reset();
  if (t.window_scaling) c.rcv_wscale = rcv_wscale_for(t);
  c.cc.init(t.cc, c.snd_mss, base::ns_since_start(now));
}

void connection::open_from_syn(const wire::tcp_repr& syn, base::instant now) noexcept {
  take_peer_syn(syn, now);
  _c.snd_wl2 = _c.iss;
  set_state(tcp_state::syn_rcvd);
  send_syn(now);
}

// The ISS was the cookie (ACK - 1); what the SYN would have told us comes
// from the cookie's MSS and the options kept in our SYN-ACK's TSval.
void connection::open_from_cookie(const wire::tcp_repr& ack, const cookie_grant& g,
                                  base::instant now) noexcept {
  tcb& c = _c;
  const tcp_config& cfg = _cx.tcp;
  c.snd_una = c.snd_nxt = c.snd_max = ack.ack;  // the SYN-ACK is acknowledged
  c.irs = ack.seq - 1;
  c.rcv_nxt = ack.seq;
  // RFC 7323 §4.3 Last.ACK.sent: what the cookie SYN-ACK acknowledged, not
  // what the TCB's last user sent (acceptance.cc answer_out_of_window() reads it).
  c.last_ack_sent = c.rcv_nxt;
  // The SYN-ACK offered this much, unscaled (cookie_handshake::send_synack).
  c.rcv_adv = c.rcv_nxt + std::min<std::uint32_t>(cfg.rcv_buffer, 0xffff);
  c.snd_mss = std::min(g.mss, cfg.mss);
  c.ts_ok = g.ts_ok;
  c.ws_ok = g.ws_ok;
  c.sack_ok = g.sack_ok;
  c.snd_wscale = g.snd_wscale;
  c.rcv_wscale = c.ws_ok ? rcv_wscale_for(cfg) : 0;
  if (g.ts_ok) {
    c.ts_recent = ack.options.timestamps->tsval;
    c.ts_recent_stamp = now;
  }
  c.cc.init(cfg.cc, effective_mss(), base::ns_since_start(now));
  c.snd_wnd = std::uint32_t{ack.window} << c.snd_wscale;
  c.max_snd_wnd = c.snd_wnd;
  c.snd_wl1 = ack.seq;
  c.snd_wl2 = ack.ack;
  enter_established();
}

// RFC 9293 §3.10.7.2 and §3.10.7.3 fourth: what the peer's SYN tells us,
// its ISN, its window (RFC 7323 §2.2: a SYN's is never scaled) and options.
void connection::take_peer_syn(const wire::tcp_repr& syn, base::instant now) noexcept {
  tcb& c = _c;
  c.irs = syn.seq;
  c.rcv_nxt = syn.seq + 1;
  c.rcv_adv = c.rcv_nxt;
  take_options(syn.options);
  if (c.ts_ok) {
    c.ts_recent = syn.options.timestamps->tsval;
    c.ts_recent_stamp = now;
  }
  c.snd_wnd = syn.window;
  c.max_snd_wnd = c.snd_wnd;
  c.snd_wl1 = syn.seq;
}

// The one way into ESTABLISHED: our SYN-ACK acknowledged (SYN_RCVD, RFC 9293
// §3.10.7.4 fifth), the peer's SYN-ACK (SYN_SENT, §3.10.7.3 fourth), or a
// valid SYN cookie's ACK (RFC 4987 §3.6). The application hears of it now;
// a passive open's comes through its listener's accept queue.
void connection::enter_established() noexcept {
  set_state(tcp_state::established);
  _c.retries = 0;
  _cx.wheel.cancel(_c.rto_timer());
  if (_c.life == lifecycle::handshake) _c.life = lifecycle::application;
  notify(event::kConnected);
  // A close queued in SYN_SENT or SYN_RCVD (RFC 9293 §3.10.4) takes effect now.
  if (_c.fin_queued) set_state(tcp_state::fin_wait_1);
}

// RFC 9293 §3.10.7.3: SYN_SENT.
syn_sent_outcome connection::receive_syn_sent(const wire::tcp_repr& seg,
                                              base::instant now) noexcept {
  tcb& c = _c;
  bool ack_ok = false;
  if (seg.has(kAck)) {
    // first: an ACK of something we never sent gets a RST (unless a RST).
    if (seg.ack <= c.iss || seg.ack > c.snd_max) {
      return seg.has(kRst) ? syn_sent_outcome::go_on : syn_sent_outcome::bad_ack;
    }
    ack_ok = true;
  }
  if (seg.has(kRst)) {
    // second: RFC 5961 §3.2 — a RST in SYN_SENT counts only with an ACK of our SYN.
    if (!ack_ok) return syn_sent_outcome::go_on;
    _cx.counters.rst_in.add();
    return syn_sent_outcome::refused;
  }
  if (!seg.has(kSyn)) return syn_sent_outcome::go_on;  // fifth: neither SYN nor RST

  // fourth: the SYN.
  take_peer_syn(seg, now);
  c.snd_wl2 = seg.ack;
  if (ack_ok) {
    // Our SYN is acknowledged: ESTABLISHED, and ACK <SEQ=SND.NXT><ACK=RCV.NXT>.
    c.snd_una = seg.ack;
    if (c.rtt_timing && seg.ack > c.rtt_seq) {
      c.rtt.on_sample((now - c.rtt_start).count());
    } else if (c.retries > 0) {
      // RFC 6298 §5.7: after a lost SYN, data starts with a 3 s RTO.
      c.rtt.on_handshake_after_syn_timeout();
    }
    c.rtt_timing = false;
    enter_established();
    c.ack_now = true;
  } else {
    // Simultaneous open (RFC 9293 §3.5 figure 8): SYN_RCVD, SYN-ACK <SEQ=ISS>.
    set_state(tcp_state::syn_rcvd);
    send_syn(now);
  }
  return syn_sent_outcome::go_on;
}

}  // namespace kbt::tcp
