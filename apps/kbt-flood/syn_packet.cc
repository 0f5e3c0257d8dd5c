#include "syn_packet.hh"

#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::flood {

std::size_t write_syn(const syn_spec& s, std::span<std::byte> out) noexcept {
  if (out.size() < kSynPacketLen) return 0;
  wire::tcp_repr t;
  t.src_port = s.src_port;
  t.dst_port = s.dst_port;
  t.seq = wire::seq32{s.seq};
  t.flags = wire::tcp_flag::kSyn;
  t.window = 64240;  // Linux's first window for a 1460-byte MSS
  t.options.mss = 1460;
  t.options.sack_permitted = true;
  t.options.timestamps = wire::tcp_timestamps{s.tsval, 0};
  t.options.window_scale = 7;
  const auto tcp_len = wire::emit_tcp(t, s.src, s.dst, {}, wire::tx_checksum::full,
                                      out.subspan(wire::kIpv4MinHeaderLen));
  if (!tcp_len) return 0;

  wire::ipv4_repr ip;
  ip.src = s.src;
  ip.dst = s.dst;
  ip.protocol = wire::kIpProtoTcp;
  ip.id = s.ip_id;
  ip.dont_fragment = true;
  ip.total_length = static_cast<std::uint16_t>(wire::kIpv4MinHeaderLen + *tcp_len);
  if (!wire::emit_ipv4_header(ip, wire::tx_checksum::full, out)) return 0;
  return ip.total_length;
}

}  // namespace kbt::flood
