#include "tcp_fixture.hh"

#include <cstring>

#include "segment_factory.hh"
#include "wire/mbuf_bytes.hh"

namespace kbt::tcp::test {
namespace {

std::size_t capture(void* ctx, std::span<const out_packet> pkts) noexcept {
  auto* v = static_cast<std::vector<out_packet>*>(ctx);
  v->insert(v->end(), pkts.begin(), pkts.end());
  return pkts.size();
}

// The whole chain's bytes.
std::vector<std::uint8_t> chain_bytes(const rte_mbuf* m) {
  std::vector<std::uint8_t> out;
  for (; m != nullptr; m = m->next) {
    const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
    out.insert(out.end(), p, p + m->data_len);
  }
  return out;
}

}  // namespace

void TcpFixture::SetUp() {
  _mbufs_before = kbt::test::available_mbufs();
  tcp_config c;
  c.max_time_wait = 1024;  // the default's 14 MB per test buys nothing here
  make_layer(c);
}

void TcpFixture::TearDown() {
  _layer.reset();
  for (auto& p : _captured) rte_pktmbuf_free(p.m);
  _captured.clear();
  EXPECT_EQ(kbt::test::available_mbufs(), _mbufs_before) << "mbufs leaked";
}

void TcpFixture::make_layer(const tcp_config& config, cc_algorithm cc) {
  _layer.reset();
  tcp_layer_config lc;
  lc.tcp = config;
  lc.tcp.cc = cc;
  lc.local_ip = kStackIp;
  lc.max_conns = _max_conns;
  lc.pool = kbt::test::mbuf_pool();
  lc.isn_key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  lc.cookie_key = kCookieKey;
  lc.start_ns = _now;
  lc.port_first = _port_first;
  lc.port_last = _port_last;
  lc.sources = _sources;
  _layer = std::make_unique<tcp_layer>(lc, &capture, &_captured);
}

void TcpFixture::input(const seg_in& s) {
  const auto frame = support::build_ipv4_tcp(
      {.src = kPeerIp, .dst = kStackIp, .src_port = s.src_port, .dst_port = s.dst_port,
       .flags = s.flags, .seq = s.seq, .ack = s.ack, .window = s.window, .urgent = s.urgent,
       .options = s.options,
       .payload = std::as_bytes(std::span(s.payload.data(), s.payload.size()))});
  // Parse it back as the engine would, so input gets what it gets in life.
  const auto bytes = std::as_bytes(std::span(frame));
  const auto pip = wire::parse_ipv4_header(bytes);
  ASSERT_TRUE(pip);
  const auto pseg = wire::parse_tcp(bytes.subspan(20, frame.size() - 20), pip->src, pip->dst);
  ASSERT_TRUE(pseg);
  _layer->input(kbt::test::make_mbuf(frame), *pip, *pseg, 20, _now);
  if (_auto_poll) poll();
}

void TcpFixture::poll() {
  _layer->poll_events([this](tcb& c, std::uint8_t ev) { _events.emplace_back(&c, ev); });
}

std::vector<seg_out> TcpFixture::sent() {
  _layer->flush();
  std::vector<seg_out> out;
  for (auto& p : _captured) {
    const auto bytes = chain_bytes(p.m);
    const auto span = std::as_bytes(std::span(bytes));
    const auto ip = wire::parse_ipv4_header(span);
    EXPECT_TRUE(ip) << "bad IPv4 header out";
    if (ip) {
      const auto seg = wire::parse_tcp(span.subspan(ip->header_len, ip->payload_len()), ip->src,
                                       ip->dst, true);
      EXPECT_TRUE(seg) << "bad TCP segment out (checksum?)";
      if (seg) {
        seg_out s{*seg, {}, ip->dst};
        s.payload.assign(bytes.begin() + ip->header_len + seg->header_len,
                         bytes.begin() + ip->header_len + seg->header_len + seg->payload_len);
        out.push_back(std::move(s));
      }
    }
    rte_pktmbuf_free(p.m);
  }
  _captured.clear();
  return out;
}

seg_out TcpFixture::sent_one() {
  auto v = sent();
  EXPECT_EQ(v.size(), 1U) << "expected exactly one segment";
  if (v.empty()) return {};
  return v.front();
}

void TcpFixture::advance_ns(std::uint64_t ns) {
  _now += ns;
  _layer->advance(_now);
  _layer->poll_events([this](tcb& c, std::uint8_t ev) { _events.emplace_back(&c, ev); });
}

void TcpFixture::advance_ms(std::uint64_t ms) { advance_ns(ms * kMs); }

std::uint8_t TcpFixture::events_for(tcb* c) {
  std::uint8_t ev = 0;
  for (auto& [conn, e] : _events) {
    if (conn == c) ev |= e;
  }
  _events.clear();
  return ev;
}

tcb* TcpFixture::syn_rcvd(const wire::tcp_options& syn_options, std::uint16_t port) {
  EXPECT_TRUE(_layer->listen(kServerPort));
  const std::size_t before = _layer->connections();
  // A peer on Ethernet: MSS 1460 unless the test says otherwise.
  wire::tcp_options o = syn_options;
  if (!o.mss) o.mss = 1460;
  input({.flags = flag::kSyn, .seq = kPeerIsn, .options = o, .src_port = port});
  const auto synack = sent_one();
  EXPECT_EQ(synack.h.flags, flag::kSyn | flag::kAck);
  _iss = synack.h.seq.value;
  EXPECT_EQ(_layer->connections(), before + 1);
  return _layer->find({kStackIp, kPeerIp, kServerPort, port});
}

tcb* TcpFixture::established_passive(const wire::tcp_options& syn_options, std::uint16_t port) {
  syn_rcvd(syn_options, port);
  // RFC 7323 §3.2: timestamps agreed, every segment from now on has them.
  wire::tcp_options o;
  if (syn_options.timestamps) o.timestamps = wire::tcp_timestamps{syn_options.timestamps->tsval, 0};
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .options = o, .src_port = port});
  tcb* c = nullptr;
  for (auto& [conn, e] : _events) {
    if ((e & event::kConnected) != 0) c = conn;
  }
  _events.clear();
  EXPECT_NE(c, nullptr) << "no kConnected event";
  if (c != nullptr) {
    EXPECT_EQ(c->state, tcp_state::established);
  }
  EXPECT_TRUE(sent().empty());
  return c;
}

tcb* TcpFixture::established_active(const wire::tcp_options& synack_options) {
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, kPeerPort + 1);
  EXPECT_NE(c, nullptr);
  if (c == nullptr) return nullptr;
  const auto syn = sent_one();
  EXPECT_EQ(syn.h.flags, flag::kSyn);
  _iss = syn.h.seq.value;
  input({.flags = flag::kSyn | flag::kAck, .seq = kPeerIsn, .ack = _iss + 1,
         .options = synack_options, .src_port = kServerPort, .dst_port = kPeerPort + 1});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(c->state, tcp_state::established);
  EXPECT_NE(events_for(c) & event::kConnected, 0);
  return c;
}

std::string text(const seg_out& s) { return {s.payload.begin(), s.payload.end()}; }

std::string read_all(tcp_layer& l, tcb& c, std::uint64_t now) {
  rte_mbuf* m = l.recv(c, now);
  std::string out;
  for (rte_mbuf* s = m; s != nullptr; s = s->next) {
    out.append(rte_pktmbuf_mtod(s, const char*), s->data_len);
  }
  rte_pktmbuf_free(m);
  return out;
}

}  // namespace kbt::tcp::test
