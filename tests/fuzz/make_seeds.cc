// Writes the seed corpus (tests/fuzz/corpus/<target>/) from simulator runs:
// a handshake with a short exchange and close, a transfer over a lossy and
// reordering link, a close the server starts, and a connection through a
// listener answering every SYN with a cookie (with spoofed SYNs and a
// forged cookie ACK added to its script). Each frame the links deliver is
// recorded; from those:
//   fuzz_wire_frame         distinct frames (ARP, SYN, data, FIN, ...), and
//                           one ICMP echo request built here (the TCP
//                           scenarios send none)
//   fuzz_wire_tcp_options   distinct option bytes
//   fuzz_syn_cookie         the SYNs' tuples, ISNs and MSS values
//   fuzz_tcp_*              the client's segments to the server as a
//                           tcp_script, relative to what the server sent,
//                           with the server's own sends and close as
//                           application calls, so the harness's stack
//                           replays the same conversation
// Usage: make_seeds CORPUS_DIR   (ninja -C build-fuzz fuzz-seeds)
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "eal_start.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp/syn_cookie.hh"
#include "tcp_peer.hh"
#include "tcp_script.hh"
#include "wire/ether.hh"
#include "wire/icmp.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace fs = std::filesystem;
using namespace kbt;
using fuzz::script_segment;
using fuzz::script_writer;
using wire::seq32;
namespace flag = wire::tcp_flag;

namespace {

constexpr std::uint16_t kPort = 80;

struct frame {
  std::uint64_t ns;
  sim::side to;
  std::vector<std::uint8_t> bytes;
};

struct scenario {
  std::string name;
  tcp::tcp_config client;
  tcp::tcp_config server;
  sim::link_config link;
  std::uint64_t client_bytes = 0;
  std::uint64_t server_bytes = 0;
  bool server_closes_first = false;
};

std::vector<frame> run(const scenario& s) {
  sim::world_config wc;
  wc.seed = 7;
  wc.a_to_b = s.link;
  wc.b_to_a = s.link;
  sim::sim_world w(wc);
  std::vector<frame> frames;
  w.set_observer([&](sim::side to, const rte_mbuf* m) {
    std::vector<std::uint8_t> b(rte_pktmbuf_pkt_len(m));
    // rte_pktmbuf_read copies only when the bytes are not contiguous.
    const auto* p = static_cast<const std::uint8_t*>(
        rte_pktmbuf_read(m, 0, static_cast<std::uint32_t>(b.size()), b.data()));
    if (p != nullptr && p != b.data()) std::memcpy(b.data(), p, b.size());
    frames.push_back({w.now_ns(), to, std::move(b)});
  });
  {
    sim::tcp_peer a(w, sim::side::a, sim::kMacA, sim::kIpA, s.client, tcp::cc_algorithm::cubic);
    sim::tcp_peer b(w, sim::side::b, sim::kMacB, sim::kIpB, s.server, tcp::cc_algorithm::cubic);
    b.listen(kPort);
    a.set_plan({.send_bytes = s.client_bytes, .expect_bytes = s.server_bytes, .tx_seed = 1,
                .rx_seed = 2, .wait_for_peer_fin = s.server_closes_first});
    b.set_plan({.send_bytes = s.server_bytes, .expect_bytes = s.client_bytes, .tx_seed = 2,
                .rx_seed = 1, .wait_for_peer_fin = !s.server_closes_first});
    a.connect(sim::kIpB, kPort);
    const auto r = w.run_until([&] { return a.done() && b.done(); }, 120 * sim::kSec, 2'000'000);
    std::fprintf(stderr, "make_seeds: %s: %s after %.3f s virtual, %zu frames\n", s.name.c_str(),
                 r.done ? "done" : "NOT done", static_cast<double>(r.now_ns - wc.start_ns) / 1e9,
                 frames.size());
    // Let the TIME_WAIT side finish so the world ends clean.
    w.run_for(3 * s.server.msl.count(), 2'000'000);
  }
  return frames;
}

struct tcp_frame {
  wire::ipv4_repr ip;
  wire::tcp_repr tcp;
  std::span<const std::byte> options;
};

std::optional<tcp_frame> tcp_of(const frame& f) {
  const auto bytes = std::as_bytes(std::span(f.bytes));
  const auto e = wire::parse_ether(bytes);
  if (!e || e->ether_type != wire::kEthertypeIpv4) return std::nullopt;
  const auto l3 = bytes.subspan(e->header_len());
  const auto ip = wire::parse_ipv4_header(l3, false);
  if (!ip || ip->protocol != wire::kIpProtoTcp) return std::nullopt;
  const auto l4 = l3.subspan(ip->header_len, ip->payload_len());
  const auto t = wire::parse_tcp(l4, ip->src, ip->dst, false);
  if (!t) return std::nullopt;
  return tcp_frame{*ip, *t, wire::tcp_segment::make(l4)->options()};
}

void write_file(const fs::path& dir, const std::string& name, std::span<const std::uint8_t> b) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// The peer view of tcp_harness.cc, kept from the server's frames.
struct view {
  bool seen = false;
  seq32 rcv_base, ack_base;
  std::uint32_t ts_base = 0;
  void update(const wire::tcp_repr& t) {
    if (t.has(flag::kAck)) rcv_base = t.ack;
    const seq32 end = t.seq + t.seg_len();
    if (!seen || t.has(flag::kSyn) || end > ack_base) ack_base = end;
    if (t.options.timestamps) ts_base = t.options.timestamps->tsval;
    seen = true;
  }
};

std::uint8_t stack_config(const tcp::tcp_config& c) {
  std::uint8_t b = fuzz::stack_cfg::kAutoRead;
  if (!c.timestamps) b |= fuzz::stack_cfg::kNoTimestamps;
  if (!c.sack) b |= fuzz::stack_cfg::kNoSack;
  if (!c.window_scaling) b |= fuzz::stack_cfg::kNoWscale;
  return b;
}

// The client's segments to the server as a script. `skip_handshake`: the
// established target opens the connection itself, so its script starts
// after the client's first ACK; `peer` is its config[1].
script_writer to_script(const std::vector<frame>& frames, const scenario& s, bool skip_handshake,
                        std::uint8_t peer) {
  script_writer w(stack_config(s.server), peer);
  view v;
  std::uint64_t last_ns = fuzz::kStartNs;
  seq32 data_end;
  bool data_seen = false, fin_seen = false, handshake_done = !skip_handshake;
  std::optional<std::array<std::uint32_t, 2>> syn_ts;  // the client's first TSval, and when
  for (const auto& f : frames) {
    const auto t = tcp_of(f);
    if (!t) continue;
    if (f.to == sim::side::a) {  // the server's segment: what the script's peer saw
      v.update(t->tcp);
      if (!handshake_done) continue;
      if (t->tcp.payload_len > 0) {
        const seq32 end = t->tcp.seq + t->tcp.payload_len;
        if (!data_seen || end > data_end) {
          const std::uint32_t n = data_seen ? static_cast<std::uint32_t>(end - data_end)
                                            : t->tcp.payload_len;
          w.send(0, static_cast<std::uint16_t>(std::min<std::uint32_t>(n, fuzz::kMaxSend)));
          data_end = end;
          data_seen = true;
        }
      }
      if (t->tcp.has(flag::kFin) && !fin_seen) {
        w.act(0, fuzz::app_action::shutdown);
        fin_seen = true;
      }
      continue;
    }
    if (t->tcp.has(flag::kSyn) && t->tcp.options.timestamps && !syn_ts) {
      syn_ts = std::array<std::uint32_t, 2>{t->tcp.options.timestamps->tsval,
                                            static_cast<std::uint32_t>(f.ns / 1'000'000)};
    }
    if (!handshake_done) {
      // The client's first ACK after its SYN completes the handshake.
      if (!t->tcp.has(flag::kSyn) && t->tcp.has(flag::kAck)) handshake_done = true;
      last_ns = f.ns;
      continue;
    }
    if (f.ns > last_ns) w.advance(f.ns - last_ns);
    last_ns = f.ns;
    script_segment g;
    g.flags = t->tcp.flags;
    const bool seq_rel = v.seen;
    const bool ack_rel = v.seen && t->tcp.has(flag::kAck);
    g.seq = seq_rel ? static_cast<std::uint32_t>(t->tcp.seq - v.rcv_base) : t->tcp.seq.value;
    g.ack = ack_rel ? static_cast<std::uint32_t>(t->tcp.ack - v.ack_base) : t->tcp.ack.value;
    g.window = t->tcp.window;
    const auto& o = t->tcp.options;
    g.mss = o.mss;
    g.wscale = o.window_scale;
    g.sack_permitted = o.sack_permitted;
    if (o.timestamps) {
      // The harness's peer clock reads now_ms + field: fields relative to
      // the SYN keep the client's TSvals moving as they did in the run, and
      // make the SYN's 0, as in the handshake fuzz_tcp_established makes.
      const auto now_ms = static_cast<std::uint32_t>(f.ns / 1'000'000);
      if (!syn_ts) syn_ts = std::array<std::uint32_t, 2>{o.timestamps->tsval, now_ms};
      g.ts = std::array<std::uint32_t, 2>{
          (o.timestamps->tsval - (*syn_ts)[0]) - (now_ms - (*syn_ts)[1]),
          o.timestamps->tsecr - v.ts_base};
    }
    for (const auto& b : o.sacks()) {
      g.sacks.push_back({static_cast<std::uint32_t>(b.left - t->tcp.ack),
                         static_cast<std::uint16_t>(b.right - b.left)});
    }
    if (t->tcp.has(flag::kUrg)) g.urgent = t->tcp.urgent;
    g.payload_len = std::min<std::uint16_t>(t->tcp.payload_len, fuzz::kMaxPayload);
    // The harness's tuple 0 is the client's; its port differs, which
    // relative numbers do not mind.
    w.segment(0, seq_rel, ack_rel, g);
    if (w.records() >= fuzz::kMaxRecords) break;
  }
  return w;
}

// config[1] of fuzz_tcp_established: the options of the client's SYN.
std::uint8_t peer_config(const std::vector<frame>& frames) {
  for (const auto& f : frames) {
    const auto t = tcp_of(f);
    if (!t || f.to != sim::side::b || !t->tcp.has(flag::kSyn)) continue;
    std::uint8_t b = 0;
    if (t->tcp.options.timestamps) b |= fuzz::peer_cfg::kTimestamps;
    if (t->tcp.options.sack_permitted) b |= fuzz::peer_cfg::kSackPermitted;
    if (t->tcp.options.window_scale) {
      b |= fuzz::peer_cfg::kWscale;
      b |= static_cast<std::uint8_t>(std::min<unsigned>(*t->tcp.options.window_scale, 7) << 5);
    }
    return b;
  }
  return 0;
}

// Frames of a kind not seen yet, by a signature of what a parser branches on.
std::string signature(const frame& f) {
  const auto t = tcp_of(f);
  if (!t) {
    const auto e = wire::parse_ether(std::as_bytes(std::span(f.bytes)));
    return "l2:" + std::to_string(e ? e->ether_type : 0) + ":" + std::to_string(f.bytes.size());
  }
  std::string s = "tcp:" + std::to_string(t->tcp.flags) + ":" + std::to_string(t->options.size()) +
                  ":" + (t->tcp.payload_len > 0 ? "data" : "nodata");
  if (t->tcp.options.sack_count > 0) s += ":sack" + std::to_string(t->tcp.options.sack_count);
  return s;
}

std::vector<std::uint8_t> icmp_echo_frame() {
  std::vector<std::uint8_t> f(wire::kEtherHeaderLen + wire::kIpv4MinHeaderLen +
                              wire::kIcmpHeaderLen + 32);
  const auto out = std::as_writable_bytes(std::span(f));
  wire::ether_repr e;
  e.dst = sim::kMacB;
  e.src = sim::kMacA;
  e.ether_type = wire::kEthertypeIpv4;
  (void)wire::emit_ether(e, out);
  wire::ipv4_repr ip;
  ip.src = sim::kIpA;
  ip.dst = sim::kIpB;
  ip.protocol = wire::kIpProtoIcmp;
  ip.total_length = static_cast<std::uint16_t>(f.size() - wire::kEtherHeaderLen);
  (void)wire::emit_ipv4_header(ip, wire::tx_checksum::full, out.subspan(wire::kEtherHeaderLen));
  std::array<std::byte, 32> data{};
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::byte{static_cast<std::uint8_t>(i)};
  wire::icmp_repr icmp;
  icmp.type = wire::kIcmpEchoRequest;
  icmp.echo_id = 0x1234;
  icmp.echo_seq = 1;
  icmp.data = data;
  (void)wire::emit_icmp(icmp, out.subspan(wire::kEtherHeaderLen + wire::kIpv4MinHeaderLen));
  return f;
}

// fuzz_syn_cookie's layout: key, tuple, ISN, MSS, now, later, seq, ack,
// flip, ts_now, wscale, flags.
std::vector<std::uint8_t> cookie_input(const tcp_frame& syn, std::uint64_t now_ns,
                                       std::uint8_t salt) {
  std::vector<std::uint8_t> b;
  auto put = [&](auto v) {
    std::uint8_t x[sizeof v];
    std::memcpy(x, &v, sizeof v);
    b.insert(b.end(), x, x + sizeof v);
  };
  for (std::uint8_t i = 0; i < 16; ++i) put(static_cast<std::uint8_t>(i * 17 + salt));
  put(syn.ip.dst.value);
  put(syn.ip.src.value);
  put(syn.tcp.dst_port);
  put(syn.tcp.src_port);
  put(syn.tcp.seq.value);
  put(syn.tcp.options.mss.value_or(536));
  put(now_ns << 2);  // the target shifts it back
  put(std::uint64_t{salt} * 1'000'000'007ULL);
  put(syn.tcp.seq.value + 1);
  put(syn.tcp.seq.value ^ 0x5a5a5a5aU);
  put(salt);
  put(syn.tcp.options.timestamps ? syn.tcp.options.timestamps->tsval : 0U);
  put(syn.tcp.options.window_scale.value_or(0));
  put(static_cast<std::uint8_t>((syn.tcp.options.sack_permitted ? 1 : 0) |
                                (syn.tcp.options.window_scale ? 2 : 0)));
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  rte_mempool* pool = support::start_eal_with_pool("make_seeds", 256, "make_seeds_pool", 1023);
  if (pool == nullptr) return 1;

  tcp::tcp_config modern;  // timestamps, SACK, window scaling: the defaults
  modern.msl = base::nanos{2 * sim::kSec};
  tcp::tcp_config plain = modern;
  plain.timestamps = false;
  plain.sack = false;
  plain.window_scaling = false;
  tcp::tcp_config cookies = modern;
  cookies.syncookies = tcp::syncookies_mode::always;
  sim::link_config clean;
  clean.delay_ns = 0;
  sim::link_config lossy;
  lossy.loss = 0.05;
  lossy.reorder = 0.05;
  lossy.duplicate = 0.02;
  lossy.reorder_delay_ns = 300'000;

  const std::vector<scenario> scenarios = {
      {"handshake_exchange_close", modern, modern, clean, 300, 200, false},
      {"transfer_loss_sack", modern, modern, lossy, 24'000, 3000, false},
      {"transfer_loss_plain", plain, plain, lossy, 16'000, 1000, false},
      {"server_closes_first", modern, modern, clean, 100, 2000, true},
      {"cookies_always", modern, cookies, clean, 1000, 500, false},
  };

  const std::vector<std::string> targets = {
      "fuzz_wire_frame", "fuzz_wire_tcp_options", "fuzz_syn_cookie",
      "fuzz_tcp_listen_cookies_always", "fuzz_tcp_listen_cookies_never", "fuzz_tcp_established"};
  for (const auto& t : targets) fs::remove_all(root / t);

  std::set<std::string> frame_kinds;
  std::set<std::vector<std::uint8_t>> option_sets;
  std::size_t frames_out = 0, cookies_out = 0;
  for (const auto& s : scenarios) {
    const auto frames = run(s);
    // Frames: a few of each kind, whole, so lengths stay consistent.
    for (const auto& f : frames) {
      if (frames_out >= 60 || !frame_kinds.insert(signature(f)).second) continue;
      write_file(root / "fuzz_wire_frame", s.name + "_" + std::to_string(frames_out++), f.bytes);
    }
    for (const auto& f : frames) {
      const auto t = tcp_of(f);
      if (!t || t->options.empty()) continue;
      std::vector<std::uint8_t> o(t->options.size());
      std::memcpy(o.data(), t->options.data(), o.size());
      if (option_sets.size() < 30 && option_sets.insert(o).second) {
        write_file(root / "fuzz_wire_tcp_options",
                   s.name + "_" + std::to_string(option_sets.size()), o);
      }
      if (t->tcp.has(flag::kSyn) && cookies_out < 12) {
        write_file(root / "fuzz_syn_cookie", s.name + "_" + std::to_string(cookies_out),
                   cookie_input(*t, f.ns, static_cast<std::uint8_t>(cookies_out)));
        ++cookies_out;
      }
    }

    auto listen = to_script(frames, s, false, 0);
    if (s.name == "cookies_always") {
      // A flood's share: spoofed SYNs on tuple 2 and an ACK with a forged cookie.
      for (std::uint32_t i = 0; i < 4; ++i) {
        script_segment syn;
        syn.flags = flag::kSyn;
        syn.seq = 0x10000000U * (i + 1);
        syn.window = 64240;
        syn.mss = 1460;
        syn.wscale = 7;
        syn.sack_permitted = true;
        syn.ts = std::array<std::uint32_t, 2>{i, 0};
        listen.segment(2, false, false, syn, i > 0);
      }
      script_segment forged;
      forged.flags = flag::kAck;
      forged.seq = 1;
      forged.ack = 0xdeadbeef;
      forged.window = 502;
      listen.segment(2, true, false, forged);
    }
    for (const char* t : {"fuzz_tcp_listen_cookies_always", "fuzz_tcp_listen_cookies_never"}) {
      write_file(root / t, s.name, listen.bytes());
    }
    const auto est = to_script(frames, s, true, peer_config(frames));
    write_file(root / "fuzz_tcp_established", s.name, est.bytes());
  }
  write_file(root / "fuzz_wire_frame", "icmp_echo_request", icmp_echo_frame());

  support::stop_eal(pool);
  return 0;
}
