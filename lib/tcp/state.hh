#pragma once
// The eleven states of RFC 9293 §3.3.2.
#include <array>
#include <cstdint>
#include <string_view>

namespace kbt::tcp {

enum class tcp_state : std::uint8_t {
  closed,
  listen,
  syn_sent,
  syn_rcvd,
  established,
  fin_wait_1,
  fin_wait_2,
  close_wait,
  closing,
  last_ack,
  time_wait,
};

inline constexpr std::size_t kStateCount = 11;

constexpr std::string_view to_string(tcp_state s) noexcept {
  constexpr std::array<std::string_view, kStateCount> kNames = {
      "CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
      "FIN_WAIT_2",  "CLOSE_WAIT", "CLOSING",    "LAST_ACK", "TIME_WAIT"};
  const auto i = static_cast<std::size_t>(s);
  return i < kNames.size() ? kNames[i] : "INVALID";
}

// RFC 9293 §3.10.7.4: the states past the handshake, where sequence numbers
// of both sides are known.
constexpr bool is_synchronized(tcp_state s) noexcept {
  return s >= tcp_state::established || s == tcp_state::syn_rcvd;
}

// States in which the peer may still send us data (no FIN received yet).
constexpr bool can_receive(tcp_state s) noexcept {
  return s == tcp_state::established || s == tcp_state::fin_wait_1 ||
         s == tcp_state::fin_wait_2;
}

// States in which the application may queue data: before our FIN, the
// handshake included (RFC 9293 §3.10.2: SEND in SYN_SENT and SYN_RCVD
// queues the data until ESTABLISHED).
constexpr bool may_queue_data(tcp_state s) noexcept {
  return s == tcp_state::syn_sent || s == tcp_state::syn_rcvd || s == tcp_state::established ||
         s == tcp_state::close_wait;
}

// States in which output may transmit queued data and the FIN: synchronized,
// and our FIN not yet acknowledged (RFC 9293 §3.10.7.4: FIN_WAIT_1, CLOSING
// and LAST_ACK still retransmit).
constexpr bool may_transmit(tcp_state s) noexcept {
  return s == tcp_state::established || s == tcp_state::close_wait ||
         s == tcp_state::fin_wait_1 || s == tcp_state::closing || s == tcp_state::last_ack;
}

// Our side has closed and the connection is finishing, short of TIME_WAIT.
constexpr bool is_closing(tcp_state s) noexcept {
  return s == tcp_state::fin_wait_1 || s == tcp_state::fin_wait_2 || s == tcp_state::closing ||
         s == tcp_state::last_ack;
}

// States in which we may still send data (our FIN not queued yet).
constexpr bool can_send(tcp_state s) noexcept {
  return s == tcp_state::established || s == tcp_state::close_wait;
}

}  // namespace kbt::tcp
