#pragma once
// When kbt-echo's session sends more and when it sends its FIN. Kept apart
// from echo_handler (no stack in it) so the unit tests check the rules.
//
// The peer's FIN closes only the peer's direction (RFC 9293 §3.6: a
// connection in CLOSE-WAIT may still send), so a source with --bytes N
// sends all N bytes after it, then its own FIN. Only a source with no
// --bytes (until the peer closes) takes the peer's FIN as its end, as
// chargen (RFC 864) stops when the caller is done; echo answers everything
// that arrived before the FIN, then closes.
#include <cstdint>

namespace kbt::apps {

struct source_progress {
  std::uint64_t limit = 0;  // --bytes; 0: until the peer closes
  std::uint64_t queued = 0;  // bytes handed to the stack so far
  bool peer_fin = false;
  bool stop = false;  // the application ends it (the --connect client's --duration)
};

// Bytes the source may still queue (with no limit, `chunk`: one more buffer).
constexpr std::uint64_t source_left(const source_progress& p, std::uint64_t chunk) noexcept {
  if (p.stop) return 0;
  if (p.limit == 0) return p.peer_fin ? 0 : chunk;
  return p.limit - p.queued;
}

// The source has queued its last byte: its FIN may follow.
constexpr bool source_done(const source_progress& p) noexcept {
  return p.stop || (p.limit == 0 ? p.peer_fin : p.queued == p.limit);
}

// Echo: FIN once the peer's FIN (or stop) has come and every byte that came
// before it has gone back out (nothing held, nothing unread).
constexpr bool echo_done(bool peer_fin, bool stop, bool held, std::uint64_t unread) noexcept {
  return (peer_fin || stop) && !held && unread == 0;
}

}  // namespace kbt::apps
