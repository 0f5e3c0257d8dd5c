// A connection's side of the handshake (RFC 9293 §3.5): what the peer's SYN
// tells it, its input in SYN_SENT (§3.10.7.3), and the one way into
// ESTABLISHED. Where the connection came from (connect, a SYN queue entry,
// a cookie) is its owner's business: tcp_layer and the listener.
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
  c.cc.init(t.cc, effective_mss(), c.last_rx_ns);
}

// RFC 9293 §3.10.7.2 and §3.10.7.3 fourth: what the peer's SYN tells us,
// its ISN, its window (RFC 7323 §2.2: a SYN's is never scaled) and options.
void connection::take_peer_syn(const wire::tcp_repr& syn, std::uint64_t now_ns) noexcept {
  tcb& c = _c;
  c.irs = syn.seq;
  c.rcv_nxt = syn.seq + 1;
  c.rcv_adv = c.rcv_nxt;
  take_options(syn.options);
  if (c.ts_ok) {
    c.ts_recent = syn.options.timestamps->tsval;
    c.ts_recent_stamp_ns = now_ns;
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
                                              std::uint64_t now_ns) noexcept {
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
  take_peer_syn(seg, now_ns);
  c.snd_wl2 = seg.ack;
  if (ack_ok) {
    // Our SYN is acknowledged: ESTABLISHED, and ACK <SEQ=SND.NXT><ACK=RCV.NXT>.
    c.snd_una = seg.ack;
    if (c.rtt_timing && seg.ack > c.rtt_seq) {
      c.rtt.on_sample(now_ns - c.rtt_start_ns);
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
    send_syn(now_ns);
  }
  return syn_sent_outcome::go_on;
}

}  // namespace kbt::tcp
