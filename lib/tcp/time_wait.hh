#pragma once
// TIME_WAIT (RFC 9293 §3.10.7.4 and §3.6) kept as a compact record rather
// than a TCB: the TCB goes back to the pool when the connection enters
// TIME_WAIT, and what the protocol still needs for 2MSL (the sequence
// numbers to re-ACK a FIN, the timestamps for PAWS and RFC 6191) fits in
// time_wait_record. The keeper holds the records and answers the segments
// that reach them; no TCB code path sees TIME_WAIT.
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>

#include "tcp/config.hh"
#include "tcp/control_sender.hh"
#include "tcp/counters.hh"
#include "tcp/segment_builder.hh"
#include "tcp/source_ports.hh"
#include "tcp/time_wait_table.hh"
#include "wire/addr.hh"
#include "wire/tcp.hh"

namespace kbt::tcp {

// What became of a segment at a tuple in TIME_WAIT.
enum class time_wait_verdict : std::uint8_t {
  done,            // answered or dropped; the record stays (or ended on a RST)
  syn_may_reopen,  // RFC 6191 §2: a SYN provably newer than the old incarnation
};

class time_wait_keeper {
 public:
  // Records expired per expire(): bounded work per poll.
  static constexpr std::size_t kExpiryBatch = 4096;

  // The table (config.max_time_wait records, at least one, living 2 MSL)
  // is allocated here. Pool ports of active opens go back to `ports`.
  time_wait_keeper(const tcp_config& config, control_sender& out, const ts_clock& ts,
                   source_ports& ports, tcp_counters& counters);

  // A connection enters TIME_WAIT as `r`. False when the table is full: the
  // connection skips TIME_WAIT (counted), as Linux does past
  // tcp_max_tw_buckets, and the caller keeps what `r` would have given back.
  bool enter(const time_wait_record& r, base::instant now) noexcept;
  // A segment at `r`'s tuple (its payload is freed: nothing is delivered).
  time_wait_verdict input(time_wait_record& r, const wire::tcp_repr& seg, rte_mbuf* payload,
                          base::instant now) noexcept;
  // A SYN that may reopen the tuple found no listener: as for a SYN on a
  // synchronized connection (RFC 5961 §4), say where we are, within the
  // record's limit.
  void refuse_reopen(time_wait_record& r, base::instant now) noexcept;
  // A SYN reopens the tuple: the record ends; returns its SND.NXT, which
  // the new incarnation's ISS must exceed.
  wire::seq32 reopen(time_wait_record& r) noexcept;
  // The record ends before 2 MSL (RST honoured, port recycled).
  void end(time_wait_record& r) noexcept;
  void expire(base::instant now) noexcept;

  time_wait_record* find(const four_tuple& t) noexcept { return _table.find(t); }
  void prefetch(const four_tuple& t) const noexcept { _table.prefetch(t); }
  time_wait_record* oldest() noexcept { return _table.oldest(); }
  const time_wait_table& table() const noexcept { return _table; }

 private:
  void send_ack(const time_wait_record& r, base::instant now) noexcept;
  void answer_invalid(time_wait_record& r, base::instant now) noexcept;
  void forget(const time_wait_record& r) noexcept;

  const tcp_config& _config;
  control_sender& _out;
  const ts_clock& _ts;
  source_ports& _ports;
  tcp_counters& _counters;
  time_wait_table _table;
};

}  // namespace kbt::tcp
