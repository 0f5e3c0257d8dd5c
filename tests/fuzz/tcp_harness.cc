// The harness plays the peer (198.18.0.1) and the application of one
// tcp_layer (198.18.0.2). Checked after every step, aborting with a message:
// - every TCB in use is in one of the eleven states, never LISTEN or
//   TIME_WAIT (those are a listener and a compact record, not TCBs), and is
//   in the connection table while it is not CLOSED;
// - the state gauges add up to the TCBs in use and the TIME_WAIT records;
//   the listener's SYN and accept queue counts match the TCBs;
// - every packet the stack sends parses, checksums included (the shared
//   rig, tests/support/tcp_rig.hh, checks them), and goes to a tuple of the
//   script;
// and at the end: the application aborts and releases what it holds, the
// clock runs three virtual hours on (timers finish what the stack still
// does), and once the layer is destroyed the mempool holds exactly what it
// held before the input (before that too, when nothing is left alive).
// Connections still alive then, but for FIN_WAIT_2 (which waits for the
// peer's FIN as RFC 9293 says), fail the input.
#include "tcp_harness.hh"

#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "fuzz_check.hh"
#include "segment_factory.hh"
#include "tcp/tcp_layer.hh"
#include "tcp_rig.hh"
#include "tcp_script.hh"
#include "tcp_trace.hh"
#include "wire/ipv4.hh"
#include "wire/mbuf_bytes.hh"
#include "wire/tcp.hh"

namespace kbt::fuzz {
namespace {

using tcp::tcb;
using tcp::tcp_state;
using wire::seq32;
namespace flag = wire::tcp_flag;

constexpr std::uint32_t kMaxConns = 8;

// Leftovers after the application let go and three hours passed, by state:
// not failures (a FIN_WAIT_2 whose peer never closes has no timeout in
// RFC 9293), but worth seeing in the summary.
struct summary {
  const char* name = nullptr;
  std::uint64_t inputs = 0;
  std::uint64_t segments_in = 0, segments_out = 0, established = 0, bytes_read = 0;
  std::uint64_t out_of_window = 0, self_check_failed = 0;
  std::array<std::uint64_t, tcp::kStateCount> leftover{};
  ~summary() {
    if (name == nullptr || inputs == 0) return;
    std::fprintf(stderr,
                 "%s: %llu inputs, %llu segments in (%llu out of window), %llu out, %llu "
                 "connections made, %llu bytes read;",
                 name, static_cast<unsigned long long>(inputs),
                 static_cast<unsigned long long>(segments_in),
                 static_cast<unsigned long long>(out_of_window),
                 static_cast<unsigned long long>(segments_out),
                 static_cast<unsigned long long>(established),
                 static_cast<unsigned long long>(bytes_read));
    std::fprintf(stderr, " alive 3 h after the application let go:");
    bool any = false;
    for (std::size_t s = 0; s < leftover.size(); ++s) {
      if (leftover[s] == 0) continue;
      any = true;
      std::fprintf(stderr, " %s=%llu", std::string(tcp::to_string(static_cast<tcp_state>(s))).c_str(),
                   static_cast<unsigned long long>(leftover[s]));
    }
    std::fprintf(stderr, "%s; steps after a cookie self-check failure: %llu\n",
                 any ? "" : " none", static_cast<unsigned long long>(self_check_failed));
  }
} g_summary;

// What the peer knows of each tuple from the stack's segments.
struct peer_view {
  bool seen = false;
  seq32 rcv_base;  // the last ACK number the stack sent
  seq32 ack_base;  // the end of what the stack sent
  std::uint32_t ts_base = 0;  // the last TSval the stack sent
};

const std::array<std::uint8_t, kMaxSend>& pattern() {
  static const auto p = [] {
    std::array<std::uint8_t, kMaxSend> a{};
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>('a' + i % 26);
    return a;
  }();
  return p;
}

tcp::four_tuple stack_tuple(std::size_t i) {
  return {kStackIp, kPeerIp, kTuples[i].stack_port, kTuples[i].peer_port};
}

class harness {
 public:
  harness(const harness_options& o, std::uint8_t stack, std::uint8_t peer)
      : _opts(o), _stack_cfg(stack), _peer_cfg(peer) {
    support::rig_config lc;
    tcp::tcp_config& t = lc.tcp;
    t.timestamps = (stack & stack_cfg::kNoTimestamps) == 0;
    t.sack = (stack & stack_cfg::kNoSack) == 0;
    t.window_scaling = (stack & stack_cfg::kNoWscale) == 0;
    t.nagle = (stack & stack_cfg::kNoNagle) == 0;
    if ((stack & stack_cfg::kSmallBuffers) != 0) {
      t.rcv_buffer = 4096;
      t.snd_buffer = 8192;
      t.ooo_segments = 4;
    }
    const bool tiny = (stack & stack_cfg::kTinyQueues) != 0;
    t.syn_queue_max = tiny ? 1 : 4;
    t.accept_queue_max = tiny ? 1 : 4;
    t.max_time_wait = 4;  // small, so that the overflow path is reachable
    t.syncookies = o.cookies;
    t.cc = (stack & stack_cfg::kNewReno) != 0 ? tcp::cc_algorithm::newreno
                                             : tcp::cc_algorithm::cubic;
    lc.max_conns = kMaxConns;
    lc.pool = pool();
    // The pool hashes every port of its range at start-up; the script opens
    // with explicit ports, so a short range keeps each input cheap.
    lc.port_first = 49152;
    lc.port_last = 49167;
    _rig = std::make_unique<support::tcp_rig>(lc, _clock, &rig_failed);
    _rig->auto_poll = false;  // the harness's application polls in settle()
    _layer = &_rig->layer();
    FUZZ_CHECK(_layer->listen(kListenPort), "listen(%u) failed", kListenPort);
  }

  harness(const harness&) = delete;
  harness& operator=(const harness&) = delete;

  void open_established();
  void run(script_reader& in);
  void finish(unsigned mbufs_before);

 private:
  static void rig_failed(void*, const char* what) { FUZZ_CHECK(false, "%s", what); }

  rte_mbuf* build(std::size_t tuple, bool seq_rel, bool ack_rel, const script_segment& s);
  void queue_segment(std::size_t tuple, bool seq_rel, bool ack_rel, bool same_burst,
                     const script_segment& s);
  void deliver_burst();
  void app_op(const script_op& op);
  tcb* held(std::size_t tuple);
  void forget(tcb* c) { _held.erase(std::remove(_held.begin(), _held.end(), c), _held.end()); }
  void settle();  // application events, then the stack's output, then the checks
  void poll();
  void read(tcb& c) {
    rte_mbuf* m = _layer->recv(c, _now);
    if (m != nullptr) g_summary.bytes_read += rte_pktmbuf_pkt_len(m);
    rte_pktmbuf_free(m);
  }
  void drain();
  void check_invariants();

  harness_options _opts;
  std::uint8_t _stack_cfg;
  std::uint8_t _peer_cfg;
  support::virtual_clock _clock{base::instant_from_ns(kStartNs)};
  base::instant& _now = _clock.now;
  std::unique_ptr<support::tcp_rig> _rig;
  tcp::tcp_layer* _layer = nullptr;  // the rig's
  std::array<peer_view, kTuples.size()> _view{};
  std::vector<tcb*> _held;
  std::array<tcp::tcp_rx, tcp::tcp_layer::kMaxBurst> _burst{};
  std::size_t _burst_count = 0;
  // The tuple of a lone ACK-bearing segment that found no connection,
  // while its answer is drained: it must not be a SYN (RFC 9293 §3.10.7.2).
  std::optional<tcp::four_tuple> _acked_unknown;
};

// The segment as the peer puts it on the wire: IPv4 + TCP with correct
// checksums, in one mbuf, so that the layer gets what the engine gives it.
rte_mbuf* harness::build(std::size_t tuple, bool seq_rel, bool ack_rel, const script_segment& s) {
  const peer_view& v = _view[tuple];
  support::segment_spec spec;
  spec.src = kPeerIp;
  spec.dst = kStackIp;
  spec.src_port = kTuples[tuple].peer_port;
  spec.dst_port = kTuples[tuple].stack_port;
  spec.flags = s.flags;
  spec.seq = seq_rel ? (v.rcv_base + s.seq).value : s.seq;
  spec.ack = ack_rel ? (v.ack_base + s.ack).value : s.ack;
  spec.window = s.window;
  spec.urgent = s.urgent.value_or(0);
  spec.payload = std::as_bytes(std::span(pattern().data(), s.payload_len));
  if (s.raw_options) {
    spec.raw_options = *s.raw_options;
  } else {
    wire::tcp_options& o = spec.options;
    o.mss = s.mss;
    o.window_scale = s.wscale;
    o.sack_permitted = s.sack_permitted;
    if (s.ts) {
      const auto now_ms = static_cast<std::uint32_t>(base::ns_since_start(_now) / 1'000'000);
      o.timestamps = wire::tcp_timestamps{now_ms + (*s.ts)[0], v.ts_base + (*s.ts)[1]};
    }
    for (const auto& b : s.sacks) {
      const seq32 left{spec.ack + b.offset};
      o.sack_blocks[o.sack_count++] = {left, left + b.length};
    }
  }
  const auto bytes = support::build_ipv4_tcp(spec);
  FUZZ_CHECK(bytes.size() <= RTE_MBUF_DEFAULT_DATAROOM, "segment of %zu bytes does not fit an mbuf",
             bytes.size());
  rte_mbuf* m = support::to_mbuf(bytes, pool());
  FUZZ_CHECK(m != nullptr, "mbuf pool empty: %u left", rte_mempool_avail_count(pool()));
  return m;
}

void harness::queue_segment(std::size_t tuple, bool seq_rel, bool ack_rel, bool same_burst,
                            const script_segment& s) {
  if (!same_burst || _burst_count == _burst.size()) deliver_burst();
  rte_mbuf* m = build(tuple, seq_rel, ack_rel, s);
  // Parsed and checked as the engine does before TCP sees it; a segment
  // the engine would drop (bad raw options) is dropped here too.
  const auto bytes = wire::mbuf_bytes(m);
  const auto ip = wire::parse_ipv4_header(bytes, true);
  FUZZ_CHECK(ip, "the harness built a bad IPv4 header");
  const auto seg = wire::parse_tcp(bytes.subspan(ip->header_len, ip->payload_len()), ip->src,
                                   ip->dst, true);
  if (!seg) {
    FUZZ_CHECK(seg.error() == wire::tcp_error::bad_option,
               "the harness built a TCP segment that fails with error %d",
               static_cast<int>(seg.error()));
    rte_pktmbuf_free(m);
    return;
  }
  trace_segment("in ", tuple, *seg, _now);
  _burst[_burst_count++] = {m, *ip, *seg, ip->header_len};
  ++g_summary.segments_in;
}

void harness::deliver_burst() {
  if (_burst_count == 0) return;
  if (_burst_count == 1) {
    const auto& r = _burst[0];
    const tcp::four_tuple t{r.ip.dst, r.ip.src, r.seg.dst_port, r.seg.src_port};
    if (r.seg.has(flag::kAck) && !r.seg.has(flag::kRst) &&
        _layer->state_of(t) == tcp_state::closed) {
      _acked_unknown = t;
    }
    _layer->input(r.m, r.ip, r.seg, r.l4_offset, _now);
  } else {
    _layer->input_burst(std::span(_burst.data(), _burst_count), _now);
  }
  _burst_count = 0;
  settle();
  _acked_unknown.reset();
}

tcb* harness::held(std::size_t tuple) {
  const auto t = stack_tuple(tuple);
  for (tcb* c : _held) {
    if (c->tuple == t) return c;
  }
  return nullptr;
}

void harness::app_op(const script_op& op) {
  tcb* c = held(op.tuple);
  if (tracing()) {
    std::fprintf(stderr, "%10.6f app t%u kind=%u action=%u length=%u (%s)\n",
                 static_cast<double>(base::ns_since_start(_now) - kStartNs) / 1e9, op.tuple,
                 static_cast<unsigned>(op.kind), static_cast<unsigned>(op.action), op.length,
                 c != nullptr ? std::string(tcp::to_string(c->state)).c_str() : "not held");
  }
  switch (op.kind) {
    case op_kind::recv:
      if (c != nullptr) read(*c);
      break;
    case op_kind::send:
      if (c != nullptr) {
        const std::size_t n = std::min<std::size_t>(op.length, kMaxSend);
        (void)_layer->send_copy(*c, std::as_bytes(std::span(pattern().data(), n)), _now);
      }
      break;
    case op_kind::act:
      if (c == nullptr) break;
      switch (op.action) {
        case app_action::shutdown: _layer->shutdown(*c, _now); break;
        case app_action::release:
          forget(c);
          _layer->release(*c, _now);
          break;
        case app_action::abort:
          if (c->state != tcp_state::closed) _layer->abort(*c, _now);
          break;
        case app_action::keepalive: _layer->set_keepalive(*c, true, _now); break;
        case app_action::pause_reading: _layer->set_reading(*c, false); break;
        case app_action::resume_reading: _layer->set_reading(*c, true); break;
        case app_action::nodelay: _layer->set_nodelay(*c, true); break;
      }
      break;
    case op_kind::connect:
      if (c == nullptr) {
        tcb* n = _layer->connect(kPeerIp, kTuples[op.tuple].peer_port, _now,
                                 kTuples[op.tuple].stack_port);
        if (n != nullptr) _held.push_back(n);
      }
      break;
    default:
      break;
  }
  settle();
}

void harness::poll() {
  _layer->poll_events([this](tcb& c, std::uint8_t ev) {
    if ((ev & tcp::event::kConnected) != 0) {
      ++g_summary.established;
      if (std::find(_held.begin(), _held.end(), &c) == _held.end()) _held.push_back(&c);
    }
    if ((ev & tcp::event::kReadable) != 0 && (_stack_cfg & stack_cfg::kAutoRead) != 0) {
      read(c);
    }
    if ((ev & tcp::event::kPeerFin) != 0 && (_peer_cfg & peer_cfg::kCloseOnFin) != 0) {
      _layer->shutdown(c, _now);
    }
    if ((ev & tcp::event::kClosed) != 0) {
      forget(&c);
      _layer->release(c, _now);
    }
  });
}

void harness::drain() {
  // The rig has checked each packet's parse, protocol, length and both
  // checksums already (a failure aborts through rig_failed).
  for (const auto& seg : _rig->sent()) {
    ++g_summary.segments_out;
    FUZZ_CHECK(seg.ip.total_length <= 2048, "the stack sent a packet of %u bytes",
               seg.ip.total_length);
    FUZZ_CHECK(seg.ip.src == kStackIp && seg.ip.dst == kPeerIp && seg.next_hop == kPeerIp,
               "the stack sent an IPv4 packet with the wrong addresses");
    std::size_t tuple = kTuples.size();
    for (std::size_t i = 0; i < kTuples.size(); ++i) {
      if (seg.h.src_port == kTuples[i].stack_port && seg.h.dst_port == kTuples[i].peer_port) {
        tuple = i;
      }
    }
    FUZZ_CHECK(tuple < kTuples.size(), "the stack sent to port %u from %u: no script tuple",
               seg.h.dst_port, seg.h.src_port);
    trace_segment("out", tuple, seg.h, _now);
    FUZZ_CHECK(!seg.has(flag::kSyn) || !_acked_unknown ||
                   *_acked_unknown != stack_tuple(tuple),
               "a SYN (flags %02x) in answer to an ACK-bearing segment on tuple %zu, which had "
               "no connection: LISTEN must answer an ACK with RST <SEQ=SEG.ACK>",
               seg.h.flags, tuple);
    peer_view& v = _view[tuple];
    if (seg.has(flag::kAck)) v.rcv_base = seg.h.ack;
    const seq32 end = seg.h.seq + seg.h.seg_len();
    if (!v.seen || seg.has(flag::kSyn) || end > v.ack_base) v.ack_base = end;
    if (seg.h.options.timestamps) v.ts_base = seg.h.options.timestamps->tsval;
    v.seen = true;
  }
}

void harness::settle() {
  poll();
  drain();
  check_invariants();
}

void harness::check_invariants() {
  if (tracing()) {
    std::fprintf(stderr, "           state:");
    for (std::uint32_t i = 0; i < kMaxConns; ++i) {
      const tcb* c = _layer->at(i);
      if (c->in_use()) {
        std::fprintf(stderr, " [%u %s %u->%u%s]", i, std::string(tcp::to_string(c->state)).c_str(),
                     c->tuple.remote_port, c->tuple.local_port, c->app_holds() ? " held" : "");
      }
    }
    std::fprintf(stderr, " time_wait=%zu gauges:", _layer->time_wait().size());
    for (std::size_t st = 0; st < tcp::kStateCount; ++st) {
      const auto g = _layer->counters().states[st].get();
      if (g != 0) {
        std::fprintf(stderr, " %s=%lld", std::string(tcp::to_string(static_cast<tcp_state>(st))).c_str(),
                     static_cast<long long>(g));
      }
    }
    std::fprintf(stderr, "\n");
  }
  std::size_t live = 0, syn_rcvd = 0, accepting = 0;
  for (std::uint32_t i = 0; i < kMaxConns; ++i) {
    const tcb* c = _layer->at(i);
    if (!c->in_use()) continue;
    ++live;
    const auto s = static_cast<unsigned>(c->state);
    FUZZ_CHECK(s < tcp::kStateCount, "TCB %u in state %u: not one of the eleven", i, s);
    FUZZ_CHECK(c->state != tcp_state::listen && c->state != tcp_state::time_wait,
               "TCB %u in state %s: those are not TCB states here", i,
               std::string(tcp::to_string(c->state)).c_str());
    if (c->state != tcp_state::closed) {
      FUZZ_CHECK(_layer->find(c->tuple) == c, "TCB %u in %s is not in the connection table", i,
                 std::string(tcp::to_string(c->state)).c_str());
    }
    if (c->passive() && c->listener_slot != tcb::kNoListener && c->state == tcp_state::syn_rcvd) {
      ++syn_rcvd;
    }
    if (c->life == tcp::lifecycle::accept_queue) ++accepting;
  }
  FUZZ_CHECK(live == _layer->connections(), "%zu TCBs in use, connections() says %zu", live,
             _layer->connections());
  const auto& k = _layer->counters();
  std::uint64_t gauges = 0;
  for (std::size_t s = 0; s < tcp::kStateCount; ++s) {
    if (s != static_cast<std::size_t>(tcp_state::time_wait)) gauges += k.states[s].get();
  }
  FUZZ_CHECK(gauges == live, "state gauges add up to %llu, %zu TCBs in use",
             static_cast<unsigned long long>(gauges), live);
  const auto tw = k.states[static_cast<std::size_t>(tcp_state::time_wait)].get();
  FUZZ_CHECK(tw == _layer->time_wait().size(), "TIME_WAIT gauge %llu, %zu records",
             static_cast<unsigned long long>(tw), _layer->time_wait().size());
  const tcp::listening_port* l = _layer->find_listener(kListenPort);
  const std::uint32_t syn_queue = _layer->syn_queue_length(kListenPort);
  FUZZ_CHECK(l != nullptr && syn_queue == syn_rcvd && l->accept_queue == accepting,
             "listener queues say %u SYN_RCVD, %u to accept; the TCBs say %zu and %zu",
             syn_queue, l ? l->accept_queue : 0, syn_rcvd, accepting);
  // Not an invariant: a SYN-queue entry kept alive by SYN-ACK retransmissions
  // past two cookie periods (128 s at most) fails the debug self-check
  // although nothing is wrong (ack.cc); counted in the summary.
  if (k.syncookies_self_check_failed.get() != 0) ++g_summary.self_check_failed;
  for (std::size_t i = 0; i < kTuples.size(); ++i) {
    const auto t = stack_tuple(i);
    const tcb* c = _layer->find(t);
    FUZZ_CHECK(c == nullptr || (c->in_use() && c->tuple == t && c->state != tcp_state::closed),
               "find() on tuple %zu gives a TCB that is free, closed or another tuple's", i);
  }
}

// A handshake the fuzzer does not have to find: SYN with the peer's
// options, SYN-ACK, ACK; optionally an active open too.
void harness::open_established() {
  script_segment syn;
  syn.flags = flag::kSyn;
  syn.seq = 1000;
  syn.window = 64240;
  syn.mss = 1460;
  if ((_peer_cfg & peer_cfg::kTimestamps) != 0) syn.ts = std::array<std::uint32_t, 2>{0, 0};
  syn.sack_permitted = (_peer_cfg & peer_cfg::kSackPermitted) != 0;
  if ((_peer_cfg & peer_cfg::kWscale) != 0) syn.wscale = static_cast<std::uint8_t>(_peer_cfg >> 5);
  queue_segment(0, false, false, false, syn);
  deliver_burst();
  script_segment ack;
  ack.flags = flag::kAck;
  ack.window = 64240;
  if (syn.ts) ack.ts = std::array<std::uint32_t, 2>{0, 0};
  queue_segment(0, true, true, false, ack);
  deliver_burst();
  tcb* c = held(0);
  FUZZ_CHECK(c != nullptr && c->state == tcp_state::established,
             "the harness's own handshake did not establish tuple 0");

  if ((_peer_cfg & peer_cfg::kActiveOpen) != 0) {
    script_op op;
    op.kind = op_kind::connect;
    op.tuple = 1;
    app_op(op);
    script_segment synack = syn;
    synack.flags = flag::kSyn | flag::kAck;
    synack.seq = 7000;
    queue_segment(1, false, true, false, synack);
    deliver_burst();
    tcb* a = held(1);
    FUZZ_CHECK(a != nullptr && a->state == tcp_state::established,
               "the harness's active open did not establish tuple 1");
  }
}

void harness::run(script_reader& in) {
  for (std::size_t n = 0; n < kMaxRecords && !in.done(); ++n) {
    const script_op op = in.next();
    if (op.kind == op_kind::segment) {
      queue_segment(op.tuple, op.seq_relative, op.ack_relative, op.same_burst, op.seg);
      continue;
    }
    deliver_burst();
    if (op.kind == op_kind::advance) {
      _now += base::nanos{(std::uint64_t{op.count} + 1) * kTimeUnitsNs[op.unit]};
      _layer->advance(_now);
      settle();
    } else {
      app_op(op);
    }
  }
  deliver_burst();
}

void harness::finish(unsigned mbufs_before) {
  // The application goes away: abort what it holds, let go of it.
  for (tcb* c : std::vector<tcb*>(_held)) {
    if (c->state != tcp_state::closed) _layer->abort(*c, _now);
    _layer->release(*c, _now);
  }
  _held.clear();
  settle();
  // Three hours on, in ten-minute steps: retransmissions give up, SYN_RCVD
  // entries and TIME_WAIT records expire.
  for (int i = 0; i < 18; ++i) {
    _now += base::nanos{600 * tcp::kSec};
    _layer->advance(_now);
    settle();
  }
  if (_layer->connections() == 0 && _layer->time_wait().size() == 0) {
    // Nothing left that may hold an mbuf: the pool must be whole already,
    // without the destructor's help.
    const unsigned now_free = rte_mempool_avail_count(pool());
    FUZZ_CHECK(now_free == mbufs_before,
               "mempool: %u mbufs free before the input, %u with no connection left (%d)",
               mbufs_before, now_free, static_cast<int>(now_free) - static_cast<int>(mbufs_before));
  } else {
    for (std::uint32_t i = 0; i < kMaxConns; ++i) {
      const tcb* c = _layer->at(i);
      if (!c->in_use()) continue;
      ++g_summary.leftover[static_cast<std::size_t>(c->state)];
      // FIN_WAIT_2 waits for the peer's FIN as RFC 9293 says; anything
      // else alive this long with a silent peer pins a TCB and its mbufs.
      FUZZ_CHECK(c->state == tcp_state::fin_wait_2,
                 "TCB %u still in %s three hours after the application let go, the peer "
                 "silent (snd_wnd %u, unacked %u, unsent %u, retries %u, persist_backoff %u)",
                 i, std::string(tcp::to_string(c->state)).c_str(), c->snd_wnd, c->flight_size(),
                 c->snd.bytes_unsent(c->snd_nxt), c->retries, c->persist_backoff);
    }
    g_summary.leftover[static_cast<std::size_t>(tcp_state::time_wait)] +=
        _layer->time_wait().size();
  }
  g_summary.out_of_window += _layer->counters().out_of_window.get();
  _layer = nullptr;
  _rig.reset();
}

}  // namespace

void run_tcp_script(const std::uint8_t* data, std::size_t size, const harness_options& o) {
  g_summary.name = o.name;
  ++g_summary.inputs;
  const unsigned before = rte_mempool_avail_count(pool());
  script_reader in(data, size);
  const auto stack = in.get<std::uint8_t>();
  const auto peer = in.get<std::uint8_t>();
  {
    harness h(o, stack, peer);
    if (o.setup == harness_setup::established) h.open_established();
    h.run(in);
    h.finish(before);
  }
  const unsigned after = rte_mempool_avail_count(pool());
  FUZZ_CHECK(after == before, "mempool: %u mbufs free before the input, %u after teardown (%d)",
             before, after, static_cast<int>(after) - static_cast<int>(before));
}

}  // namespace kbt::fuzz
