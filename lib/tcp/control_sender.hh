#pragma once
// Segments with no TCB behind them: a RST in answer to a segment for no
// connection (RFC 9293 §3.10.7.1), a cookie SYN-ACK (RFC 4987), a TIME_WAIT
// record's ACK. Built by the one segment builder, queued without asking
// for tx room (segment_queue.hh), counted in the core's TCP counters.
#include <cstdint>

#include "tcp/counters.hh"
#include "tcp/segment_builder.hh"
#include "tcp/segment_queue.hh"
#include "tcp/tuple.hh"
#include "wire/seq32.hh"
#include "wire/tcp.hh"

namespace kbt::tcp {

class control_sender {
 public:
  control_sender(const segment_builder& builder, segment_queue& out,
                 tcp_counters& counters) noexcept
      : _builder(builder), _out(out), _counters(counters) {}

  void send(const four_tuple& t, wire::seq32 seq, wire::seq32 ack, std::uint8_t flags,
            std::uint16_t window, const wire::tcp_options& options) noexcept;
  // RST <SEQ=seq> or, `with_ack`, RST,ACK <SEQ=seq><ACK=ack>.
  void rst(const four_tuple& t, wire::seq32 seq, wire::seq32 ack, bool with_ack) noexcept;

 private:
  const segment_builder& _builder;
  segment_queue& _out;
  tcp_counters& _counters;
};

}  // namespace kbt::tcp
