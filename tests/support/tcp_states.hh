#pragma once
// Builders that bring one connection of a tcp_rig to each of the eleven
// states of RFC 9293 §3.3.2 by a real exchange (segments in, the layer's
// own answers out; no field is set by hand), smoltcp's socket_established()
// style. Each checks every segment the layer sends on the way and the state
// it reached (tcp_layer::state_of); a mismatch goes to the rig's failure
// hook. Beyond ESTABLISHED the peer sends no options, so later segments
// need none.
#include <cstdint>

#include "tcp_rig.hh"

namespace kbt::support {

inline constexpr std::uint16_t kServerPort = 80;     // the stack's listener
inline constexpr std::uint16_t kPeerPort = 40000;    // the peer of a passive open
inline constexpr std::uint16_t kActivePort = 40001;  // the stack's port in an active open
inline constexpr std::uint32_t kPeerIsn = 1000;

// Who opened: the peer (passive: the stack listens) or the stack (active).
enum class side : std::uint8_t { passive, active };

// The connection as a builder left it, with what each side sends next.
struct rig_conn {
  tcp::tcb* c = nullptr;    // nullptr for LISTEN
  tcp::four_tuple tuple;    // from the stack's side
  std::uint32_t iss = 0;    // the stack's ISN, read off its SYN(-ACK)
  std::uint32_t stack_nxt = 0;  // the stack's next sequence number
  std::uint32_t peer_nxt = 0;   // the peer's next sequence number
  // `s` addressed to the stack on this connection.
  segment_spec on(segment_spec s) const {
    s.src_port = tuple.remote_port;
    s.dst_port = tuple.local_port;
    return s;
  }
};

// Fails through the rig unless the layer has `tuple` in `want`.
bool expect_state(tcp_rig& rig, const tcp::four_tuple& tuple, tcp::tcp_state want);

// LISTEN: a listener on kServerPort; `tuple` is the one a SYN from
// kPeerPort would open (no connection yet: state_of gives CLOSED).
rig_conn listen_state(tcp_rig& rig, std::uint16_t peer_port = kPeerPort);
// SYN_SENT: connect(), SYN out (active only).
rig_conn syn_sent(tcp_rig& rig);
// SYN_RCVD: passive, SYN in and SYN-ACK out (the SYN gets MSS 1460 unless
// `syn_options` says otherwise); active, a simultaneous open (our SYN out,
// the peer's SYN in, SYN-ACK out; RFC 9293 §3.5 figure 8).
rig_conn syn_rcvd(tcp_rig& rig, side s, const wire::tcp_options& syn_options = {},
                  std::uint16_t peer_port = kPeerPort);
// ESTABLISHED: ... and the final ACK in (passive; with timestamps if the SYN
// had them) or SYN-ACK in and ACK out (active, `syn_options` on the SYN-ACK).
rig_conn established(tcp_rig& rig, side s, const wire::tcp_options& syn_options = {},
                     std::uint16_t peer_port = kPeerPort);
// FIN_WAIT_1: ESTABLISHED, then shutdown(): FIN out, not yet acknowledged.
rig_conn fin_wait_1(tcp_rig& rig, side s);
// FIN_WAIT_2: FIN_WAIT_1 and the peer's ACK of our FIN.
rig_conn fin_wait_2(tcp_rig& rig, side s);
// CLOSE_WAIT: ESTABLISHED and the peer's FIN, which the stack ACKs.
rig_conn close_wait(tcp_rig& rig, side s);
// CLOSING: FIN_WAIT_1 and the peer's FIN that does not ACK ours
// (simultaneous close, RFC 9293 §3.6 figure 13), which the stack ACKs.
rig_conn closing(tcp_rig& rig, side s);
// LAST_ACK: CLOSE_WAIT, then shutdown(): FIN out.
rig_conn last_ack(tcp_rig& rig, side s);
// TIME_WAIT: FIN_WAIT_2 and the peer's FIN, which the stack ACKs.
rig_conn time_wait(tcp_rig& rig, side s);
// CLOSED after a close: LAST_ACK and the peer's ACK of our FIN. The
// application still holds the TCB (c), in CLOSED.
rig_conn closed(tcp_rig& rig, side s);

}  // namespace kbt::support
