// TIME_WAIT (RFC 9293 §3.10.7.4 and §3.6) kept as a compact record rather
// than a TCB: the TCB goes back to the pool when the connection enters
// TIME_WAIT, and what the protocol still needs for 2MSL (the sequence
// numbers to re-ACK a FIN, the timestamps for PAWS and RFC 6191) fits in
// time_wait_record.
#include "tcp/tcp_layer.hh"

namespace kbt::tcp {

using wire::tcp_flag::kAck;
using wire::tcp_flag::kFin;
using wire::tcp_flag::kRst;
using wire::tcp_flag::kSyn;

namespace {
constexpr auto kTimeWait = static_cast<std::size_t>(tcp_state::time_wait);

// RFC 6191 §2: a SYN may reopen a tuple in TIME_WAIT only if it is provably
// newer than the old incarnation. `ts_enabled`: the new incarnation would
// use timestamps (we offer them and the SYN carries them). "Greater than
// the last sequence number seen" is taken as above RCV.NXT, as Linux's
// tcp_timewait_state_process() does.
bool syn_reopens(const time_wait_record& r, const wire::tcp_repr& syn, bool ts_enabled) noexcept {
  const bool seq_newer = syn.seq > r.rcv_nxt;
  // The old incarnation had no timestamps: a SYN with them is new, one
  // without is judged by its sequence number.
  if (!r.ts_ok) return ts_enabled || seq_newer;
  if (!ts_enabled) return seq_newer;
  // A higher TSval; or the same one (the peer's clock has not ticked since
  // its last segment) and a higher sequence number.
  const auto d = static_cast<std::int32_t>(syn.options.timestamps->tsval - r.ts_recent);
  return d > 0 || (d == 0 && seq_newer);
}

}  // namespace

void tcp_layer::enter_time_wait(tcb& c, std::uint64_t now_ns) noexcept {
  // The ACK of the peer's FIN goes now: the TCB will not be there for the
  // output that follows input.
  if (c.ack_now) send_ack(c, now_ns);
  time_wait_record r;
  r.tuple = c.tuple;
  r.snd_nxt = c.snd_max;  // just past our FIN
  r.rcv_nxt = c.rcv_nxt;  // just past theirs
  r.ts_recent = c.ts_recent;
  r.ts_offset = c.ts_offset;
  r.window = advertised_window(c);
  r.ts_ok = c.ts_ok;
  // The same connection: its limit on invalid-segment ACKs goes on.
  r.last_invalid_ack_ms = c.last_invalid_ack_ms;
  r.port_from_pool = c.holds_pool_port;
  report_closed(c, close_reason::normal);
  // RFC 9293 §3.6: 2 MSL before the tuple may be used again. When the
  // table is full the connection skips TIME_WAIT, as Linux does past
  // tcp_max_tw_buckets: counted, since it gives up the protection.
  if (_time_wait.insert(r, now_ns) != nullptr) {
    c.holds_pool_port = false;  // the record gives the port back on expiry
    _counters.states[kTimeWait].add();
  } else {
    _counters.time_wait_overflow.add();
  }
  to_closed(c);
}

// What a record holds outside the table: its place in the state gauge
// and, for an active open, its source port.
void tcp_layer::forget_time_wait(const time_wait_record& r) noexcept {
  _counters.states[kTimeWait].sub();
  if (r.port_from_pool) give_back_port(r.tuple.local_ip, r.tuple.local_port);
}

void tcp_layer::end_time_wait(time_wait_record& r) noexcept {
  forget_time_wait(r);
  _time_wait.erase(r);
}

void tcp_layer::expire_time_wait(std::uint64_t now_ns) noexcept {
  _time_wait.expire(now_ns, kTimeWaitExpiryBatch,
                    [this](const time_wait_record& r) { forget_time_wait(r); });
}

void tcp_layer::send_time_wait_ack(const time_wait_record& r, std::uint64_t now_ns) noexcept {
  wire::tcp_options o;
  if (r.ts_ok) {
    o.timestamps = wire::tcp_timestamps{_ts.tsval(now_ns, r.ts_offset), r.ts_recent};
  }
  send_control(r.tuple, r.snd_nxt, r.rcv_nxt, kAck, r.window, o);
}

// RFC 5961 §7 per record, as Linux's tcp_timewait_check_oow_rate_limit():
// a flood of segments at a tuple in TIME_WAIT draws two ACKs a second.
void tcp_layer::answer_time_wait_invalid(time_wait_record& r, std::uint64_t now_ns) noexcept {
  if (may_answer_invalid(r.last_invalid_ack_ms, now_ns, _counters.invalid_acks_suppressed)) {
    send_time_wait_ack(r, now_ns);
  }
}

void tcp_layer::input_time_wait(time_wait_record& r, const wire::ipv4_repr& ip,
                                const wire::tcp_repr& seg, rte_mbuf* payload,
                                std::uint64_t now_ns) noexcept {
  rte_pktmbuf_free(payload);  // nothing can be delivered any more
  if (seg.has(kRst)) {
    // RFC 1337: a RST must not cut TIME_WAIT short (TIME-WAIT assassination).
    if (!_config.tcp.time_wait_honours_rst) {
      _counters.time_wait_rst_ignored.add();
      return;
    }
    _counters.time_wait_rst_honoured.add();
    end_time_wait(r);
    return;
  }
  const auto& ts = seg.options.timestamps;
  if (seg.has(kSyn) && !seg.has(kAck)) {
    // RFC 6191 §2: a new SYN that is not provably newer is silently dropped.
    if (!syn_reopens(r, seg, _config.tcp.timestamps && ts.has_value())) {
      _counters.time_wait_syn_dropped.add();
      return;
    }
    listener* l = ip.dst == _config.local_ip ? _listeners.find(seg.dst_port) : nullptr;
    if (l == nullptr) {
      // Nobody to take it: as for a SYN on a synchronized connection
      // (RFC 5961 §4), say where we are, within the record's limit.
      answer_time_wait_invalid(r, now_ns);
      return;
    }
    const four_tuple t = r.tuple;
    const seq32 old_snd_nxt = r.snd_nxt;
    _counters.time_wait_reused.add();
    end_time_wait(r);
    input_listen(*l, t, seg, nullptr, now_ns, old_snd_nxt, true);
    return;
  }
  // "The only thing that can arrive in this state is a retransmission of
  // the remote FIN. Acknowledge it, and restart the 2 MSL timeout." Always:
  // the peer's retransmission says our last ACK was lost, and it sits in
  // LAST_ACK until one arrives (no limit, unlike Linux, which lets
  // tcp_timewait_check_oow_rate_limit() hold this one back too).
  if (seg.has(kFin) && seg.seq + seg.seg_len() == r.rcv_nxt) {
    send_time_wait_ack(r, now_ns);
    _time_wait.restart(r, now_ns);
    return;
  }
  // RFC 7323 §5.3: an old timestamp is a duplicate from the past; ACK it
  // (within the record's limit, RFC 5961 §7).
  if (r.ts_ok && ts.has_value() && static_cast<std::int32_t>(ts->tsval - r.ts_recent) < 0) {
    _counters.paws_rejected.add();
    answer_time_wait_invalid(r, now_ns);
    return;
  }
  // RFC 9293 §3.10.7.4 first: an unacceptable segment gets an ACK (within
  // the record's limit); a bare ACK at RCV.NXT (the peer's answer to ours)
  // gets nothing, or two hosts would ACK each other forever.
  if (seg.seg_len() > 0 || seg.seq != r.rcv_nxt) {
    _counters.out_of_window.add();
    answer_time_wait_invalid(r, now_ns);
  }
}

}  // namespace kbt::tcp
