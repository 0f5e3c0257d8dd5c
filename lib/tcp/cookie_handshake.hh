#pragma once
// The cookie side of a listener (RFC 4987 §3.6): when a SYN is answered
// with a cookie instead of a SYN-queue entry, the cookie SYN-ACK itself,
// and the check of the ACK that comes back. Everything the connection needs
// later is in the cookie (ISS) and, with timestamps, in the low bits of our
// TSval (window scale and SACK-permitted, as Linux does); nothing is kept
// per SYN. The TCB a valid ACK makes is the listener's business
// (listener.hh).
#include <cstdint>
#include <optional>

#include "tcp/config.hh"
#include "tcp/control_sender.hh"
#include "tcp/counters.hh"
#include "tcp/segment_builder.hh"
#include "tcp/syn_cookie.hh"
#include "tcp/tuple.hh"
#include "wire/seq32.hh"
#include "wire/tcp.hh"

namespace kbt::tcp {

class cookie_handshake {
 public:
  cookie_handshake(const tcp_config& config, const siphash_key& key, control_sender& out,
                   const ts_clock& ts, tcp_counters& counters) noexcept
      : _config(config), _jar(key), _out(out), _ts(ts), _counters(counters) {}

  // Whether a SYN gets a cookie rather than a SYN-queue entry: always, or
  // in automatic mode when the queue is full or no TCB is free.
  bool answers_syn(bool queue_full, bool no_tcb) const noexcept {
    return _config.syncookies == syncookies_mode::always ||
           (_config.syncookies == syncookies_mode::automatic && (queue_full || no_tcb));
  }
  // Whether an ACK in LISTEN is checked as a cookie: always; in automatic
  // mode only if cookies went out in the last two periods (Linux's
  // tcp_synq_no_recent_overflow). Otherwise it is answered with a RST.
  bool checks_ack(base::instant now) const noexcept {
    const bool recent =
        _last_sent && now - *_last_sent <= 2 * base::nanos{syn_cookie_jar::kPeriodNs};
    return _config.syncookies == syncookies_mode::always ||
           (_config.syncookies == syncookies_mode::automatic && recent);
  }
  // The SYN-ACK whose ISS is the cookie; `ts_offset` is the connection's
  // TSval offset (a function of the tuple, so that the ACK's connection
  // finds it again). Without timestamps there is nowhere to keep window
  // scale and SACK, so this SYN-ACK offers neither.
  void send_synack(const four_tuple& t, const wire::tcp_repr& syn, std::uint32_t ts_offset,
                   base::instant now) noexcept;
  // A SYN-queue entry's ISS is a cookie too (as FreeBSD's syncache), so
  // the handshake completes even if the entry is dropped.
  wire::seq32 entry_iss(const four_tuple& t, const wire::tcp_repr& syn,
                        base::instant now) const noexcept {
    return _jar.make(t, syn.seq, syn.options.mss.value_or(_config.default_peer_mss), now);
  }
  // The MSS the ACK's cookie carries; nullopt (counted) when it is not ours.
  std::optional<std::uint16_t> check_ack(const four_tuple& t, const wire::tcp_repr& ack,
                                         base::instant now) noexcept;
  // The options the cookie SYN-ACK kept in its TSval, which the ACK echoes;
  // nullopt (counted) when that TSval does not decode.
  std::optional<cookie_grant> grant(const wire::tcp_repr& ack, std::uint16_t mss) noexcept;
  // Whether an entry's ISS still decodes as a cookie (a debug check).
  bool is_cookie(const four_tuple& t, wire::seq32 seg_seq, wire::seq32 seg_ack,
                 base::instant now) const noexcept {
    return _jar.check(t, seg_seq, seg_ack, now).has_value();
  }

 private:
  const tcp_config& _config;
  syn_cookie_jar _jar;
  control_sender& _out;
  const ts_clock& _ts;
  tcp_counters& _counters;
  std::optional<base::instant> _last_sent;  // when a cookie was last sent
};

}  // namespace kbt::tcp
