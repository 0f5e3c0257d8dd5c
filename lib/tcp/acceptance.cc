// Whether an arriving segment is acceptable to a synchronized connection
// (RFC 9293 §3.10.7.4 first: the sequence number, with PAWS, RFC 7323
// §5.3) and what its RST means (second, as RFC 5961 §3.2 narrows it).
#include "tcp/connection.hh"

namespace kbt::tcp {

using wire::tcp_flag::kRst;
using wire::tcp_flag::kSyn;

namespace {

// RFC 7323 §5.5: TS.Recent older than 24 days is no basis for PAWS.
constexpr base::nanos kPawsIdle = std::chrono::hours(24 * 24);

}  // namespace

// RFC 9293 §3.10.7.4 first, with PAWS (RFC 7323 §5.3) before it.
bool connection::check_sequence(const wire::tcp_repr& seg, base::instant now) noexcept {
  tcb& c = _c;
  const auto& ts = seg.options.timestamps;
  // RFC 7323 §3.2: once timestamps are agreed, "if a non-<RST> segment is
  // received without a TSopt, a TCP SHOULD silently drop the segment". Not
  // a SYN: its sender may have restarted and forgotten what was agreed, and
  // RFC 5961 §4 answers it with a challenge ACK whatever it carries.
  if (c.ts_ok && !ts && !seg.has(kRst) && !seg.has(kSyn)) {
    _cx.counters.timestamp_missing.add();
    return false;
  }
  if (c.ts_ok && ts && !seg.has(kRst)) {
    const bool stale = now - c.ts_recent_stamp > kPawsIdle;
    if (static_cast<std::int32_t>(ts->tsval - c.ts_recent) < 0 && !stale) {
      // R1: "send an acknowledgement in reply", within the connection's
      // limit (RFC 5961 §7): a retransmission carries a fresh TSval, so
      // nothing a live peer needs at once is rejected here. A SYN gets a
      // challenge ACK, as every SYN on a synchronized connection does.
      _cx.counters.paws_rejected.add();
      if (seg.has(kSyn)) {
        send_challenge_ack(now);
      } else {
        send_invalid_ack(now);
      }
      return false;
    }
  }
  const std::uint32_t wnd =
      c.rcv_adv > c.rcv_nxt ? static_cast<std::uint32_t>(c.rcv_adv - c.rcv_nxt) : 0;
  const std::uint32_t len = seg.seg_len();
  bool ok = false;
  if (len == 0) {
    ok = wnd == 0 ? seg.seq == c.rcv_nxt : wire::in_window(seg.seq, c.rcv_nxt, wnd);
  } else if (wnd > 0) {
    ok = wire::in_window(seg.seq, c.rcv_nxt, wnd) ||
         wire::in_window(seg.seq + len - 1, c.rcv_nxt, wnd);
  } else {
    // "special allowance should be made to accept valid ACKs, URGs, and
    // RSTs" with a zero window: process the control part, drop the text.
    ok = seg.seq == c.rcv_nxt;
  }
  if (!ok) {
    _cx.counters.out_of_window.add();
    if (!seg.has(kRst)) answer_out_of_window(seg, wnd, now);
    return false;
  }
  // RFC 7323 §4.3: update TS.Recent from a segment covering Last.ACK.sent.
  if (c.ts_ok && ts && seg.seq <= c.last_ack_sent &&
      c.last_ack_sent <= seg.seq + len) {
    c.ts_recent = ts->tsval;
    c.ts_recent_stamp = now;
  }
  return true;
}

// RFC 9293 §3.10.7.4 first: "If an incoming segment is not acceptable, an
// acknowledgment should be sent in reply". Most such segments are a blind
// attacker's guesses or an ACK loop, so the answer is limited per
// connection (RFC 5961 §7, send_invalid_ack); the two a live peer sends
// for a reason, and needs answered at once, are not. `wnd`: the receive
// window as check_sequence() judged the segment against it.
void connection::answer_out_of_window(const wire::tcp_repr& seg, std::uint32_t wnd,
                                      base::instant now) noexcept {
  const tcb& c = _c;
  // RFC 5961 §4.2: a SYN, "irrespective of the sequence number", gets a
  // challenge ACK, with the core's budget on top of the connection's.
  if (seg.has(kSyn)) {
    send_challenge_ack(now);
    return;
  }
  const std::uint32_t len = seg.seg_len();
  const seq32 end = seg.seq + len;
  // Old data (or FIN) whose end reaches the last ACK we sent: that ACK was
  // lost and the peer's retransmission timer sent the data again, so an
  // ACK now is what repairs the connection (Linux's rcv_wup rule in
  // tcp_sequence(): such a segment is in sequence, and its duplicate is
  // ACKed at once). To abuse this, a blind attacker would have to hit
  // that end exactly, which is as hard as guessing RCV.NXT.
  const bool ack_was_lost = len > 0 && end <= c.rcv_nxt && end >= c.last_ack_sent;
  // RFC 9293 §3.8.6.1: with a zero window "it must still send an
  // acknowledgment" to a probe, or the peer never learns that the window
  // opened. Linux and kbt probe one below RCV.NXT with no data (a probe
  // with a byte of old data is the case above). The window here is the one
  // the peer was told: what the field says once scaled down.
  const bool window_probe = len == 0 && seg.seq + 1 == c.rcv_nxt && (wnd >> c.rcv_wscale) == 0;
  if (ack_was_lost || window_probe) {
    send_ack(now);
    return;
  }
  send_invalid_ack(now);
}

// RFC 9293 §3.10.7.4 second, as RFC 5961 §3.2 narrows it.
rst_outcome connection::receive_rst(const wire::tcp_repr& seg) noexcept {
  if (seg.seq != _c.rcv_nxt) {
    // In the window but not exact: prove the sender sees our traffic.
    send_challenge_ack(_c.last_rx);
    return rst_outcome::challenged;
  }
  _cx.counters.rst_in.add();
  // A passive open's SYN_RCVD goes back to LISTEN: the listener never
  // handed this one out. An active one's (simultaneous open) was refused.
  if (_c.state == tcp_state::syn_rcvd) {
    return _c.passive() ? rst_outcome::to_listen : rst_outcome::refused;
  }
  return rst_outcome::reset;
}

}  // namespace kbt::tcp
