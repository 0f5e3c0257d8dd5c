// The ACK field of an arriving segment (RFC 9293 §3.10.7.4 fifth), once
// the handshake is over (a SYN_RCVD's own ACK is tcp_layer's: input.cc):
// the send window, RTT samples (RFC 6298, RFC 7323 §4), congestion control
// and loss recovery (RFC 5681, RFC 6582 NewReno, RFC 6675 SACK).
#include <algorithm>

#include "tcp/connection.hh"

namespace kbt::tcp {

using wire::tcp_flag::kFin;
using wire::tcp_flag::kSyn;

ack_outcome connection::receive_ack(const wire::tcp_repr& seg, base::instant now) noexcept {
  tcb& c = _c;
  // RFC 5961 §5.2: acceptable only in [SND.UNA - MAX.SND.WND, SND.NXT].
  // Beyond SND.NXT: "send an ACK, drop the segment" (RFC 9293 §3.10.7.4
  // fifth), within the connection's limit (RFC 5961 §7).
  if (seg.ack > c.snd_max) {
    send_invalid_ack(now);
    return ack_outcome::drop;
  }
  if (seg.ack < c.snd_una - std::max<std::uint32_t>(c.max_snd_wnd, 1)) {
    send_challenge_ack(now);
    return ack_outcome::drop;
  }

  const std::uint32_t old_wnd = c.snd_wnd;
  std::uint32_t newly_sacked = 0;
  if (c.snd_una < seg.ack) {
    take_new_ack(seg, now);
    if (c.sack_ok) newly_sacked = c.scoreboard.update(c.snd_una, c.snd_max, seg.options.sacks());
  } else if (seg.ack == c.snd_una) {
    if (c.sack_ok) newly_sacked = c.scoreboard.update(c.snd_una, c.snd_max, seg.options.sacks());
    // RFC 5681 §2 "duplicate acknowledgment": no data, no SYN/FIN, the
    // window unchanged, data outstanding (or, RFC 6675, new SACK news).
    // A closed window repeated is flow control, not a sign of loss.
    const bool dup = c.flight_size() > 0 && old_wnd > 0 && seg.payload_len == 0 && !seg.has(kSyn) &&
                     !seg.has(kFin) &&
                     ((std::uint32_t{seg.window} << c.snd_wscale) == old_wnd || newly_sacked > 0);
    if (dup) take_dup_ack(now);
  }
  update_send_window(seg);

  switch (c.state) {
    case tcp_state::fin_wait_1:
      if (c.fin_acked()) {
        set_state(tcp_state::fin_wait_2);
        if (!c.app_holds()) arm_orphan_timeout(now);
      }
      break;
    case tcp_state::closing:
      if (c.fin_acked()) return ack_outcome::time_wait;
      break;
    case tcp_state::last_ack:
      if (c.fin_acked()) return ack_outcome::closed;
      break;
    default:
      break;
  }
  return ack_outcome::go_on;
}

void connection::take_new_ack(const wire::tcp_repr& seg, base::instant now) noexcept {
  tcb& c = _c;
  const auto acked = static_cast<std::uint32_t>(seg.ack - c.snd_una);
  // RFC 7661: grow the window only while it is what limits the sender (as
  // Linux's tcp_is_cwnd_limited: half of it in slow start, nearly all after).
  const std::uint32_t flight = c.flight_size();
  const std::uint32_t cwnd = c.cc.cwnd();
  const bool cwnd_limited = c.cc.in_slow_start() ? 2 * std::uint64_t{flight} >= cwnd
                                                 : flight + effective_mss() >= cwnd;
  // The FIN occupies the sequence number after the data; the buffer holds data only.
  const std::uint32_t held = c.snd.segments();
  const std::uint32_t freed = c.snd.ack(c.fin_queued ? wire::seq_min(seg.ack, c.fin_seq) : seg.ack);
  account_snd(held);
  c.snd_una = seg.ack;
  if (c.snd_nxt < c.snd_una) c.snd_nxt = c.snd_una;

  // RTT: from the echoed timestamp (RFC 7323 §4.1, valid for retransmissions
  // too), else from the one timed segment (Karn: never a retransmitted one).
  const auto& ts = seg.options.timestamps;
  if (c.ts_ok && ts && ts->tsecr != 0) {
    const std::uint32_t ms = tsval(now) - ts->tsecr;
    if (ms < (1U << 30)) c.rtt.on_sample(std::max<std::uint64_t>(ms, 1) * kMs);
  } else if (c.rtt_timing && seg.ack > c.rtt_seq) {
    c.rtt.on_sample((now - c.rtt_start).count());
  }
  if (c.rtt_timing && seg.ack > c.rtt_seq) c.rtt_timing = false;
  // RFC 3522 §2: the first ACK of new data after a timeout (retries > 0)
  // echoes a TSval older than the retransmission's only if the original
  // arrived; then every expiry since (`retries`, backoffs included) was
  // needless.
  if (c.retries > 0 && c.ts_ok && ts && ts->tsecr != 0 &&
      static_cast<std::int32_t>(ts->tsecr - c.rto_retransmit_tsval) < 0) {
    _cx.counters.spurious_rtos.add(c.retries);
  }
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
      retransmit_first(now);
    }
  } else if (cwnd_limited) {
    c.cc.on_ack(acked, base::ns_since_start(now), c.rtt.srtt_ns());
  }
  c.dupacks = 0;
  if (c.high_rxt < c.snd_una) c.high_rxt = c.snd_una;

  // RFC 6298 §5.2/§5.3: all acknowledged stops the timer, otherwise restart it.
  if (c.snd_una == c.snd_max) {
    _cx.wheel.cancel(c.rto_timer());
  } else {
    arm_rto(now);
  }
  if (freed > 0) {
    c.acked_unreported += freed;
    notify(event::kAcked);
    if (can_send(c.state)) notify(event::kWritable);
  }
}

void connection::take_dup_ack(base::instant now) noexcept {
  tcb& c = _c;
  _cx.counters.dup_acks_in.add();
  if (c.in_recovery) {
    // RFC 6582 §3.2 step 4: inflate by one segment per duplicate ACK.
    if (!c.sack_ok) c.cc.on_recovery_dupack();
    return;
  }
  ++c.dupacks;
  const bool lost = c.dupacks >= sack_scoreboard::kDupThresh ||
                    (c.sack_ok && c.scoreboard.is_lost(c.snd_una, effective_mss()));
  // RFC 6582 §3.2 step 2: no new recovery while the last one's data is
  // still being acknowledged (avoids repeated window reductions).
  if (!lost || c.snd_una < c.recover) return;
  c.in_recovery = true;
  c.recover = c.snd_max;
  c.high_rxt = c.snd_una;
  c.cc.on_enter_recovery(c.flight_size(), base::ns_since_start(now),
                         c.sack_ok ? recovery_kind::sack : recovery_kind::newreno);
  _cx.counters.fast_retransmits.add();
  // RFC 6675 §5 step (4.2) / RFC 6582 §3.2 step 2: the first hole goes out
  // at once; with SACK, output() then follows NextSeg().
  retransmit_first(now);
  arm_rto(now);
}

// RFC 9293 §3.10.7.4 fifth: take the window from the newest segment only.
void connection::update_send_window(const wire::tcp_repr& seg) noexcept {
  tcb& c = _c;
  if (c.snd_wl1 < seg.seq || (c.snd_wl1 == seg.seq && c.snd_wl2 <= seg.ack)) {
    c.snd_wnd = std::uint32_t{seg.window} << c.snd_wscale;
    c.snd_wl1 = seg.seq;
    c.snd_wl2 = seg.ack;
    c.max_snd_wnd = std::max(c.max_snd_wnd, c.snd_wnd);
    if (c.snd_wnd > 0 && c.persist_timer().armed()) {
      _cx.wheel.cancel(c.persist_timer());
      c.persist_backoff = 0;
    }
  }
}

}  // namespace kbt::tcp
