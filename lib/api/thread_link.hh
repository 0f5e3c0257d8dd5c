#pragma once
// Connections for threads that are not stack cores (an application's own
// worker threads): a thread_link joins one such thread to one core through
// two single-producer single-consumer queues (boost::lockfree via
// core::command_queue), one for requests, one for completions. No lock, no
// system call, on either side.
//
//   thread                                   core (inside run_app's loop)
//   submit({connect, tag, ip, port})  --->   connect(); later:
//   next(c): {connected, tag, id}     <---   on the handshake's end
//   submit({send, id, mbuf})          --->   send (zero-copy)
//   next(c): {data, id, mbuf}         <---   received payload, in place
//   submit({close, id})               --->   FIN; {closed, id, normal} at once
//                                            (the handshake ends without the thread)
//   submit({shutdown, id})            --->   FIN; {closed, id, reason} at the end
//
// Ownership: an mbuf in a send request belongs to the core from submit()
// on (it is freed if the connection is gone); an mbuf in a data completion
// belongs to the thread, which frees it (rte_pktmbuf_free) when done.
// Requests for one connection must go to the link of the core that owns it
// (the id says which); a connect may go to any core, which then owns it.
//
// Backpressure: submit() and next() report full/empty; a send the
// connection's buffer cannot take comes back as {send_refused, id, mbuf};
// when the completion queue is full the core stops reading that connection
// until the thread has made room, so nothing is lost.
#include <rte_mbuf.h>

#include <cstdint>

#include "core/steering.hh"
#include "tcp/events.hh"
#include "tcp/handle.hh"
#include "wire/addr.hh"

namespace kbt::api {

// core (8 bits) | TCB slot (24 bits) | TCB generation (32 bits)
using conn_id = std::uint64_t;

struct thread_request {
  enum class op : std::uint8_t { connect, send, shutdown, close, abort };
  op what = op::connect;
  conn_id id = 0;            // all but connect
  std::uint64_t tag = 0;     // connect: the thread's own value, echoed in completions
  wire::ipv4_addr ip;        // connect
  std::uint16_t port = 0;    // connect
  rte_mbuf* data = nullptr;  // send
};

struct thread_completion {
  enum class kind : std::uint8_t {
    connected,       // id is the new connection's
    connect_failed,  // no port or TCB free (id 0)
    data,            // data: received payload, now the thread's
    send_refused,    // data: the send that did not fit, back to the thread
    writable,        // space freed after a send_refused (once per refusal)
    peer_fin,        // the peer closed its side
    closed,          // reason says why; the id is dead from now on
  };
  kind what = kind::connected;
  conn_id id = 0;
  std::uint64_t tag = 0;
  rte_mbuf* data = nullptr;
  tcp::close_reason reason = tcp::close_reason::normal;
};

class thread_link {
 public:
  static constexpr std::size_t kRequests = 1024;
  static constexpr std::size_t kCompletions = 4096;

  // --- the thread's side
  [[nodiscard]] bool submit(const thread_request& r) noexcept { return _requests.push(r); }
  [[nodiscard]] bool next(thread_completion& c) noexcept { return _completions.pop(c); }

  // --- the core's side
  [[nodiscard]] bool take(thread_request& r) noexcept { return _requests.pop(r); }
  [[nodiscard]] bool complete(const thread_completion& c) noexcept { return _completions.push(c); }
  // Room for a few more: data is only handed over while this holds, so a
  // closed or refused-send completion always finds a place.
  bool has_room() const noexcept { return _completions.room() > 16; }

 private:
  core::command_queue<thread_request, kRequests> _requests;
  core::command_queue<thread_completion, kCompletions> _completions;
};

inline conn_id make_conn_id(std::uint16_t core, tcp::handle c) noexcept {
  return (std::uint64_t{core} << 56) | (std::uint64_t{c.slot() & 0xffffff} << 32) | c.generation();
}
inline std::uint16_t core_of(conn_id id) noexcept { return static_cast<std::uint16_t>(id >> 56); }
inline std::uint32_t slot_of(conn_id id) noexcept {
  return static_cast<std::uint32_t>(id >> 32) & 0xffffff;
}
inline std::uint32_t generation_of(conn_id id) noexcept { return static_cast<std::uint32_t>(id); }

}  // namespace kbt::api
