// LISTEN (RFC 9293 §3.10.7.2) with the two queues of a listening port and
// SYN cookies (RFC 4987 §3.6, tcp/cookie_handshake.hh). A SYN takes a
// SYN-queue entry (a TCB in SYN_RCVD) while the queue has room; past that,
// or for every SYN in `always` mode, the SYN-ACK carries a cookie and
// nothing is kept until a valid ACK comes back. Established passive opens
// wait in the accept queue until the application is told of them.
#include "tcp/listener.hh"

namespace kbt::tcp {

using wire::seq32;
using wire::tcp_flag::kAck;
using wire::tcp_flag::kFin;
using wire::tcp_flag::kRst;
using wire::tcp_flag::kSyn;

listen_verdict listener::on_segment(const listening_port& p, const four_tuple& t,
                                    const wire::tcp_repr& seg, base::instant now,
                                    bool pool_full, std::optional<seq32> min_iss) noexcept {
  if (seg.has(kRst)) return {};
  // RFC 9293 §3.10.7.2 second check: any ACK-bearing segment is bad in
  // LISTEN and gets <SEQ=SEG.ACK><CTL=RST>, a SYN-ACK too (backscatter of
  // someone else's flood must not take SYN-queue entries); only a plain
  // ACK may first complete a cookie handshake.
  if (seg.has(kAck)) {
    if (!seg.has(kSyn) && _cookies.checks_ack(now)) return on_cookie_ack(p, t, seg, now);
    _out.rst(t, seg.ack, seq32{}, false);
    return {};
  }
  // RFC 9293 §3.10.7.2 lets a SYN's data be queued; we drop it and the
  // peer sends it again after the handshake. SYN+FIN is a scanner's probe,
  // not an open: dropped, as Linux does.
  if (!seg.has(kSyn) || seg.has(kFin)) return {};
  return on_syn(p, t, seg, now, pool_full, min_iss);
}

listen_verdict listener::on_syn(const listening_port& p, const four_tuple& t,
                                const wire::tcp_repr& syn, base::instant now, bool pool_full,
                                std::optional<seq32> min_iss) noexcept {
  const bool queue_full = _ports.syn_queue(p) >= _config.syn_queue_max;
  if (_cookies.answers_syn(queue_full, pool_full)) {
    _cookies.send_synack(t, syn, _isn.ts_offset(t), now);
    return {};
  }
  if (queue_full) {
    _counters.syn_queue_overflow.add();
    return {};
  }
  listen_verdict v;
  v.open = passive_open::syn_entry;
  if (_config.syncookies != syncookies_mode::never) {
    // As FreeBSD's syncache: the entry's ISS is the cookie too, so the
    // handshake completes even if the entry is dropped, and debug builds
    // check every such ISS decodes (enter_accept_queue).
    v.iss = _cookies.entry_iss(t, syn, now);
    v.kind = open_kind::passive_cookie_iss;
  } else {
    // RFC 6528 §3's M counts from boot, as for every open.
    v.iss = _isn.generate(t, _ts.since_boot(now));
  }
  // RFC 1122 §4.2.2.13 / RFC 6191: a SYN that reopens a TIME_WAIT tuple
  // must start above everything the old incarnation sent.
  if (min_iss && v.iss <= *min_iss) {
    v.iss = *min_iss + 65536;
    v.kind = open_kind::passive;
  }
  return v;
}

// A plain ACK in LISTEN with a valid cookie: the connection starts
// ESTABLISHED (RFC 4987 §3.6), rebuilt from the cookie and the echoed
// timestamp. Nothing to open (counted) when the cookie is not ours or the
// accept queue is full.
listen_verdict listener::on_cookie_ack(const listening_port& p, const four_tuple& t,
                                       const wire::tcp_repr& ack, base::instant now) noexcept {
  const auto mss = _cookies.check_ack(t, ack, now);
  if (!mss) return {};
  if (p.accept_queue >= _config.accept_queue_max) {
    _counters.accept_queue_overflow.add();
    return {};
  }
  const auto grant = _cookies.grant(ack, *mss);
  if (!grant) return {};
  listen_verdict v;
  v.open = passive_open::cookie;
  v.grant = *grant;
  return v;
}

void listener::adopt(tcb& c, listening_port& p, open_kind kind) noexcept {
  c.opened = kind;
  c.listener_slot = _ports.slot_of(p);
  if (c.life == lifecycle::accept_queue) ++p.accept_queue;
}

bool listener::enter_accept_queue(tcb& c, [[maybe_unused]] base::instant now) noexcept {
  if (c.listener_slot == tcb::kNoListener) return true;
  listening_port& p = _ports.at(c.listener_slot);
  // Linux's choice when the accept queue is full: ignore the ACK and stay
  // in SYN_RCVD; our SYN-ACK retransmission asks for it again.
  if (p.accept_queue >= _config.accept_queue_max) {
    _counters.accept_queue_overflow.add();
    return false;
  }
#ifndef NDEBUG
  // FreeBSD's self-check: the cookie this entry's SYN-ACK carried decodes,
  // as it would have with no entry.
  if (c.iss_is_cookie() && !_cookies.is_cookie(c.tuple, c.irs + 1, c.iss + 1, now)) {
    _counters.syncookies_self_check_failed.add();
  }
#endif
  ++p.accept_queue;
  c.life = lifecycle::accept_queue;
  return true;
}

void listener::leave_accept_queue(tcb& c) noexcept {
  if (c.life != lifecycle::accept_queue) return;
  c.life = lifecycle::application;
  --_ports.at(c.listener_slot).accept_queue;
}

}  // namespace kbt::tcp
