// Segments out: data within min(cwnd, SND.WND) cut to the effective MSS,
// Nagle (RFC 9293 §3.7.4), sender and receiver silly-window avoidance
// (§3.8.6.2), options (RFC 7323, RFC 2018), ACKs, RSTs and SYNs. Payload is
// never copied: each data segment is a header mbuf chained to indirect mbufs
// that reference the send buffer.
#include <algorithm>
#include <array>

#include "tcp/invalid_ack_limit.hh"
#include "tcp/syn_cookie.hh"
#include "tcp/tcp_layer.hh"

namespace kbt::tcp {

using wire::tcp_flag::kAck;
using wire::tcp_flag::kFin;
using wire::tcp_flag::kPsh;
using wire::tcp_flag::kRst;
using wire::tcp_flag::kSyn;

namespace {

// RFC 7323 §3.2: the timestamps option as laid out beside NOPs: 12 bytes.
constexpr std::uint32_t kTsOptionSpace = 12;

}  // namespace

std::uint32_t tcp_layer::effective_mss(const tcb& c) const noexcept {
  return c.snd_mss - (c.ts_ok ? kTsOptionSpace : 0);
}

// Payload room of a data segment sent now: SACK blocks ride on data segments
// too, and the packet must still fit the path MTU (RFC 9293 §3.7.1: the MSS
// counts options against the payload).
std::uint32_t tcp_layer::data_mss(const tcb& c) const noexcept {
  std::uint32_t mss = effective_mss(c);
  if (c.sack_ok && c.out_of_order.runs() > 0) {
    const std::uint32_t blocks = std::min<std::uint32_t>(c.out_of_order.runs(), c.ts_ok ? 3 : 4);
    mss -= 4 + 8 * blocks;  // NOP, NOP, kind, length, then 8 bytes a block
  }
  return mss;
}

// The window field of a non-SYN segment, with receiver-side silly window
// avoidance (RFC 9293 §3.8.6.2.2): the right edge moves only by at least
// min(buffer / 2, MSS), and never moves left (§3.8.6.2.2 "shrinking").
// rcv_adv is the edge the field really tells the peer: a window beyond
// 65535 << scale, or not a multiple of 1 << scale, is cut to what the field
// can say, and check_sequence() accepts data up to that edge only
// (RFC 9293 §3.10.7.4). An edge told earlier stays (never moves left).
std::uint16_t tcp_layer::advertised_window(tcb& c) noexcept {
  const seq32 right = c.rcv_nxt + receive_space(c);
  const std::uint32_t step = std::min<std::uint32_t>(c.rcv_buffer / 2, c.snd_mss);
  seq32 edge = c.rcv_adv < c.rcv_nxt ? c.rcv_nxt : c.rcv_adv;
  if (right > edge && static_cast<std::uint32_t>(right - edge) >= step) edge = right;
  const auto wnd = static_cast<std::uint32_t>(edge - c.rcv_nxt);
  const auto field = static_cast<std::uint16_t>(std::min<std::uint32_t>(wnd >> c.rcv_wscale, 0xffff));
  const seq32 told = c.rcv_nxt + (std::uint32_t{field} << c.rcv_wscale);
  if (told > c.rcv_adv || c.rcv_adv < c.rcv_nxt) c.rcv_adv = told;
  return field;
}

void tcp_layer::enqueue(rte_mbuf* m, wire::ipv4_addr dst) noexcept {
  if (!_out.push(m, dst)) _counters.tx_dropped.add();
}

void tcp_layer::flush() noexcept { _out.flush(); }

void tcp_layer::defer(tcb& c) noexcept {
  if (!tcb_list<&tcb::deferred>::contains(c)) _counters.tx_deferred.add();
  _deferred.push_back(c);
}

// Oldest first, while the transmit queue has room; a connection that fills
// it again goes back to the end of the list.
void tcp_layer::run_deferred(std::uint64_t now_ns) noexcept {
  while (!_syn_waiting.empty() && _out.syn_allowed() && _out.room_left()) {
    tcb& c = *_syn_waiting.front();
    _syn_waiting.remove(c);
    send_syn(c, now_ns);
  }
  for (std::size_t n = _conns.live(); n > 0 && _out.room_left() && !_deferred.empty(); --n) {
    tcb& c = *_deferred.front();
    _deferred.remove(c);
    if (c.owes_rst) {
      _control.rst(c.tuple, c.snd_nxt, seq32{}, false);
      c.owes_rst = false;
      reap(c);
    } else if (c.state == tcp_state::syn_sent || c.state == tcp_state::syn_rcvd) {
      send_syn(c, now_ns);
    } else if (c.state != tcp_state::closed) {
      output(c, now_ns);
    }
  }
}

// Builds and queues one segment of `len` bytes from the send buffer at
// `seq` (0 for control segments). Returns false when out of mbufs or of
// tx room (then the connection's output runs again later).
bool tcp_layer::send_segment(tcb& c, seq32 seq, std::uint32_t len, std::uint8_t flags,
                             std::uint64_t now_ns) noexcept {
  // A full out queue the owner cannot take now counts as no room: this
  // segment waits with its connection rather than being dropped.
  if (!_out.has_room()) {
    // A bare ACK (delayed, a window update, a probe) is owed still: output()
    // sends it when the connection's turn comes (run_deferred).
    if ((flags & (kSyn | kFin | kRst)) == 0 && len == 0) c.ack_now = true;
    defer(c);
    return false;
  }
  rte_mbuf* payload = nullptr;
  if (len > 0) {
    payload = c.snd.make_segment(seq, len, _config.pool);
    if (payload == nullptr) {
      _counters.no_mbuf.add();
      return false;
    }
  }
  wire::tcp_repr r;
  r.src_port = c.tuple.local_port;
  r.dst_port = c.tuple.remote_port;
  r.seq = seq;
  r.flags = flags;
  const bool syn = (flags & kSyn) != 0;
  if (syn) {
    // RFC 7323 §2.2: the window in a SYN is not scaled.
    r.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(receive_space(c), 0xffff));
    c.rcv_adv = c.rcv_nxt + r.window;
    r.options.mss = _config.tcp.mss;
    const bool active = (flags & kAck) == 0;
    if (active ? _config.tcp.window_scaling : c.ws_ok) r.options.window_scale = c.rcv_wscale;
    r.options.sack_permitted = active ? _config.tcp.sack : c.sack_ok;
    if (active ? _config.tcp.timestamps : c.ts_ok) {
      std::uint32_t tsval = tsval_of(c, now_ns);
      // A SYN-queue entry whose ISS is a cookie also carries the cookie's
      // options in its TSval, as cookie_handshake::send_synack() does:
      // should the entry be evicted (evict_embryonic), the peer's ACK
      // rebuilds it in full.
      if (!active && c.iss_is_cookie()) {
        tsval = syn_cookie_jar::encode_ts(
            tsval, c.ws_ok ? std::optional<std::uint8_t>(c.snd_wscale) : std::nullopt, c.sack_ok);
      }
      r.options.timestamps = wire::tcp_timestamps{tsval, active ? 0 : c.ts_recent};
    }
  } else {
    r.window = (flags & kRst) != 0 ? 0 : advertised_window(c);
    if (c.ts_ok) r.options.timestamps = wire::tcp_timestamps{tsval_of(c, now_ns), c.ts_recent};
    if (c.sack_ok && (flags & kAck) != 0 && !c.out_of_order.empty()) {
      std::array<wire::sack_block, wire::kTcpMaxSackBlocks> blocks;
      // RFC 2018 §3: 3 blocks fit beside timestamps, 4 without.
      const std::size_t n = c.out_of_order.sack_blocks(std::span(blocks).first(c.ts_ok ? 3 : 4));
      std::copy_n(blocks.begin(), n, r.options.sack_blocks.begin());
      r.options.sack_count = static_cast<std::uint8_t>(n);
    }
  }
  if ((flags & kAck) != 0) {
    r.ack = c.rcv_nxt;
    c.last_ack_sent = c.rcv_nxt;
    c.ack_now = false;
    c.unacked_segs = 0;
    _wheel.cancel(c.delack_timer());
  }

  const std::uint32_t plen = payload != nullptr ? rte_pktmbuf_pkt_len(payload) : 0;
  rte_mbuf* h = _builder.build(c.tuple, r, payload);
  if (h == nullptr) {
    _counters.no_mbuf.add();
    return false;
  }
  // SND.MAX is the highest sequence number ever sent, whichever path sent
  // it: a retransmission cut to a larger MSS than the original may carry
  // bytes never sent before, and their ACK must be acceptable.
  const seq32 end = seq + plen + ((flags & (kSyn | kFin)) != 0 ? 1 : 0);
  if (c.snd_max < end) c.snd_max = end;
  _counters.segs_out.add();
  if ((flags & kRst) != 0) _counters.rst_out.add();
  c.last_send_ns = now_ns;
  enqueue(h, c.tuple.remote_ip);
  return true;
}

// A bare ACK carries SND.MAX, not SND.NXT: after an RTO pulls SND.NXT back
// for retransmission, an ACK numbered below what the peer already has would
// fail its acceptability test and the ACK in it would never be read (as
// FreeBSD's tcp_output notes for the same reason).
void tcp_layer::send_ack(tcb& c, std::uint64_t now_ns) noexcept {
  // SND.MAX, unless it lies past the peer's window (a peer that shrank its
  // window): then the right edge, which a peer with a shut window takes as
  // its RCV.NXT. Numbered past it, our ACKs would fail its acceptability
  // test (RFC 9293 §3.10.7.4) and it would never see its FIN acknowledged
  // (Linux's tcp_acceptable_seq does the same).
  const seq32 edge = c.snd_una + c.snd_wnd;
  send_segment(c, c.snd_max <= edge ? c.snd_max : edge, 0, kAck, now_ns);
}

void tcp_layer::send_invalid_ack(tcb& c, std::uint64_t now_ns) noexcept {
  if (may_answer_invalid(c.last_invalid_ack_ms, now_ns, _config.tcp.invalid_ack_interval_ns,
                         _counters.invalid_acks_suppressed)) {
    send_ack(c, now_ns);
  }
}

// RFC 5961 §7 challenge ACKs, in Linux's order (tcp_send_challenge_ack):
// first the connection's own limit, which it shares with the other
// answers to invalid segments, so that one connection under attack does
// not spend the core's budget; then the core's budget for this second,
// whose size is random (challenge_budget.hh: CVE-2016-5696).
void tcp_layer::send_challenge_ack(tcb& c, std::uint64_t now_ns) noexcept {
  if (!may_answer_invalid(c.last_invalid_ack_ms, now_ns, _config.tcp.invalid_ack_interval_ns,
                          _counters.challenge_acks_conn_limited)) {
    return;
  }
  if (!_challenge_budget.take(now_ns)) {
    _counters.challenge_acks_suppressed.add();
    return;
  }
  _counters.challenge_acks.add();
  send_ack(c, now_ns);
}

// SYN (SYN_SENT) or SYN-ACK (SYN_RCVD), first time or again.
void tcp_layer::send_syn(tcb& c, std::uint64_t now_ns) noexcept {
  const std::uint8_t flags = c.state == tcp_state::syn_rcvd ? (kSyn | kAck) : kSyn;
  const bool first = c.snd_max == c.iss;
  if (first && flags == kSyn && !_out.syn_allowed()) {
    _syn_waiting.push_back(c);  // a later iteration's budget
    return;
  }
  if (!send_segment(c, c.iss, 0, flags, now_ns)) {
    // No mbuf: the timer tries again (no tx room: run_deferred, sooner).
    if (!c.rto_timer().armed()) arm_rto(c, now_ns);
    return;
  }
  if (first && flags == kSyn) _out.count_syn();
  if (first) {
    // Karn: only the first transmission is timed.
    c.rtt_timing = true;
    c.rtt_seq = c.iss;
    c.rtt_start_ns = now_ns;
  }
  c.snd_nxt = c.iss + 1;
  if (c.snd_max < c.snd_nxt) c.snd_max = c.snd_nxt;
  arm_rto(c, now_ns);
}

seq32 tcp_layer::retransmit_first(tcb& c, std::uint64_t now_ns) noexcept {
  // Inside the peer's window, as any segment (RFC 9293 §3.8.6.2.1): a full
  // MSS into a smaller window put SND.MAX past its edge (found by the soak).
  const std::uint32_t room = std::min(data_mss(c), c.snd_wnd);
  const std::uint32_t len = room > 0 ? c.snd.segment_len(c.snd_una, room) : 0;
  const bool fin = c.fin_queued && c.snd_una + len == c.fin_seq;
  const seq32 end = c.snd_una + len + (fin ? 1 : 0);
  if (len == 0 && !fin) return end;
  std::uint8_t flags = kAck;
  if (fin) flags |= kFin;
  if (!send_segment(c, c.snd_una, len, flags, now_ns)) return c.snd_una;  // sent again later
  _counters.retransmits.add();
  c.high_rxt = end;
  if (c.rtt_timing) c.rtt_timing = false;  // Karn: the timed segment went twice
  return end;
}

// Sends new (or, after an RTO, again) data and the FIN as far as the
// windows, Nagle and SWS avoidance allow. Returns true if it sent anything.
bool tcp_layer::send_data(tcb& c, std::uint64_t now_ns) noexcept {
  bool sent = false;
  const std::uint32_t mss = data_mss(c);
  // Bounded: each round sends a segment or stops.
  for (int round = 0; round < 4096; ++round) {
    if (!send_one_new(c, now_ns, mss, false)) break;
    sent = true;
  }
  return sent;
}

// One segment of data (and/or the FIN) at SND.NXT, if the windows, Nagle
// and SWS avoidance allow it.
bool tcp_layer::send_one_new(tcb& c, std::uint64_t now_ns, std::uint32_t mss,
                             bool pipe_limited) noexcept {
  const std::uint32_t unsent = c.snd.bytes_unsent(c.snd_nxt);
  const bool fin_pending = c.fin_queued && c.snd_nxt <= c.fin_seq;
  if (unsent == 0 && !fin_pending) return false;
  const auto flight = static_cast<std::uint32_t>(c.snd_nxt - c.snd_una);
  // In SACK recovery the pipe, not cwnd against flight, limits sending
  // (RFC 6675 §5); the receiver's window limits always.
  const std::uint32_t wnd = pipe_limited ? c.snd_wnd : std::min(c.snd_wnd, c.cc.cwnd());
  const std::uint32_t usable = wnd > flight ? wnd - flight : 0;
  const std::uint32_t allowed = std::min({unsent, mss, usable});
  const std::uint32_t len = allowed > 0 ? c.snd.segment_len(c.snd_nxt, allowed) : 0;
  if (unsent > 0 && len == 0) return false;  // window closed: persist or ACKs reopen it
  // A segment cut short at the send buffer's piece limit (one chain of at
  // most kDefaultMaxPieces mbufs) is as large as this data can make it,
  // with more right behind: neither a runt nor a Nagle small segment. Held
  // back as one, small zero-copy sends stalled until the RTO (soak bug 4).
  const bool piece_limited = len < allowed;
  if (!piece_limited && len < mss && len < unsent) {
    // §3.8.6.2.1: a window-limited runt only if it is half the peer's
    // largest window, or when the override timeout (the persist timer) says
    // waiting longer would stall; otherwise wait for the window to open.
    if (len < c.max_snd_wnd / 2 && !c.sws_override) return false;
  } else if (!piece_limited && len < mss && flight > 0 && !c.nodelay && !fin_pending) {
    // Nagle: one small segment outstanding at a time.
    return false;
  }
  const bool fin = fin_pending && c.snd_nxt + len == c.fin_seq;
  if (len == 0 && !fin) return false;
  std::uint8_t flags = kAck;
  if (fin) flags |= kFin;
  if (len > 0 && len == unsent) flags |= kPsh;
  const bool again = c.snd_nxt < c.snd_max;
  if (!send_segment(c, c.snd_nxt, len, flags, now_ns)) return false;
  if (again) {
    _counters.retransmits.add();
  } else {
    _counters.data_segs_out.add();
    if (!c.rtt_timing && len > 0) {
      c.rtt_timing = true;
      c.rtt_seq = c.snd_nxt;
      c.rtt_start_ns = now_ns;
    }
  }
  c.snd_nxt += len + (fin ? 1 : 0);
  if (c.snd_max < c.snd_nxt) c.snd_max = c.snd_nxt;
  if (!c.rto_timer().armed()) arm_rto(c, now_ns);
  return true;
}

// RFC 6675 §5 (C): during SACK recovery, send while cwnd - pipe >= SMSS,
// choosing each segment with NextSeg(): lost holes first, then new data,
// then holes not yet deemed lost.
bool tcp_layer::send_recovery(tcb& c, std::uint64_t now_ns) noexcept {
  const std::uint32_t mss = data_mss(c);
  bool sent = false;
  for (int round = 0; round < 1024; ++round) {
    const std::uint32_t pipe = c.scoreboard.pipe(c.snd_una, c.snd_max, c.high_rxt, mss);
    const std::uint32_t cwnd = c.cc.cwnd();
    if (cwnd <= pipe || cwnd - pipe < mss) break;
    const auto outstanding = static_cast<std::uint32_t>(c.snd_max - c.snd_una);
    const std::uint32_t rwnd_room = c.snd_wnd > outstanding ? c.snd_wnd - outstanding : 0;
    const std::uint32_t new_allowed = std::min(c.snd.bytes_unsent(c.snd_max), rwnd_room);
    const auto next = c.scoreboard.next_seg(c.snd_una, c.snd_max, c.high_rxt, mss, new_allowed);
    if (next.rule == sack_scoreboard::next_rule::none) break;
    if (next.rule == sack_scoreboard::next_rule::new_data) {
      // New data goes out through the ordinary path, one segment.
      const seq32 before = c.snd_max;
      c.snd_nxt = c.snd_max;
      send_one_new(c, now_ns, mss, true);
      if (c.snd_max == before) break;
      sent = true;
      continue;
    }
    std::uint32_t len = c.snd.segment_len(next.seq, std::min(next.len, mss));
    const bool fin = c.fin_queued && next.seq + len == c.fin_seq;
    if (len == 0 && !fin) break;
    std::uint8_t flags = wire::tcp_flag::kAck;
    if (fin) flags |= wire::tcp_flag::kFin;
    if (!send_segment(c, next.seq, len, flags, now_ns)) break;
    _counters.retransmits.add();
    c.rtt_timing = false;  // Karn
    const seq32 end = next.seq + len + (fin ? 1 : 0);
    if (c.high_rxt < end) c.high_rxt = end;
    sent = true;
  }
  return sent;
}

void tcp_layer::output(tcb& c, std::uint64_t now_ns) noexcept {
  bool sent = false;
  const bool may_send = may_transmit(c.state);
  if (may_send) {
    sent = c.in_recovery && c.sack_ok ? send_recovery(c, now_ns) : send_data(c, now_ns);
  }
  if (!sent && c.ack_now) send_ack(c, now_ns);
  // Data waits with nothing in flight: behind a zero window (RFC 9293
  // §3.8.6.1, probe it) or behind a window too small to fill (§3.8.6.2.1,
  // the override timeout). The persist timer serves both.
  if (may_send && c.snd_nxt == c.snd_una && c.snd.bytes_unsent(c.snd_nxt) > 0 &&
      !c.rto_timer().armed() && !c.persist_timer().armed()) {
    _wheel.arm(c.persist_timer(), now_ns + c.rtt.rto_ns());
  }
}

}  // namespace kbt::tcp
