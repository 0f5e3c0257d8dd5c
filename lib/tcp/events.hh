#pragma once
// What the stack tells the application about a connection: the event bits
// tcp_layer::poll_events() delivers and why a connection ended. Apart from
// the TCB (tcb.hh) so that the API and the applications can name them
// without seeing the TCB's fields.
#include <cstdint>
#include <string_view>

namespace kbt::tcp {

// Why a connection ended, as the application is told.
enum class close_reason : std::uint8_t {
  normal,   // both FINs exchanged (or our abort after a clean close)
  reset,    // the peer sent an acceptable RST
  timeout,  // retransmissions (or keepalive probes) went unanswered
  refused,  // RST in answer to our SYN
  aborted,  // the application called abort() (we sent RST)
};

// For messages and logs: "normal", "reset", "timeout", "refused", "aborted".
constexpr std::string_view to_string(close_reason r) noexcept {
  switch (r) {
    case close_reason::normal: return "normal";
    case close_reason::reset: return "reset";
    case close_reason::timeout: return "timeout";
    case close_reason::refused: return "refused";
    case close_reason::aborted: return "aborted";
  }
  return "?";
}

// What happened since the application last looked; delivered by
// tcp_layer::poll_events(), one bit per kind.
namespace event {
inline constexpr std::uint8_t kConnected = 0x01;  // handshake done (active or passive)
inline constexpr std::uint8_t kReadable = 0x02;   // in-order data waits in the receive queue
inline constexpr std::uint8_t kWritable = 0x04;   // send buffer space freed by ACKs
inline constexpr std::uint8_t kPeerFin = 0x08;    // the peer closed its side (half-close)
inline constexpr std::uint8_t kClosed = 0x10;     // the connection is over; see reason
inline constexpr std::uint8_t kUrgent = 0x20;     // the urgent pointer moved (RFC 9293 §3.8.5)
inline constexpr std::uint8_t kAcked = 0x40;      // the peer acknowledged data (acked_unreported)
}  // namespace event

}  // namespace kbt::tcp
