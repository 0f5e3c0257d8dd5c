// Passive opens (RFC 9293 §3.10.7.2 LISTEN): what the listener's verdict
// opens (listener.hh), and a SYN that reopens a TIME_WAIT tuple.
#include "tcp/tcp_layer.hh"

namespace kbt::tcp {

void tcp_layer::input_listen(listening_port& p, const four_tuple& t, const wire::tcp_repr& seg,
                             rte_mbuf* payload, base::instant now,
                             std::optional<seq32> min_iss) noexcept {
  const listen_verdict v =
      _listener.on_segment(p, t, seg, now, _demux.connections().exhausted(), min_iss);
  if (v.open != passive_open::cookie) {
    // A SYN's data is dropped (listener.cc); the application learns of a
    // SYN-queue entry when it is established.
    rte_pktmbuf_free(payload);
    if (v.open == passive_open::none) return;
    tcb* c = open_tcb(t, lifecycle::handshake, v.iss, now);
    if (c == nullptr) return;  // counted as no_tcb
    _listener.adopt(*c, p, v.kind);
    _counters.passive_opens.add();
    conn(*c).open_from_syn(seg, now);
    return;
  }
  tcb* c = open_tcb(t, lifecycle::accept_queue, seg.ack - 1, now);
  if (c == nullptr) {  // counted as no_tcb
    rte_pktmbuf_free(payload);
    return;
  }
  _listener.adopt(*c, p, open_kind::passive);
  conn(*c).open_from_cookie(seg, v.grant, now);
  _counters.passive_opens.add();
  _counters.syncookies_valid.add();
  // Data (or a FIN) on the ACK that completes a cookie handshake is the
  // connection's first: process it as ESTABLISHED does.
  input_synchronized(*c, seg, payload, now);
  if (c->in_use() && c->state != tcp_state::closed) conn(*c).output(now);
}

void tcp_layer::reopen_time_wait(time_wait_record& r, const wire::ipv4_repr& ip,
                                 const wire::tcp_repr& syn, base::instant now) noexcept {
  listening_port* p = _demux.listener_for(ip, syn.dst_port);
  if (p == nullptr) {
    _demux.time_wait().refuse_reopen(r, now);
    return;
  }
  const four_tuple t = r.tuple;
  const seq32 old_snd_nxt = _demux.time_wait().reopen(r);
  input_listen(*p, t, syn, nullptr, now, old_snd_nxt);
}

}  // namespace kbt::tcp
