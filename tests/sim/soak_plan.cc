// The random part of a soak world: links, TCP settings and connection
// behaviour, all drawn from one seed (prng.hh), so a seed names a world.
#include <cstdio>

#include "prng.hh"
#include "sim_hosts.hh"
#include "soak_world.hh"

namespace kbt::sim {
namespace {

std::uint64_t between(prng& r, std::uint64_t lo, std::uint64_t hi) {
  return lo + r.below(hi - lo + 1);
}

double up_to(prng& r, double hi) { return r.uniform01() * hi; }

link_config draw_link(prng& r) {
  link_config c;
  // Some clean links: the fast paths (no recovery at all) need exercising too.
  if (!r.chance(0.15)) {
    c.loss = up_to(r, 0.10);
    c.duplicate = r.chance(0.5) ? up_to(r, 0.03) : 0.0;
    c.reorder = r.chance(0.5) ? up_to(r, 0.10) : 0.0;
    c.reorder_delay_ns = between(r, 100'000, 5 * kMs);
    c.corrupt = r.chance(0.3) ? up_to(r, 0.01) : 0.0;
  }
  c.delay_ns = between(r, 50'000, 20 * kMs);
  c.jitter_ns = r.chance(0.5) ? between(r, 0, c.delay_ns / 2) : 0;
  c.jitter = r.chance(0.5) ? jitter_shape::uniform : jitter_shape::normal;
  if (r.chance(0.4)) {
    // A bottleneck with a short queue: tail drops in bursts, unlike the
    // independent losses above.
    c.bandwidth_bps = between(r, 5'000'000, 1'000'000'000);
    c.queue_frames = static_cast<std::uint32_t>(between(r, 32, 1000));
  }
  return c;
}

tcp::tcp_config draw_tcp(prng& r) {
  constexpr std::uint32_t kBuffers[] = {16 * 1024, 64 * 1024, 256 * 1024};
  tcp::tcp_config t;
  t.sack = r.chance(0.8);
  t.timestamps = r.chance(0.8);
  t.window_scaling = r.chance(0.85);
  t.nagle = r.chance(0.7);
  t.rcv_buffer = kBuffers[r.below(3)];
  t.snd_buffer = kBuffers[r.below(3)];
  t.delayed_ack = base::nanos{r.chance(0.5) ? 40 * kMs : between(r, 1 * kMs, 200 * kMs)};
  t.persist_max = base::nanos{r.chance(0.5) ? 60 * kSec : 5 * kSec};
  // TIME_WAIT must outlast the longest RTO (60 s), as the default 2 x 30 s
  // does: shorter, and a FIN whose ACK was lost comes back after the
  // peer's TIME_WAIT ended and is answered with a RST, a false failure.
  t.msl = base::nanos{30 * kSec};
  // A lost SYN seven times over is likely once in 10^5 connections at 10 %
  // loss each way: the default 6 retries would make the soak flaky. Ten
  // makes a handshake timeout a sign of a bug, not of bad luck.
  t.max_syn_retries = 10;
  t.max_synack_retries = 10;
  // Keepalive is what ends an idle connection whose peer aborted and whose
  // RST was lost; nine probes keep a false timeout below 10^-6.
  t.keepalive_idle = base::nanos{5 * kSec};
  t.keepalive_interval = base::nanos{1 * kSec};
  t.keepalive_probes = 9;
  return t;
}

std::uint64_t draw_size(prng& r) {
  switch (r.below(4)) {
    case 0: return 0;
    case 1: return between(r, 1, 3000);
    case 2: return between(r, 3000, 100'000);
    default: return between(r, 100'000, 600'000);
  }
}

end_plan draw_end(prng& r) {
  end_plan e;
  e.send_bytes = draw_size(r);
  e.zero_copy = r.chance(0.5);
  // alloc_tx gives at most one mbuf's data room; send_copy takes any size.
  e.chunk = static_cast<std::uint32_t>(e.zero_copy ? between(r, 1, 2048) : between(r, 1, 65536));
  e.nodelay = r.chance(0.5);
  const std::uint64_t how = r.below(10);
  e.how = how < 6 ? end_plan::finish::normal
          : how < 8 ? end_plan::finish::abort
                    : end_plan::finish::close;
  e.act_after_ns = between(r, 0, 4 * kSec);
  if (r.chance(0.33)) e.act_after_sent = between(r, 0, e.send_bytes);
  if (r.chance(0.33)) e.act_after_received = between(r, 0, 300'000);
  const std::uint64_t read = r.below(4);
  e.read = read < 2 ? end_plan::reader::eager
           : read < 3 ? end_plan::reader::pause_once
                      : end_plan::reader::slow;
  e.pause_after_ns = between(r, 0, 3 * kSec);
  if (r.chance(0.5)) e.pause_at_received = between(r, 0, 200'000);
  e.pause_for_ns = between(r, 100 * kMs, 15 * kSec);
  e.slow_interval_ns = between(r, 1 * kMs, 200 * kMs);
  return e;
}

const char* finish_name(end_plan::finish f) {
  switch (f) {
    case end_plan::finish::normal: return "normal";
    case end_plan::finish::abort: return "abort";
    case end_plan::finish::close: return "close";
  }
  return "?";
}

const char* reader_name(end_plan::reader r) {
  switch (r) {
    case end_plan::reader::eager: return "eager";
    case end_plan::reader::pause_once: return "pause_once";
    case end_plan::reader::slow: return "slow";
  }
  return "?";
}

std::string describe_end(const end_plan& e) {
  char line[400];
  std::snprintf(line, sizeof line,
                "send=%llu%s %s chunk=%u%s finish=%s(after %.3fs|sent %lld|recv %lld) "
                "read=%s(pause %.3fs|recv %lld for %.3fs, slow %.3fs)",
                static_cast<unsigned long long>(e.send_bytes),
                e.send_after_peer_fin ? " after-peer-FIN" : "",
                e.zero_copy ? "zero-copy" : "copy", e.chunk, e.nodelay ? " nodelay" : "",
                finish_name(e.how), static_cast<double>(e.act_after_ns) / 1e9,
                e.act_after_sent == UINT64_MAX ? -1LL : static_cast<long long>(e.act_after_sent),
                e.act_after_received == UINT64_MAX ? -1LL
                                                   : static_cast<long long>(e.act_after_received),
                reader_name(e.read), static_cast<double>(e.pause_after_ns) / 1e9,
                e.pause_at_received == UINT64_MAX ? -1LL
                                                  : static_cast<long long>(e.pause_at_received),
                static_cast<double>(e.pause_for_ns) / 1e9,
                static_cast<double>(e.slow_interval_ns) / 1e9);
  return line;
}

std::string describe_link(const link_config& c) {
  char line[300];
  std::snprintf(line, sizeof line,
                "loss=%.4f dup=%.4f reorder=%.4f(+%.2fms) corrupt=%.4f delay=%.3fms "
                "jitter=%.3fms(%s) bw=%llu queue=%u",
                c.loss, c.duplicate, c.reorder, static_cast<double>(c.reorder_delay_ns) / 1e6,
                c.corrupt, static_cast<double>(c.delay_ns) / 1e6,
                static_cast<double>(c.jitter_ns) / 1e6,
                c.jitter == jitter_shape::uniform ? "uniform" : "normal",
                static_cast<unsigned long long>(c.bandwidth_bps), c.queue_frames);
  return line;
}

std::string describe_tcp(const tcp::tcp_config& t, tcp::cc_algorithm cc) {
  char line[300];
  std::snprintf(line, sizeof line,
                "%s sack=%d ts=%d wscale=%d nagle=%d rcv=%u snd=%u delack=%.0fms persist_max=%.0fs",
                cc == tcp::cc_algorithm::cubic ? "cubic" : "newreno", t.sack, t.timestamps,
                t.window_scaling, t.nagle, t.rcv_buffer, t.snd_buffer,
                static_cast<double>(t.delayed_ack.count()) / 1e6,
                static_cast<double>(t.persist_max.count()) / 1e9);
  return line;
}

}  // namespace

world_plan draw_plan(std::uint64_t seed) {
  // Its own sub-seed: the links and endpoints use 0..3 of the same seed.
  prng r(sub_seed(seed, 17));
  world_plan p;
  p.seed = seed;
  for (int i = 0; i < 2; ++i) p.link[i] = draw_link(r);
  for (int i = 0; i < 2; ++i) {
    p.tcp[i] = draw_tcp(r);
    p.cc[i] = r.chance(0.5) ? tcp::cc_algorithm::cubic : tcp::cc_algorithm::newreno;
  }
  // Coarser steps are cheaper; the timer wheel ticks in 1 ms anyway.
  p.granularity_ns = r.chance(0.5) ? 1 * kMs : between(r, 50'000, 1 * kMs);
  const std::uint64_t n = between(r, 1, 6);
  for (std::uint64_t i = 0; i < n; ++i) {
    conn_plan c;
    c.client_is_a = r.chance(0.5);
    c.port = static_cast<std::uint16_t>(5000 + i);
    c.start_ns = between(r, 0, 2 * kSec);
    c.ends[0] = draw_end(r);
    c.ends[1] = draw_end(r);
    // Half-close: one end sends only after the other's FIN, so all of its
    // data flows while the connection is half closed. Never both: each
    // would wait for the other.
    if (r.chance(0.25)) c.ends[r.below(2)].send_after_peer_fin = true;
    c.stream_seed[0] = sub_seed(seed, 100 + 2 * i);
    c.stream_seed[1] = sub_seed(seed, 101 + 2 * i);
    p.conns.push_back(c);
  }
  return p;
}

std::string world_plan::describe() const {
  char title[80];
  std::snprintf(title, sizeof title, "world %llu: step %lluus\n",
                static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(granularity_ns / 1000));
  std::string s = title;
  for (int i = 0; i < 2; ++i) {
    s += i == 0 ? "  link A->B " : "  link B->A ";
    s += describe_link(link[i]);
    s += '\n';
  }
  for (int i = 0; i < 2; ++i) {
    s += i == 0 ? "  tcp A " : "  tcp B ";
    s += describe_tcp(tcp[i], cc[i]);
    s += '\n';
  }
  for (std::size_t i = 0; i < conns.size(); ++i) {
    const conn_plan& c = conns[i];
    char head[120];
    std::snprintf(head, sizeof head, "  conn %zu: %s -> %s:%u at +%.3fs\n", i,
                  c.client_is_a ? "A" : "B", c.client_is_a ? "B" : "A", c.port,
                  static_cast<double>(c.start_ns) / 1e9);
    s += head;
    for (int k = 0; k < 2; ++k) {
      s += k == 0 ? "    client " : "    server ";
      s += describe_end(c.ends[k]);
      s += '\n';
    }
  }
  return s;
}

void soak_stats::add(const soak_stats& o) {
  worlds += o.worlds;
  connections += o.connections;
  bytes += o.bytes;
  steps += o.steps;
  virtual_s += o.virtual_s;
  frames += o.frames;
  lost += o.lost;
  duplicated += o.duplicated;
  reordered += o.reordered;
  corrupted += o.corrupted;
  queue_dropped += o.queue_dropped;
  normal += o.normal;
  reset += o.reset;
  timeout += o.timeout;
  refused += o.refused;
  aborted += o.aborted;
  released += o.released;
  never_accepted += o.never_accepted;
  states_seen |= o.states_seen;
}

std::string soak_stats::format() const {
  char line[600];
  std::snprintf(line, sizeof line,
                "connections=%llu bytes=%llu steps=%llu virtual=%.0fs frames=%llu lost=%llu "
                "duplicated=%llu reordered=%llu corrupted=%llu queue_dropped=%llu | ends: "
                "normal=%llu reset=%llu timeout=%llu refused=%llu aborted=%llu released=%llu "
                "never_accepted=%llu | states seen:",
                static_cast<unsigned long long>(connections), static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(steps), virtual_s,
                static_cast<unsigned long long>(frames), static_cast<unsigned long long>(lost),
                static_cast<unsigned long long>(duplicated),
                static_cast<unsigned long long>(reordered),
                static_cast<unsigned long long>(corrupted),
                static_cast<unsigned long long>(queue_dropped),
                static_cast<unsigned long long>(normal), static_cast<unsigned long long>(reset),
                static_cast<unsigned long long>(timeout), static_cast<unsigned long long>(refused),
                static_cast<unsigned long long>(aborted), static_cast<unsigned long long>(released),
                static_cast<unsigned long long>(never_accepted));
  std::string s = line;
  for (std::size_t i = 0; i < tcp::kStateCount; ++i) {
    if ((states_seen >> i) & 1U) {
      s += ' ';
      s += tcp::to_string(static_cast<tcp::tcp_state>(i));
    }
  }
  return s;
}

}  // namespace kbt::sim
