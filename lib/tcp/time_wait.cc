// The keeper of connections in TIME_WAIT (tcp/time_wait.hh).
#include "tcp/time_wait.hh"

#include <algorithm>

#include "tcp/invalid_ack_limit.hh"

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

time_wait_keeper::time_wait_keeper(const tcp_config& config, control_sender& out,
                                   const ts_clock& ts, source_ports& ports,
                                   tcp_counters& counters)
    : _config(config),
      _out(out),
      _ts(ts),
      _ports(ports),
      _counters(counters),
      _table(std::max<std::uint32_t>(1, config.max_time_wait), 2 * config.msl) {}

// RFC 9293 §3.6: 2 MSL before the tuple may be used again.
bool time_wait_keeper::enter(const time_wait_record& r, base::instant now) noexcept {
  if (_table.insert(r, now) == nullptr) {
    _counters.time_wait_overflow.add();
    return false;
  }
  _counters.states[kTimeWait].add();
  return true;
}

// What a record holds outside the table: its place in the state gauge
// and, for an active open, its source port.
void time_wait_keeper::forget(const time_wait_record& r) noexcept {
  _counters.states[kTimeWait].sub();
  if (r.port_from_pool) _ports.give_back(r.tuple.local_ip, r.tuple.local_port);
}

void time_wait_keeper::end(time_wait_record& r) noexcept {
  forget(r);
  _table.erase(r);
}

wire::seq32 time_wait_keeper::reopen(time_wait_record& r) noexcept {
  const wire::seq32 old_snd_nxt = r.snd_nxt;
  _counters.time_wait_reused.add();
  end(r);
  return old_snd_nxt;
}

void time_wait_keeper::expire(base::instant now) noexcept {
  _table.expire(now, kExpiryBatch, [this](const time_wait_record& r) { forget(r); });
}

void time_wait_keeper::send_ack(const time_wait_record& r, base::instant now) noexcept {
  wire::tcp_options o;
  if (r.ts_ok) {
    o.timestamps = wire::tcp_timestamps{_ts.tsval(now, r.ts_offset), r.ts_recent};
  }
  _out.send(r.tuple, r.snd_nxt, r.rcv_nxt, kAck, r.window, o);
}

// RFC 5961 §7 per record, as Linux's tcp_timewait_check_oow_rate_limit():
// a flood of segments at a tuple in TIME_WAIT draws two ACKs a second.
void time_wait_keeper::answer_invalid(time_wait_record& r, base::instant now) noexcept {
  if (may_answer_invalid(r.last_invalid_ack_ms, now, _config.invalid_ack_interval,
                         _counters.invalid_acks_suppressed)) {
    send_ack(r, now);
  }
}

void time_wait_keeper::refuse_reopen(time_wait_record& r, base::instant now) noexcept {
  answer_invalid(r, now);
}

time_wait_verdict time_wait_keeper::input(time_wait_record& r, const wire::tcp_repr& seg,
                                          rte_mbuf* payload, base::instant now) noexcept {
  rte_pktmbuf_free(payload);  // nothing can be delivered any more
  if (seg.has(kRst)) {
    // RFC 1337: a RST must not cut TIME_WAIT short (TIME-WAIT assassination).
    if (!_config.time_wait_honours_rst) {
      _counters.time_wait_rst_ignored.add();
      return time_wait_verdict::done;
    }
    _counters.time_wait_rst_honoured.add();
    end(r);
    return time_wait_verdict::done;
  }
  const auto& ts = seg.options.timestamps;
  if (seg.has(kSyn) && !seg.has(kAck)) {
    // RFC 6191 §2: a new SYN that is not provably newer is silently dropped.
    if (!syn_reopens(r, seg, _config.timestamps && ts.has_value())) {
      _counters.time_wait_syn_dropped.add();
      return time_wait_verdict::done;
    }
    return time_wait_verdict::syn_may_reopen;
  }
  // "The only thing that can arrive in this state is a retransmission of
  // the remote FIN. Acknowledge it, and restart the 2 MSL timeout." Always:
  // the peer's retransmission says our last ACK was lost, and it sits in
  // LAST_ACK until one arrives (no limit, unlike Linux, which lets
  // tcp_timewait_check_oow_rate_limit() hold this one back too).
  if (seg.has(kFin) && seg.seq + seg.seg_len() == r.rcv_nxt) {
    send_ack(r, now);
    _table.restart(r, now);
    return time_wait_verdict::done;
  }
  // RFC 7323 §5.3: an old timestamp is a duplicate from the past; ACK it
  // (within the record's limit, RFC 5961 §7).
  if (r.ts_ok && ts.has_value() && static_cast<std::int32_t>(ts->tsval - r.ts_recent) < 0) {
    _counters.paws_rejected.add();
    answer_invalid(r, now);
    return time_wait_verdict::done;
  }
  // RFC 9293 §3.10.7.4 first: an unacceptable segment gets an ACK (within
  // the record's limit); a bare ACK at RCV.NXT (the peer's answer to ours)
  // gets nothing, or two hosts would ACK each other forever.
  if (seg.seg_len() > 0 || seg.seq != r.rcv_nxt) {
    _counters.out_of_window.add();
    answer_invalid(r, now);
  }
  return time_wait_verdict::done;
}

}  // namespace kbt::tcp
