// LISTEN (RFC 9293 §3.10.7.2) with the two queues of a listener and SYN
// cookies (RFC 4987 §3.6, tcp/cookie_handshake.hh). A SYN takes a
// SYN-queue entry (a TCB in SYN_RCVD) while the queue has room; past that,
// or for every SYN in `always` mode, the SYN-ACK carries a cookie and
// nothing is kept until a valid ACK comes back. Established passive opens wait in the accept queue
// until the application is told of them (poll_events).
#include <algorithm>

#include "tcp/tcp_layer.hh"

namespace kbt::tcp {

using wire::tcp_flag::kAck;
using wire::tcp_flag::kFin;
using wire::tcp_flag::kRst;
using wire::tcp_flag::kSyn;

void tcp_layer::input_listen(listener& l, const four_tuple& t, const wire::tcp_repr& seg,
                             rte_mbuf* payload, std::uint64_t now_ns, seq32 min_iss,
                             bool min_iss_valid) noexcept {
  const tcp_config& cfg = _config.tcp;
  if (seg.has(kRst)) {
    rte_pktmbuf_free(payload);
    return;
  }
  // RFC 9293 §3.10.7.2 second check: any ACK-bearing segment is bad in
  // LISTEN and gets <SEQ=SEG.ACK><CTL=RST>, a SYN-ACK too (backscatter of
  // someone else's flood must not take SYN-queue entries); only a plain
  // ACK may first complete a cookie handshake.
  if (seg.has(kAck) && !seg.has(kSyn)) {
    if (_cookies.checks_ack(now_ns)) {
      tcb* c = accept_cookie(l, t, seg, now_ns);
      if (c == nullptr) {
        rte_pktmbuf_free(payload);
        return;
      }
      // Data (or a FIN) on the ACK that completes a cookie handshake is the
      // connection's first: process it as ESTABLISHED does.
      input_synchronized(*c, seg, payload, now_ns);
      if (c->in_use() && c->state != tcp_state::closed) conn(*c).output(now_ns);
      return;
    }
    rte_pktmbuf_free(payload);
    _control.rst(t, seg.ack, seq32{}, false);
    return;
  }
  rte_pktmbuf_free(payload);
  if (seg.has(kAck)) {  // a SYN-ACK
    _control.rst(t, seg.ack, seq32{}, false);
    return;
  }
  // RFC 9293 §3.10.7.2 lets a SYN's data be queued; we drop it and the
  // peer sends it again after the handshake. SYN+FIN is a scanner's probe,
  // not an open: dropped, as Linux does.
  if (!seg.has(kSyn) || seg.has(kFin)) return;

  const bool queue_full = _listeners.syn_queue(l) >= cfg.syn_queue_max;
  if (_cookies.answers_syn(queue_full, _conns.exhausted())) {
    _cookies.send_synack(t, seg, ts_offset_for(t), now_ns);
    return;
  }
  if (queue_full) {
    _counters.syn_queue_overflow.add();
    return;
  }
  // The application learns of it when it is established.
  tcb* c = alloc_tcb(t, lifecycle::handshake);
  if (c == nullptr) return;  // counted as no_tcb
  c->opened = open_kind::passive;
  c->listener_slot = _listeners.slot_of(l);
  reset_for_open(*c, now_ns);
  seq32 iss = c->iss;
  if (cfg.syncookies != syncookies_mode::never) {
    // As FreeBSD's syncache: the entry's ISS is the cookie too, so the
    // handshake completes even if the entry is dropped, and debug builds
    // check every such ISS decodes (ack.cc).
    iss = _cookies.entry_iss(t, seg, now_ns);
    c->opened = open_kind::passive_cookie_iss;
  }
  // RFC 1122 §4.2.2.13 / RFC 6191: a SYN that reopens a TIME_WAIT tuple
  // must start above everything the old incarnation sent.
  if (min_iss_valid && iss <= min_iss) {
    iss = min_iss + 65536;
    c->opened = open_kind::passive;
  }
  start_sequence(*c, iss);
  conn(*c).take_peer_syn(seg, now_ns);
  c->snd_wl2 = c->iss;
  conn(*c).set_state(tcp_state::syn_rcvd);
  _counters.passive_opens.add();
  conn(*c).send_syn(now_ns);
}

// A plain ACK in LISTEN with a valid cookie: the connection starts
// ESTABLISHED (RFC 4987 §3.6), rebuilt from the cookie and the echoed
// timestamp. nullptr (counted) when the cookie is not ours, the accept
// queue is full, or no TCB is free.
tcb* tcp_layer::accept_cookie(listener& l, const four_tuple& t, const wire::tcp_repr& seg,
                              std::uint64_t now_ns) noexcept {
  const tcp_config& cfg = _config.tcp;
  const auto mss = _cookies.check_ack(t, seg, now_ns);
  if (!mss) return nullptr;
  if (l.accept_queue >= cfg.accept_queue_max) {
    _counters.accept_queue_overflow.add();
    return nullptr;
  }
  const auto grant = _cookies.grant(seg, *mss);
  if (!grant) return nullptr;
  const cookie_grant& g = *grant;
  tcb* c = alloc_tcb(t, lifecycle::accept_queue);
  if (c == nullptr) return nullptr;
  c->opened = open_kind::passive;
  c->listener_slot = _listeners.slot_of(l);
  reset_for_open(*c, now_ns);
  start_sequence(*c, seg.ack - 1);
  c->snd_una = c->snd_nxt = c->snd_max = seg.ack;  // the SYN-ACK is acknowledged
  c->irs = seg.seq - 1;
  c->rcv_nxt = seg.seq;
  // RFC 7323 §4.3 Last.ACK.sent: what the cookie SYN-ACK acknowledged, not
  // what the TCB's last user sent (input.cc answer_out_of_window() reads it).
  c->last_ack_sent = c->rcv_nxt;
  // The SYN-ACK offered this much, unscaled (cookie_handshake::send_synack).
  c->rcv_adv = c->rcv_nxt + std::min<std::uint32_t>(cfg.rcv_buffer, 0xffff);
  c->snd_mss = std::min(g.mss, cfg.mss);
  c->ts_ok = g.ts_ok;
  c->ws_ok = g.ws_ok;
  c->sack_ok = g.sack_ok;
  c->snd_wscale = g.snd_wscale;
  c->rcv_wscale = c->ws_ok ? rcv_wscale_for(cfg) : 0;
  if (g.ts_ok) {
    c->ts_recent = seg.options.timestamps->tsval;
    c->ts_recent_stamp_ns = now_ns;
  }
  c->cc.init(_config.tcp.cc, conn(*c).effective_mss(), now_ns);
  c->snd_wnd = std::uint32_t{seg.window} << c->snd_wscale;
  c->max_snd_wnd = c->snd_wnd;
  c->snd_wl1 = seg.seq;
  c->snd_wl2 = seg.ack;
  ++l.accept_queue;
  conn(*c).enter_established();
  _counters.passive_opens.add();
  _counters.syncookies_valid.add();
  return c;
}

// RFC 9293 §3.10.7.4 fifth, SYN_RCVD: "If SND.UNA < SEG.ACK =< SND.NXT,
// then enter ESTABLISHED state", else a RST.
bool tcp_layer::complete_handshake(tcb& c, const wire::tcp_repr& seg,
                                   [[maybe_unused]] std::uint64_t now_ns) noexcept {
  if (!(c.snd_una < seg.ack && seg.ack <= c.snd_max)) {
    _control.rst(c.tuple, seg.ack, seq32{}, false);
    return false;
  }
  if (c.passive() && c.listener_slot != tcb::kNoListener) {
    listener& l = _listeners.at(c.listener_slot);
    // Linux's choice when the accept queue is full: ignore the ACK and
    // stay in SYN_RCVD; our SYN-ACK retransmission asks for it again.
    if (l.accept_queue >= _config.tcp.accept_queue_max) {
      _counters.accept_queue_overflow.add();
      return false;
    }
#ifndef NDEBUG
    // FreeBSD's self-check: the cookie this entry's SYN-ACK carried
    // decodes, as it would have with no entry.
    if (c.iss_is_cookie() && !_cookies.is_cookie(c.tuple, c.irs + 1, c.iss + 1, now_ns)) {
      _counters.syncookies_self_check_failed.add();
    }
#endif
    ++l.accept_queue;
    c.life = lifecycle::accept_queue;
  }
  conn(c).enter_established();
  // RFC 9293: "set SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK"
  c.snd_wl1 = seg.seq - 1;  // forces connection::receive_ack to take the window
  return true;
}

void tcp_layer::leave_accept_queue(tcb& c) noexcept {
  if (c.life != lifecycle::accept_queue) return;
  c.life = lifecycle::application;
  --_listeners.at(c.listener_slot).accept_queue;
}

void tcp_layer::reopen_time_wait(time_wait_record& r, const wire::ipv4_repr& ip,
                                 const wire::tcp_repr& syn, std::uint64_t now_ns) noexcept {
  listener* l = _demux.listener_for(ip, syn.dst_port);
  if (l == nullptr) {
    _time_wait.refuse_reopen(r, now_ns);
    return;
  }
  const four_tuple t = r.tuple;
  const seq32 old_snd_nxt = _time_wait.reopen(r);
  input_listen(*l, t, syn, nullptr, now_ns, old_snd_nxt, true);
}

}  // namespace kbt::tcp
