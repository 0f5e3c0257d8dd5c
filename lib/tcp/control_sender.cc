#include "tcp/control_sender.hh"

namespace kbt::tcp {

void control_sender::send(const four_tuple& t, wire::seq32 seq, wire::seq32 ack,
                          std::uint8_t flags, std::uint16_t window,
                          const wire::tcp_options& options) noexcept {
  wire::tcp_repr r;
  r.src_port = t.local_port;
  r.dst_port = t.remote_port;
  r.seq = seq;
  r.ack = ack;
  r.flags = flags;
  r.window = window;
  r.options = options;
  rte_mbuf* h = _builder.build(t, r, nullptr);
  if (h == nullptr) {
    _counters.no_mbuf.add();
    return;
  }
  _counters.segs_out.add();
  if (!_out.push(h, t.remote_ip)) _counters.tx_dropped.add();
}

void control_sender::rst(const four_tuple& t, wire::seq32 seq, wire::seq32 ack,
                         bool with_ack) noexcept {
  using wire::tcp_flag::kAck;
  using wire::tcp_flag::kRst;
  send(t, seq, with_ack ? ack : wire::seq32{},
       static_cast<std::uint8_t>(kRst | (with_ack ? kAck : 0)), 0, wire::tcp_options{});
  _counters.rst_out.add();
}

}  // namespace kbt::tcp
