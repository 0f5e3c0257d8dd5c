#include "wire/arp.hh"

#include "wire/endian.hh"
#include "wire/ether.hh"

namespace kbt::wire {

result<arp_packet, arp_error> arp_packet::make(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < kArpLen) return unexpected{arp_error::truncated};
  return arp_packet(bytes);
}

std::uint16_t arp_packet::htype() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + arp_field::kHtype);
}
std::uint16_t arp_packet::ptype() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + arp_field::kPtype);
}
std::uint8_t arp_packet::hlen() const noexcept {
  return std::to_integer<std::uint8_t>(_bytes[arp_field::kHlen]);
}
std::uint8_t arp_packet::plen() const noexcept {
  return std::to_integer<std::uint8_t>(_bytes[arp_field::kPlen]);
}
std::uint16_t arp_packet::oper() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + arp_field::kOper);
}
mac_addr arp_packet::sender_mac() const noexcept {
  return load_mac(_bytes.data() + arp_field::kSha);
}
ipv4_addr arp_packet::sender_ip() const noexcept {
  return {load_be<std::uint32_t>(_bytes.data() + arp_field::kSpa)};
}
mac_addr arp_packet::target_mac() const noexcept {
  return load_mac(_bytes.data() + arp_field::kTha);
}
ipv4_addr arp_packet::target_ip() const noexcept {
  return {load_be<std::uint32_t>(_bytes.data() + arp_field::kTpa)};
}

result<arp_repr, arp_error> parse_arp(std::span<const std::byte> packet) noexcept {
  const auto view = arp_packet::make(packet);
  if (!view) return unexpected{view.error()};
  if (view->htype() != kArpHtypeEthernet || view->hlen() != kArpHlenEthernet) {
    return unexpected{arp_error::bad_hardware};
  }
  if (view->ptype() != kArpPtypeIpv4 || view->plen() != kArpPlenIpv4) {
    return unexpected{arp_error::bad_protocol};
  }
  const std::uint16_t oper = view->oper();
  if (oper != static_cast<std::uint16_t>(arp_op::request) &&
      oper != static_cast<std::uint16_t>(arp_op::reply)) {
    return unexpected{arp_error::bad_operation};
  }
  arp_repr r;
  r.op = static_cast<arp_op>(oper);
  r.sender_mac = view->sender_mac();
  r.sender_ip = view->sender_ip();
  r.target_mac = view->target_mac();
  r.target_ip = view->target_ip();
  return r;
}

result<std::size_t, arp_error> emit_arp(const arp_repr& repr, std::span<std::byte> out) noexcept {
  if (out.size() < kArpLen) return unexpected{arp_error::truncated};
  std::byte* p = out.data();
  store_be<std::uint16_t>(p + arp_field::kHtype, kArpHtypeEthernet);
  store_be<std::uint16_t>(p + arp_field::kPtype, kArpPtypeIpv4);
  p[arp_field::kHlen] = std::byte{kArpHlenEthernet};
  p[arp_field::kPlen] = std::byte{kArpPlenIpv4};
  store_be<std::uint16_t>(p + arp_field::kOper, static_cast<std::uint16_t>(repr.op));
  store_mac(p + arp_field::kSha, repr.sender_mac);
  store_be<std::uint32_t>(p + arp_field::kSpa, repr.sender_ip.value);
  store_mac(p + arp_field::kTha, repr.target_mac);
  store_be<std::uint32_t>(p + arp_field::kTpa, repr.target_ip.value);
  return kArpLen;
}

}  // namespace kbt::wire
