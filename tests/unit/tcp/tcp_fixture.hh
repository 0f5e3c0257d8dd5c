#pragma once
// The unit tests' view of the shared rig (tests/support/tcp_rig.hh): one
// tcp_layer fed with the peer's segments, what it sends captured, parsed and
// checksum-checked (a wrong checksum fails the test). The stack is
// 198.18.0.2, the peer 198.18.0.1. Builders (tests/support/tcp_states.hh)
// bring a connection to a given state, so each test starts where its
// transition starts.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tcp/tcp_layer.hh"
#include "tcp_rig.hh"
#include "tcp_states.hh"
#include "test_env.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::tcp::test {

using wire::seq32;
namespace flag = wire::tcp_flag;

using support::kPeerIp;
using support::kPeerPort;
using support::kServerPort;
using support::kStackIp;
// The connection established_passive() makes, from the stack's side.
inline constexpr four_tuple kPassiveTuple{kStackIp, kPeerIp, kServerPort, kPeerPort};

// A segment the stack sent, parsed.
using seg_out = support::captured_segment;

// What a test sends to the stack.
struct seg_in {
  std::uint8_t flags = flag::kAck;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 65535;
  std::string payload;
  wire::tcp_options options;
  std::uint16_t src_port = kPeerPort;
  std::uint16_t dst_port = kServerPort;
  std::uint16_t urgent = 0;
};

class TcpFixture : public testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Builds the layer (again) with `config`.
  void make_layer(const tcp_config& config, cc_algorithm cc = cc_algorithm::newreno);
  // Feeds one segment at the current time.
  void input(const seg_in& s);
  // Everything sent since the last call, parsed (flushes the layer first).
  std::vector<seg_out> sent();
  // Exactly one segment sent; fails the test otherwise.
  seg_out sent_one();
  // Moves the clock and runs the timers.
  void advance_ms(std::uint64_t ms);
  void advance_ns(std::uint64_t ns);
  // Events delivered since the last call, per connection.
  std::uint8_t events_for(tcb* c);

  // --- builders. The peer's ISN is kPeerIsn; the stack's is read off its SYN(-ACK).
  static constexpr std::uint32_t kPeerIsn = support::kPeerIsn;
  // LISTEN, then SYN in, SYN-ACK out: the connection in SYN_RCVD. `port`:
  // the peer's, so that a test can open several.
  tcb* syn_rcvd(const wire::tcp_options& syn_options = {}, std::uint16_t port = kPeerPort);
  // ... and the final ACK: ESTABLISHED (passive).
  tcb* established_passive(const wire::tcp_options& syn_options = {},
                           std::uint16_t port = kPeerPort);
  // connect(): SYN out, SYN-ACK in, ACK out: ESTABLISHED (active).
  tcb* established_active(const wire::tcp_options& synack_options = {});

  support::tcp_rig& rig() { return *_rig; }

  support::virtual_clock _clock;
  base::instant& _now = _clock.now;
  std::unique_ptr<support::tcp_rig> _rig;
  tcp_layer* _layer = nullptr;  // the rig's
  std::uint32_t _iss = 0;  // the stack's ISN in the current connection
  unsigned _mbufs_before = 0;
  // After each input, hand events to the "application" (which also empties
  // the accept queue). Off for tests of the accept queue itself.
  bool _auto_poll = true;
  // Source ports for connect() without one; make_layer() uses them.
  std::uint32_t _max_conns = 16;  // TCBs; make_layer() uses it
  std::uint16_t _port_first = port_pool::kFirst;
  std::uint16_t _port_last = port_pool::kLast;
  wire::ipv4_range _sources;  // source addresses of connect(); empty: kStackIp
  void poll();
};

inline constexpr siphash_key kCookieKey = support::kCookieKey;

// The payload as a string, for short assertions.
std::string text(const seg_out& s);
// Reads everything the stack received on `c` as a string (frees the mbufs).
std::string read_all(tcp_layer& l, tcb& c, base::instant now);

}  // namespace kbt::tcp::test
