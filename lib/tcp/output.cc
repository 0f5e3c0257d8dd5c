// Segments out: data within min(cwnd, SND.WND) cut to the effective MSS,
// Nagle (RFC 9293 §3.7.4), sender and receiver silly-window avoidance
// (§3.8.6.2), options (RFC 7323, RFC 2018), ACKs, RSTs and SYNs. Payload is
// never copied: each data segment is a header mbuf chained to indirect mbufs
// that reference the send buffer.
#include <algorithm>
#include <array>

#include "tcp/invalid_ack_limit.hh"
#include "tcp/syn_cookie.hh"
#include "tcp/connection.hh"

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

std::uint32_t connection::effective_mss() const noexcept {
  return _c.snd_mss - (_c.ts_ok ? kTsOptionSpace : 0);
}

// Payload room of a data segment sent now: SACK blocks ride on data segments
// too, and the packet must still fit the path MTU (RFC 9293 §3.7.1: the MSS
// counts options against the payload).
std::uint32_t connection::data_mss() const noexcept {
  std::uint32_t mss = effective_mss();
  if (_c.sack_ok && _c.out_of_order.runs() > 0) {
    const std::uint32_t blocks = std::min<std::uint32_t>(_c.out_of_order.runs(), _c.ts_ok ? 3 : 4);
    mss -= 4 + 8 * blocks;  // NOP, NOP, kind, length, then 8 bytes a block
  }
  return mss;
}

std::uint32_t connection::receive_space() const noexcept {
  const std::uint32_t held = _c.rx_bytes + _c.out_of_order.bytes();
  const std::uint32_t bytes = held >= _c.rcv_buffer ? 0 : _c.rcv_buffer - held;
  // As Linux's window follows truesize, ours follows mbufs: no more window
  // than the mbufs this connection may still take would carry in full
  // segments. A peer that fills them with tiny segments finds its data
  // dropped (rcv_mem_dropped) rather than the core's pool emptied.
  const std::uint64_t by_mbufs =
      std::uint64_t{_cx.rcv_mem.allowance(_c.rcv_held_mbufs())} * _c.snd_mss;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes, by_mbufs));
}

// The window field of a non-SYN segment, with receiver-side silly window
// avoidance (RFC 9293 §3.8.6.2.2): the right edge moves only by at least
// min(buffer / 2, MSS), and never moves left (§3.8.6.2.2 "shrinking").
// rcv_adv is the edge the field really tells the peer: a window beyond
// 65535 << scale, or not a multiple of 1 << scale, is cut to what the field
// can say, and check_sequence() accepts data up to that edge only
// (RFC 9293 §3.10.7.4). An edge told earlier stays (never moves left).
std::uint16_t connection::advertised_window() noexcept {
  const seq32 right = _c.rcv_nxt + receive_space();
  const std::uint32_t step = std::min<std::uint32_t>(_c.rcv_buffer / 2, _c.snd_mss);
  seq32 edge = _c.rcv_adv < _c.rcv_nxt ? _c.rcv_nxt : _c.rcv_adv;
  if (right > edge && static_cast<std::uint32_t>(right - edge) >= step) edge = right;
  const auto wnd = static_cast<std::uint32_t>(edge - _c.rcv_nxt);
  const auto field = static_cast<std::uint16_t>(std::min<std::uint32_t>(wnd >> _c.rcv_wscale, 0xffff));
  const seq32 told = _c.rcv_nxt + (std::uint32_t{field} << _c.rcv_wscale);
  if (told > _c.rcv_adv || _c.rcv_adv < _c.rcv_nxt) _c.rcv_adv = told;
  return field;
}

void connection::defer() noexcept {
  if (!tcb_list<&tcb::deferred>::contains(_c)) _cx.counters.tx_deferred.add();
  _cx.deferred.push_back(_c);
}

// Builds and queues one segment of `len` bytes from the send buffer at
// `seq` (0 for control segments). Returns false when out of mbufs or of
// tx room (then the connection's output runs again later).
bool connection::send_segment(seq32 seq, std::uint32_t len, std::uint8_t flags,
                             base::instant now) noexcept {
  // A full out queue the owner cannot take now counts as no room: this
  // segment waits with its connection rather than being dropped.
  if (!_cx.out.has_room()) {
    // A bare ACK (delayed, a window update, a probe) is owed still: output()
    // sends it when the connection's turn comes (run_deferred).
    if ((flags & (kSyn | kFin | kRst)) == 0 && len == 0) _c.ack_now = true;
    defer();
    return false;
  }
  rte_mbuf* payload = nullptr;
  if (len > 0) {
    payload = _c.snd.make_segment(seq, len, _cx.pool);
    if (payload == nullptr) {
      _cx.counters.no_mbuf.add();
      return false;
    }
  }
  wire::tcp_repr r;
  r.src_port = _c.tuple.local_port;
  r.dst_port = _c.tuple.remote_port;
  r.seq = seq;
  r.flags = flags;
  const bool syn = (flags & kSyn) != 0;
  if (syn) {
    // RFC 7323 §2.2: the window in a SYN is not scaled.
    r.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(receive_space(), 0xffff));
    _c.rcv_adv = _c.rcv_nxt + r.window;
    r.options.mss = _cx.tcp.mss;
    const bool active = (flags & kAck) == 0;
    if (active ? _cx.tcp.window_scaling : _c.ws_ok) r.options.window_scale = _c.rcv_wscale;
    r.options.sack_permitted = active ? _cx.tcp.sack : _c.sack_ok;
    if (active ? _cx.tcp.timestamps : _c.ts_ok) {
      std::uint32_t ts = tsval(now);
      // A SYN-queue entry whose ISS is a cookie also carries the cookie's
      // options in its TSval, as cookie_handshake::send_synack() does:
      // should the entry be evicted (evict_embryonic), the peer's ACK
      // rebuilds it in full.
      if (!active && _c.iss_is_cookie()) {
        ts = syn_cookie_jar::encode_ts(
            ts, _c.ws_ok ? std::optional<std::uint8_t>(_c.snd_wscale) : std::nullopt, _c.sack_ok);
      }
      r.options.timestamps = wire::tcp_timestamps{ts, active ? 0 : _c.ts_recent};
    }
  } else {
    r.window = (flags & kRst) != 0 ? 0 : advertised_window();
    if (_c.ts_ok) r.options.timestamps = wire::tcp_timestamps{tsval(now), _c.ts_recent};
    if (_c.sack_ok && (flags & kAck) != 0 && !_c.out_of_order.empty()) {
      std::array<wire::sack_block, wire::kTcpMaxSackBlocks> blocks;
      // RFC 2018 §3: 3 blocks fit beside timestamps, 4 without.
      const std::size_t n = _c.out_of_order.sack_blocks(std::span(blocks).first(_c.ts_ok ? 3 : 4));
      std::copy_n(blocks.begin(), n, r.options.sack_blocks.begin());
      r.options.sack_count = static_cast<std::uint8_t>(n);
    }
  }
  if ((flags & kAck) != 0) {
    r.ack = _c.rcv_nxt;
    _c.last_ack_sent = _c.rcv_nxt;
    _c.ack_now = false;
    _c.unacked_segs = 0;
    _cx.wheel.cancel(_c.delack_timer());
  }

  const std::uint32_t plen = payload != nullptr ? rte_pktmbuf_pkt_len(payload) : 0;
  rte_mbuf* h = _cx.builder.build(_c.tuple, r, payload);
  if (h == nullptr) {
    _cx.counters.no_mbuf.add();
    return false;
  }
  // SND.MAX is the highest sequence number ever sent, whichever path sent
  // it: a retransmission cut to a larger MSS than the original may carry
  // bytes never sent before, and their ACK must be acceptable.
  const seq32 end = seq + plen + ((flags & (kSyn | kFin)) != 0 ? 1 : 0);
  if (_c.snd_max < end) _c.snd_max = end;
  _cx.counters.segs_out.add();
  if ((flags & kRst) != 0) _cx.counters.rst_out.add();
  _c.last_send = now;
  if (!_cx.out.push(h, _c.tuple.remote_ip)) _cx.counters.tx_dropped.add();
  return true;
}

// A bare ACK carries SND.MAX, not SND.NXT: after an RTO pulls SND.NXT back
// for retransmission, an ACK numbered below what the peer already has would
// fail its acceptability test and the ACK in it would never be read (as
// FreeBSD's tcp_output notes for the same reason).
void connection::send_ack(base::instant now) noexcept {
  // SND.MAX, unless it lies past the peer's window (a peer that shrank its
  // window): then the right edge, which a peer with a shut window takes as
  // its RCV.NXT. Numbered past it, our ACKs would fail its acceptability
  // test (RFC 9293 §3.10.7.4) and it would never see its FIN acknowledged
  // (Linux's tcp_acceptable_seq does the same).
  const seq32 edge = _c.snd_una + _c.snd_wnd;
  send_segment(_c.snd_max <= edge ? _c.snd_max : edge, 0, kAck, now);
}

void connection::send_invalid_ack(base::instant now) noexcept {
  if (may_answer_invalid(_c.last_invalid_ack_ms, now, _cx.tcp.invalid_ack_interval,
                         _cx.counters.invalid_acks_suppressed)) {
    send_ack(now);
  }
}

// RFC 5961 §7 challenge ACKs, in Linux's order (tcp_send_challenge_ack):
// first the connection's own limit, which it shares with the other
// answers to invalid segments, so that one connection under attack does
// not spend the core's budget; then the core's budget for this second,
// whose size is random (challenge_budget.hh: CVE-2016-5696).
void connection::send_challenge_ack(base::instant now) noexcept {
  if (!may_answer_invalid(_c.last_invalid_ack_ms, now, _cx.tcp.invalid_ack_interval,
                          _cx.counters.challenge_acks_conn_limited)) {
    return;
  }
  if (!_cx.challenges.take(now)) {
    _cx.counters.challenge_acks_suppressed.add();
    return;
  }
  _cx.counters.challenge_acks.add();
  send_ack(now);
}

// SYN (SYN_SENT) or SYN-ACK (SYN_RCVD), first time or again.
void connection::send_syn(base::instant now) noexcept {
  const std::uint8_t flags = _c.state == tcp_state::syn_rcvd ? (kSyn | kAck) : kSyn;
  const bool first = _c.snd_max == _c.iss;
  if (first && flags == kSyn && !_cx.out.syn_allowed()) {
    _cx.syn_waiting.push_back(_c);  // a later iteration's budget
    return;
  }
  if (!send_segment(_c.iss, 0, flags, now)) {
    // No mbuf: the timer tries again (no tx room: run_deferred, sooner).
    if (!_c.rto_timer().armed()) arm_rto(now);
    return;
  }
  if (first && flags == kSyn) _cx.out.count_syn();
  if (first) {
    // Karn: only the first transmission is timed.
    _c.rtt_timing = true;
    _c.rtt_seq = _c.iss;
    _c.rtt_start = now;
  }
  _c.snd_nxt = _c.iss + 1;
  if (_c.snd_max < _c.snd_nxt) _c.snd_max = _c.snd_nxt;
  arm_rto(now);
}

seq32 connection::retransmit_first(base::instant now) noexcept {
  // Inside the peer's window, as any segment (RFC 9293 §3.8.6.2.1): a full
  // MSS into a smaller window put SND.MAX past its edge (found by the soak).
  const std::uint32_t room = std::min(data_mss(), _c.snd_wnd);
  const std::uint32_t len = room > 0 ? _c.snd.segment_len(_c.snd_una, room) : 0;
  const bool fin = _c.fin_queued && _c.snd_una + len == _c.fin_seq;
  const seq32 end = _c.snd_una + len + (fin ? 1 : 0);
  if (len == 0 && !fin) return end;
  std::uint8_t flags = kAck;
  if (fin) flags |= kFin;
  if (!send_segment(_c.snd_una, len, flags, now)) return _c.snd_una;  // sent again later
  _cx.counters.retransmits.add();
  _c.high_rxt = end;
  if (_c.rtt_timing) _c.rtt_timing = false;  // Karn: the timed segment went twice
  return end;
}

// Sends new (or, after an RTO, again) data and the FIN as far as the
// windows, Nagle and SWS avoidance allow. Returns true if it sent anything.
bool connection::send_data(base::instant now) noexcept {
  bool sent = false;
  const std::uint32_t mss = data_mss();
  // Bounded: each round sends a segment or stops.
  for (int round = 0; round < 4096; ++round) {
    if (!send_one_new(now, mss, false)) break;
    sent = true;
  }
  return sent;
}

// One segment of data (and/or the FIN) at SND.NXT, if the windows, Nagle
// and SWS avoidance allow it.
bool connection::send_one_new(base::instant now, std::uint32_t mss,
                             bool pipe_limited) noexcept {
  const std::uint32_t unsent = _c.snd.bytes_unsent(_c.snd_nxt);
  const bool fin_pending = _c.fin_queued && _c.snd_nxt <= _c.fin_seq;
  if (unsent == 0 && !fin_pending) return false;
  const auto flight = static_cast<std::uint32_t>(_c.snd_nxt - _c.snd_una);
  // In SACK recovery the pipe, not cwnd against flight, limits sending
  // (RFC 6675 §5); the receiver's window limits always.
  const std::uint32_t wnd = pipe_limited ? _c.snd_wnd : std::min(_c.snd_wnd, _c.cc.cwnd());
  const std::uint32_t usable = wnd > flight ? wnd - flight : 0;
  const std::uint32_t allowed = std::min({unsent, mss, usable});
  const std::uint32_t len = allowed > 0 ? _c.snd.segment_len(_c.snd_nxt, allowed) : 0;
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
    if (len < _c.max_snd_wnd / 2 && !_c.sws_override) return false;
  } else if (!piece_limited && len < mss && flight > 0 && !_c.nodelay && !fin_pending) {
    // Nagle: one small segment outstanding at a time.
    return false;
  }
  const bool fin = fin_pending && _c.snd_nxt + len == _c.fin_seq;
  if (len == 0 && !fin) return false;
  std::uint8_t flags = kAck;
  if (fin) flags |= kFin;
  if (len > 0 && len == unsent) flags |= kPsh;
  const bool again = _c.snd_nxt < _c.snd_max;
  if (!send_segment(_c.snd_nxt, len, flags, now)) return false;
  if (again) {
    _cx.counters.retransmits.add();
  } else {
    _cx.counters.data_segs_out.add();
    if (!_c.rtt_timing && len > 0) {
      _c.rtt_timing = true;
      _c.rtt_seq = _c.snd_nxt;
      _c.rtt_start = now;
    }
  }
  _c.snd_nxt += len + (fin ? 1 : 0);
  if (_c.snd_max < _c.snd_nxt) _c.snd_max = _c.snd_nxt;
  if (!_c.rto_timer().armed()) arm_rto(now);
  return true;
}

// RFC 6675 §5 (C): during SACK recovery, send while cwnd - pipe >= SMSS,
// choosing each segment with NextSeg(): lost holes first, then new data,
// then holes not yet deemed lost.
bool connection::send_recovery(base::instant now) noexcept {
  const std::uint32_t mss = data_mss();
  bool sent = false;
  for (int round = 0; round < 1024; ++round) {
    const std::uint32_t pipe = _c.scoreboard.pipe(_c.snd_una, _c.snd_max, _c.high_rxt, mss);
    const std::uint32_t cwnd = _c.cc.cwnd();
    if (cwnd <= pipe || cwnd - pipe < mss) break;
    const auto outstanding = static_cast<std::uint32_t>(_c.snd_max - _c.snd_una);
    const std::uint32_t rwnd_room = _c.snd_wnd > outstanding ? _c.snd_wnd - outstanding : 0;
    const std::uint32_t new_allowed = std::min(_c.snd.bytes_unsent(_c.snd_max), rwnd_room);
    const auto next = _c.scoreboard.next_seg(_c.snd_una, _c.snd_max, _c.high_rxt, mss, new_allowed);
    if (next.rule == sack_scoreboard::next_rule::none) break;
    if (next.rule == sack_scoreboard::next_rule::new_data) {
      // New data goes out through the ordinary path, one segment.
      const seq32 before = _c.snd_max;
      _c.snd_nxt = _c.snd_max;
      send_one_new(now, mss, true);
      if (_c.snd_max == before) break;
      sent = true;
      continue;
    }
    std::uint32_t len = _c.snd.segment_len(next.seq, std::min(next.len, mss));
    const bool fin = _c.fin_queued && next.seq + len == _c.fin_seq;
    if (len == 0 && !fin) break;
    std::uint8_t flags = wire::tcp_flag::kAck;
    if (fin) flags |= wire::tcp_flag::kFin;
    if (!send_segment(next.seq, len, flags, now)) break;
    _cx.counters.retransmits.add();
    _c.rtt_timing = false;  // Karn
    const seq32 end = next.seq + len + (fin ? 1 : 0);
    if (_c.high_rxt < end) _c.high_rxt = end;
    sent = true;
  }
  return sent;
}

void connection::output(base::instant now) noexcept {
  bool sent = false;
  const bool may_send = may_transmit(_c.state);
  if (may_send) {
    sent = _c.in_recovery && _c.sack_ok ? send_recovery(now) : send_data(now);
  }
  if (!sent && _c.ack_now) send_ack(now);
  // Data waits with nothing in flight: behind a zero window (RFC 9293
  // §3.8.6.1, probe it) or behind a window too small to fill (§3.8.6.2.1,
  // the override timeout). The persist timer serves both.
  if (may_send && _c.snd_nxt == _c.snd_una && _c.snd.bytes_unsent(_c.snd_nxt) > 0 &&
      !_c.rto_timer().armed() && !_c.persist_timer().armed()) {
    _cx.wheel.arm(_c.persist_timer(), now + _c.rtt.rto());
  }
}

}  // namespace kbt::tcp
