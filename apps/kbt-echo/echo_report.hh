#pragma once
// What kbt-echo says about a connection when it ends. No stack in here: tests/unit/apps/kbt_echo_test.cc.
//
// One line per connection, key=value after the mode and the peer:
//   kbt-echo: discard 198.18.0.3:40001 bytes=1000000 seconds=0.010000 gbit_s=0.800 reason=normal sha256=...
// bytes: received (discard, echo) or acknowledged by the peer (source), so
// a sender never counts what did not arrive; seconds: from the handshake to
// the last of those bytes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tcp/events.hh"
#include "wire/addr.hh"

namespace kbt::apps {

enum class echo_mode : std::uint8_t { echo, discard, source };

struct session_summary {
  echo_mode mode = echo_mode::echo;
  bool client = false;  // we opened it (--connect)
  wire::ipv4_addr peer_ip;
  std::uint16_t peer_port = 0;
  std::uint64_t bytes = 0;
  std::uint64_t ns = 0;  // handshake to the last byte counted
  tcp::close_reason reason = tcp::close_reason::normal;
  std::string sha256;  // discard: hex digest of what arrived; empty otherwise
};

std::string_view mode_name(echo_mode m) noexcept;
// 0 when no time passed.
double gbit_per_s(std::uint64_t bytes, std::uint64_t ns) noexcept;
// The line above, without a newline.
std::string format_summary(const session_summary& s);


}  // namespace kbt::apps
