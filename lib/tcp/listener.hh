#pragma once
// The passive side of one core (RFC 9293 §3.10.7.2 LISTEN, RFC 4987): the
// ports it listens on, each with its SYN queue and accept queue, and the
// SYN cookies.
//
// For a segment that reaches a listening port it answers what needs no
// TCB (a RST, a cookie SYN-ACK) and says what else to open: a SYN-queue
// entry, with the ISS it chose, or a connection rebuilt from a valid
// cookie. The TCBs are its owner's (tcp_layer: the pool and the table), as
// the connection never sees them either; the owner opens what the verdict
// names and hands it back (adopt), and from then on the listener keeps
// the connection's place in its queues.
#include <cstdint>
#include <optional>

#include "tcp/config.hh"
#include "tcp/control_sender.hh"
#include "tcp/cookie_handshake.hh"
#include "tcp/counters.hh"
#include "tcp/isn.hh"
#include "tcp/listener_table.hh"
#include "tcp/segment_builder.hh"
#include "tcp/syn_cookie.hh"
#include "tcp/tcb.hh"
#include "tcp/tuple.hh"
#include "wire/seq32.hh"
#include "wire/tcp.hh"

namespace kbt::tcp {

// What a segment to a listening port opens.
enum class passive_open : std::uint8_t {
  none,       // dropped, or answered already (RST, cookie SYN-ACK)
  syn_entry,  // a SYN-queue entry: a TCB in SYN_RCVD, our SYN-ACK <SEQ=iss>
  cookie,     // a valid cookie's ACK: a TCB in ESTABLISHED, from `grant`
};

struct listen_verdict {
  passive_open open = passive_open::none;
  wire::seq32 iss;                      // syn_entry
  open_kind kind = open_kind::passive;  // syn_entry: whether the ISS is a cookie too
  cookie_grant grant;                   // cookie
};

class listener {
 public:
  static constexpr std::size_t kMaxPorts = listener_table::kMax;

  listener(const tcp_config& config, const siphash_key& cookie_key, const isn_generator& isn,
           const ts_clock& ts, control_sender& out, tcp_counters& counters) noexcept
      : _config(config),
        _isn(isn),
        _ts(ts),
        _out(out),
        _counters(counters),
        _cookies(config, cookie_key, out, ts, counters) {}

  // False when kMaxPorts ports listen already; true when `port` does already.
  bool listen(std::uint16_t port) noexcept { return _ports.listen(port); }
  // RFC 9293 §3.10.4 CLOSE in LISTEN; false when nothing listens on `port`.
  bool unlisten(std::uint16_t port) noexcept { return _ports.unlisten(port); }
  listening_port* find(std::uint16_t port) noexcept { return _ports.find(port); }
  const listening_port* find(std::uint16_t port) const noexcept { return _ports.find(port); }
  // The passive opens of `p` in SYN_RCVD.
  std::uint32_t syn_queue(const listening_port& p) const noexcept { return _ports.syn_queue(p); }
  // Every port's, kept by the connections as they enter and leave SYN_RCVD.
  syn_queue_lengths& syn_queues() noexcept { return _ports.syn_queues(); }

  // RFC 9293 §3.10.7.2: a segment on tuple `t` that found no connection
  // and no TIME_WAIT record. `pool_full`: no TCB is free (cookies may
  // answer instead). `min_iss`: the SYN reopens a TIME_WAIT tuple, and the
  // ISS must be above what the old incarnation sent (RFC 6191 §2).
  listen_verdict on_segment(const listening_port& p, const four_tuple& t,
                            const wire::tcp_repr& seg, base::instant now, bool pool_full,
                            std::optional<wire::seq32> min_iss) noexcept;
  // The TCB the owner opened on p's verdict: from now on it counts in p's
  // queues (its SYN queue through set_state, its accept queue when it
  // starts there).
  void adopt(tcb& c, listening_port& p, open_kind kind) noexcept;
  // A passive open's SYN_RCVD whose SYN-ACK is acknowledged: into the
  // accept queue. False (counted) when that is full: the ACK is ignored.
  bool enter_accept_queue(tcb& c, base::instant now) noexcept;
  // The application is told of `c`, or it closes first: out of the queue.
  void leave_accept_queue(tcb& c) noexcept;

 private:
  listen_verdict on_syn(const listening_port& p, const four_tuple& t, const wire::tcp_repr& syn,
                        base::instant now, bool pool_full,
                        std::optional<wire::seq32> min_iss) noexcept;
  listen_verdict on_cookie_ack(const listening_port& p, const four_tuple& t,
                               const wire::tcp_repr& ack, base::instant now) noexcept;

  const tcp_config& _config;
  const isn_generator& _isn;
  const ts_clock& _ts;
  control_sender& _out;
  tcp_counters& _counters;
  listener_table _ports;
  cookie_handshake _cookies;
};

}  // namespace kbt::tcp
