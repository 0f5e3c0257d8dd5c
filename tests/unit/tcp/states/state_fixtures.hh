#pragma once
// One fixture per state of RFC 9293 §3.3.2, so that what the stack does in
// a state is found under that state's name whatever the topic, as smoltcp
// groups its tests; each file in this folder is one state's. All of them
// are TcpFixture: a state is reached by the builders of
// tests/support/tcp_states.hh or by the exchange a test spells out. The
// helpers here are the ones tests of more than one file need, a state's
// and a topic file's.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "../tcp_fixture.hh"

namespace kbt::tcp::test {

using support::rig_conn;
using support::side;

inline const std::string kHello = "hello";
inline std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

inline constexpr std::uint64_t kTwoMslMs = 60'000;  // default MSL 30 s

// A listener whose SYN queue, accept queue and cookie mode a test chooses,
// and the peer's half of its handshakes (listener_test.cc's suite, and
// LISTEN's tests that need a mode).
class ListenerFixture : public TcpFixture {
 protected:
  void with(syncookies_mode mode, std::uint32_t syn_queue = 1024, std::uint32_t accept_queue = 4096) {
    tcp_config cfg;
    cfg.max_time_wait = 1024;
    cfg.syncookies = mode;
    cfg.syn_queue_max = syn_queue;
    cfg.accept_queue_max = accept_queue;
    make_layer(cfg);
    ASSERT_TRUE(_layer->listen(kServerPort));
  }
  // A SYN from `port` with a full set of options; returns the SYN-ACK.
  seg_out syn_from(std::uint16_t port, bool timestamps = true) {
    wire::tcp_options o;
    o.mss = 1460;
    o.window_scale = 7;
    o.sack_permitted = true;
    if (timestamps) o.timestamps = wire::tcp_timestamps{5000, 0};
    input({.flags = flag::kSyn, .seq = kPeerIsn, .options = o, .src_port = port});
    auto v = sent();
    EXPECT_EQ(v.size(), 1U);
    return v.empty() ? seg_out{} : v.front();
  }
  // The ACK completing the handshake the SYN-ACK `sa` began.
  void ack_of(const seg_out& sa, std::uint16_t port, std::string payload = {}) {
    wire::tcp_options o;
    if (sa.h.options.timestamps) o.timestamps = wire::tcp_timestamps{5001, sa.h.options.timestamps->tsval};
    input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = sa.h.seq.value + 1,
           .payload = std::move(payload), .options = o, .src_port = port});
  }
  const listening_port& l() { return *_layer->find_listener(kServerPort); }
  std::uint32_t syn_queue() { return _layer->syn_queue_length(kServerPort); }
  tcb* conn(std::uint16_t port) { return _layer->find({kStackIp, kPeerIp, kServerPort, port}); }
};

class Closed : public TcpFixture {};
class Listen : public ListenerFixture {};
class SynSent : public TcpFixture {};
class SynRcvd : public TcpFixture {};
class Established : public TcpFixture {};
class FinWait1 : public TcpFixture {};
class FinWait2 : public TcpFixture {};
class CloseWait : public TcpFixture {};
class Closing : public TcpFixture {};
class LastAck : public TcpFixture {};

// TIME_WAIT with the peer's timestamps on to the end (the builder's peer
// sends none past ESTABLISHED), for PAWS and RFC 6191 on the record, and
// with the old TCB kept back when a test releases it late.
class TimeWait : public TcpFixture {
 protected:
  static constexpr std::uint32_t kPeerTs = 100;

  // The passive connection closed by us first: TIME_WAIT. Sets _u to our
  // FIN's sequence number and _w to the peer's.
  // `release`: the application lets go of the old connection at once.
  void to_time_wait(bool timestamps, std::uint16_t port = kPeerPort, bool release = true) {
    wire::tcp_options o;
    o.mss = 1460;
    if (timestamps) o.timestamps = wire::tcp_timestamps{kPeerTs, 0};
    ASSERT_TRUE(_layer->listen(kServerPort));
    input({.flags = flag::kSyn, .seq = kPeerIsn, .options = o, .src_port = port});
    const auto sa = sent_one();
    _iss = sa.h.seq.value;
    wire::tcp_options a;
    if (timestamps) a.timestamps = wire::tcp_timestamps{kPeerTs, sa.h.options.timestamps->tsval};
    input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .options = a, .src_port = port});
    tcb* c = _layer->find({kStackIp, kPeerIp, kServerPort, port});
    ASSERT_NE(c, nullptr);
    _layer->shutdown(*c, _now);
    sent();
    _u = _iss + 1;
    _w = kPeerIsn + 1;
    input({.flags = flag::kFin | flag::kAck, .seq = _w, .ack = _u + 1, .options = a, .src_port = port});
    sent();
    _old = c;
    if (release) _layer->release(*c, _now);
  }
  four_tuple tuple(std::uint16_t port = kPeerPort) const { return {kStackIp, kPeerIp, kServerPort, port}; }
  wire::tcp_options ts(std::uint32_t tsval) const {
    wire::tcp_options o;
    o.timestamps = wire::tcp_timestamps{tsval, 0};
    return o;
  }
  std::uint32_t _u = 0;
  std::uint32_t _w = 0;
  tcb* _old = nullptr;
};

}  // namespace kbt::tcp::test
