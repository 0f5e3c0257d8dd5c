#include "segment_factory.hh"

#include <cstring>

#include "wire/ipv4.hh"

namespace kbt::support {

std::vector<std::uint8_t> build_ipv4_tcp(const segment_spec& s) {
  wire::tcp_repr r;
  r.src_port = s.src_port;
  r.dst_port = s.dst_port;
  r.seq = wire::seq32{s.seq};
  r.ack = wire::seq32{s.ack};
  r.flags = s.flags;
  r.window = s.window;
  r.urgent = s.urgent;
  r.options = s.options;
  const std::size_t tcp_len = wire::tcp_header_len(r);
  const std::size_t total = wire::kIpv4MinHeaderLen + tcp_len + s.payload.size();
  std::vector<std::uint8_t> packet(total);
  const auto out = std::as_writable_bytes(std::span(packet));
  wire::ipv4_repr ip;
  ip.src = s.src;
  ip.dst = s.dst;
  ip.protocol = wire::kIpProtoTcp;
  ip.total_length = static_cast<std::uint16_t>(total);
  (void)wire::emit_ipv4_header(ip, wire::tx_checksum::full, out);
  (void)wire::emit_tcp(r, ip.src, ip.dst, s.payload, wire::tx_checksum::full,
                       out.subspan(wire::kIpv4MinHeaderLen));
  if (!s.payload.empty()) {
    std::memcpy(packet.data() + wire::kIpv4MinHeaderLen + tcp_len, s.payload.data(),
                s.payload.size());
  }
  return packet;
}

}  // namespace kbt::support
