// The ACK field of an arriving segment (RFC 9293 §3.10.7.4 fifth): the
// send window, RTT samples (RFC 6298, RFC 7323 §4), congestion control and
// loss recovery (RFC 5681, RFC 6582 NewReno, RFC 6675 SACK).
#include <algorithm>

#include "tcp/tcp_layer.hh"

namespace kbt::tcp {

using wire::tcp_flag::kFin;
using wire::tcp_flag::kSyn;

bool tcp_layer::process_ack(tcb& c, const wire::tcp_repr& seg, std::uint64_t now_ns) noexcept {
  if (c.state == tcp_state::syn_rcvd) {
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
    enter_established(c);
    // RFC 9293: "set SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK"
    c.snd_wl1 = seg.seq - 1;  // forces the window update below
  }
  // RFC 5961 §5.2: acceptable only in [SND.UNA - MAX.SND.WND, SND.NXT].
  // Beyond SND.NXT: "send an ACK, drop the segment" (RFC 9293 §3.10.7.4
  // fifth), within the connection's limit (RFC 5961 §7).
  if (seg.ack > c.snd_max) {
    conn(c).send_invalid_ack(now_ns);
    return false;
  }
  if (seg.ack < c.snd_una - std::max<std::uint32_t>(c.max_snd_wnd, 1)) {
    conn(c).send_challenge_ack(now_ns);
    return false;
  }

  const std::uint32_t old_wnd = c.snd_wnd;
  std::uint32_t newly_sacked = 0;
  if (c.snd_una < seg.ack) {
    process_new_ack(c, seg, now_ns);
    if (c.sack_ok) newly_sacked = c.scoreboard.update(c.snd_una, c.snd_max, seg.options.sacks());
  } else if (seg.ack == c.snd_una) {
    if (c.sack_ok) newly_sacked = c.scoreboard.update(c.snd_una, c.snd_max, seg.options.sacks());
    // RFC 5681 §2 "duplicate acknowledgment": no data, no SYN/FIN, the
    // window unchanged, data outstanding (or, RFC 6675, new SACK news).
    // A closed window repeated is flow control, not a sign of loss.
    const bool dup = c.flight_size() > 0 && old_wnd > 0 && seg.payload_len == 0 && !seg.has(kSyn) &&
                     !seg.has(kFin) &&
                     ((std::uint32_t{seg.window} << c.snd_wscale) == old_wnd || newly_sacked > 0);
    if (dup) process_dup_ack(c, seg, now_ns);
  }
  update_send_window(c, seg);

  switch (c.state) {
    case tcp_state::fin_wait_1:
      if (c.fin_acked()) {
        conn(c).set_state(tcp_state::fin_wait_2);
        if (!c.app_holds()) conn(c).arm_orphan_timeout(now_ns);
      }
      break;
    case tcp_state::closing:
      if (c.fin_acked()) {
        enter_time_wait(c, now_ns);
        return false;
      }
      break;
    case tcp_state::last_ack:
      if (c.fin_acked()) {
        report_closed(c, close_reason::normal);
        to_closed(c);
        return false;
      }
      break;
    default:
      break;
  }
  return true;
}

void tcp_layer::process_new_ack(tcb& c, const wire::tcp_repr& seg, std::uint64_t now_ns) noexcept {
  const auto acked = static_cast<std::uint32_t>(seg.ack - c.snd_una);
  // RFC 7661: grow the window only while it is what limits the sender (as
  // Linux's tcp_is_cwnd_limited: half of it in slow start, nearly all after).
  const std::uint32_t flight = c.flight_size();
  const std::uint32_t cwnd = c.cc.cwnd();
  const bool cwnd_limited = c.cc.in_slow_start() ? 2 * std::uint64_t{flight} >= cwnd
                                                 : flight + conn(c).effective_mss() >= cwnd;
  // The FIN occupies the sequence number after the data; the buffer holds data only.
  const std::uint32_t held = c.snd.segments();
  const std::uint32_t freed = c.snd.ack(c.fin_queued ? wire::seq_min(seg.ack, c.fin_seq) : seg.ack);
  account_snd(c, held);
  c.snd_una = seg.ack;
  if (c.snd_nxt < c.snd_una) c.snd_nxt = c.snd_una;

  // RTT: from the echoed timestamp (RFC 7323 §4.1, valid for retransmissions
  // too), else from the one timed segment (Karn: never a retransmitted one).
  const auto& ts = seg.options.timestamps;
  if (c.ts_ok && ts && ts->tsecr != 0) {
    const std::uint32_t ms = conn(c).tsval(now_ns) - ts->tsecr;
    if (ms < (1U << 30)) c.rtt.on_sample(std::max<std::uint64_t>(ms, 1) * kMs);
  } else if (c.rtt_timing && seg.ack > c.rtt_seq) {
    c.rtt.on_sample(now_ns - c.rtt_start_ns);
  }
  if (c.rtt_timing && seg.ack > c.rtt_seq) c.rtt_timing = false;
  c.retries = 0;
  c.persist_backoff = 0;

  if (c.in_recovery) {
    if (seg.ack >= c.recover) {
      // RFC 6582 §3.2 step 3 / RFC 6675 §5: a full ACK ends recovery.
      c.in_recovery = false;
      c.cc.on_exit_recovery(c.flight_size());
    } else if (!c.sack_ok) {
      // RFC 6582 §3.2 step 5: a partial ACK; the next hole is lost too.
      c.cc.on_partial_ack(acked);
      conn(c).retransmit_first(now_ns);
    }
  } else if (cwnd_limited) {
    c.cc.on_ack(acked, now_ns, c.rtt.srtt_ns());
  }
  c.dupacks = 0;
  if (c.high_rxt < c.snd_una) c.high_rxt = c.snd_una;

  // RFC 6298 §5.2/§5.3: all acknowledged stops the timer, otherwise restart it.
  if (c.snd_una == c.snd_max) {
    _wheel.cancel(c.rto_timer());
  } else {
    conn(c).arm_rto(now_ns);
  }
  if (freed > 0) {
    c.acked_unreported += freed;
    notify(c, event::kAcked);
    if (can_send(c.state)) notify(c, event::kWritable);
  }
}

void tcp_layer::process_dup_ack(tcb& c, const wire::tcp_repr& seg, std::uint64_t now_ns) noexcept {
  (void)seg;
  _counters.dup_acks_in.add();
  if (c.in_recovery) {
    // RFC 6582 §3.2 step 4: inflate by one segment per duplicate ACK.
    if (!c.sack_ok) c.cc.on_recovery_dupack();
    return;
  }
  ++c.dupacks;
  const bool lost = c.dupacks >= sack_scoreboard::kDupThresh ||
                    (c.sack_ok && c.scoreboard.is_lost(c.snd_una, conn(c).effective_mss()));
  // RFC 6582 §3.2 step 2: no new recovery while the last one's data is
  // still being acknowledged (avoids repeated window reductions).
  if (!lost || c.snd_una < c.recover) return;
  c.in_recovery = true;
  c.recover = c.snd_max;
  c.high_rxt = c.snd_una;
  c.cc.on_enter_recovery(c.flight_size(), now_ns,
                         c.sack_ok ? recovery_kind::sack : recovery_kind::newreno);
  _counters.fast_retransmits.add();
  // RFC 6675 §5 step (4.2) / RFC 6582 §3.2 step 2: the first hole goes out
  // at once; with SACK, output() then follows NextSeg().
  conn(c).retransmit_first(now_ns);
  conn(c).arm_rto(now_ns);
}

// RFC 9293 §3.10.7.4 fifth: take the window from the newest segment only.
void tcp_layer::update_send_window(tcb& c, const wire::tcp_repr& seg) noexcept {
  if (c.snd_wl1 < seg.seq || (c.snd_wl1 == seg.seq && c.snd_wl2 <= seg.ack)) {
    c.snd_wnd = std::uint32_t{seg.window} << c.snd_wscale;
    c.snd_wl1 = seg.seq;
    c.snd_wl2 = seg.ack;
    c.max_snd_wnd = std::max(c.max_snd_wnd, c.snd_wnd);
    if (c.snd_wnd > 0 && c.persist_timer().armed()) {
      _wheel.cancel(c.persist_timer());
      c.persist_backoff = 0;
    }
  }
}

}  // namespace kbt::tcp
