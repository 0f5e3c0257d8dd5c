#include "tcp_fixture.hh"

#include "segment_factory.hh"

namespace kbt::tcp::test {
namespace {

// A segment a receiving kernel would reject fails the test that made it.
void add_failure(void*, const char* what) { ADD_FAILURE() << what; }

}  // namespace

void TcpFixture::SetUp() {
  _mbufs_before = kbt::test::available_mbufs();
  tcp_config c;
  c.max_time_wait = 1024;  // the default's 14 MB per test buys nothing here
  make_layer(c);
}

void TcpFixture::TearDown() {
  _layer = nullptr;
  _rig.reset();
  EXPECT_EQ(kbt::test::available_mbufs(), _mbufs_before) << "mbufs leaked";
}

void TcpFixture::make_layer(const tcp_config& config, cc_algorithm cc) {
  _layer = nullptr;
  _rig.reset();
  support::rig_config rc;
  rc.tcp = config;
  rc.tcp.cc = cc;
  rc.max_conns = _max_conns;
  rc.pool = kbt::test::mbuf_pool();
  rc.port_first = _port_first;
  rc.port_last = _port_last;
  rc.sources = _sources;
  _rig = std::make_unique<support::tcp_rig>(rc, _clock, &add_failure);
  _layer = &_rig->layer();
}

void TcpFixture::input(const seg_in& s) {
  _rig->auto_poll = _auto_poll;
  _rig->input({.src_port = s.src_port, .dst_port = s.dst_port, .flags = s.flags, .seq = s.seq,
               .ack = s.ack, .window = s.window, .urgent = s.urgent, .options = s.options,
               .payload = std::as_bytes(std::span(s.payload.data(), s.payload.size()))});
}

void TcpFixture::poll() { _rig->poll(); }

std::vector<seg_out> TcpFixture::sent() { return _rig->sent(); }

seg_out TcpFixture::sent_one() {
  auto v = sent();
  EXPECT_EQ(v.size(), 1U) << "expected exactly one segment";
  if (v.empty()) return {};
  return v.front();
}

void TcpFixture::advance_ns(std::uint64_t ns) {
  _rig->advance_ns(ns);
  _rig->poll();
}

void TcpFixture::advance_ms(std::uint64_t ms) { advance_ns(ms * kMs); }

std::uint8_t TcpFixture::events_for(tcb* c) { return _rig->take_events(c); }

tcb* TcpFixture::syn_rcvd(const wire::tcp_options& syn_options, std::uint16_t port) {
  _rig->auto_poll = _auto_poll;
  const auto k = support::syn_rcvd(*_rig, support::side::passive, syn_options, port);
  _iss = k.iss;
  return k.c;
}

tcb* TcpFixture::established_passive(const wire::tcp_options& syn_options, std::uint16_t port) {
  _rig->auto_poll = _auto_poll;
  const auto k = support::established(*_rig, support::side::passive, syn_options, port);
  _iss = k.iss;
  return k.c;
}

tcb* TcpFixture::established_active(const wire::tcp_options& synack_options) {
  _rig->auto_poll = _auto_poll;
  const auto k = support::established(*_rig, support::side::active, synack_options);
  _iss = k.iss;
  return k.c;
}

std::string text(const seg_out& s) { return {s.payload.begin(), s.payload.end()}; }

std::string read_all(tcp_layer& l, tcb& c, base::instant now) {
  rte_mbuf* m = l.recv(c, now);
  std::string out;
  for (rte_mbuf* s = m; s != nullptr; s = s->next) {
    out.append(rte_pktmbuf_mtod(s, const char*), s->data_len);
  }
  rte_pktmbuf_free(m);
  return out;
}

}  // namespace kbt::tcp::test
