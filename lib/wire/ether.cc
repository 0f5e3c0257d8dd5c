#include "wire/ether.hh"

#include "wire/endian.hh"

namespace kbt::wire {
namespace {

bool is_tag(std::uint16_t type) noexcept {
  return type == kEthertypeVlan || type == kEthertypeQinq;
}

}  // namespace

result<ether_frame, ether_error> ether_frame::make(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < kEtherHeaderLen) return unexpected{ether_error::truncated};
  if (is_tag(load_be<std::uint16_t>(bytes.data() + ether_field::kType)) &&
      bytes.size() < kEtherMaxHeaderLen) {
    return unexpected{ether_error::truncated};
  }
  return ether_frame(bytes);
}

mac_addr ether_frame::dst() const noexcept { return load_mac(_bytes.data() + ether_field::kDst); }
mac_addr ether_frame::src() const noexcept { return load_mac(_bytes.data() + ether_field::kSrc); }

std::uint16_t ether_frame::tpid() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + ether_field::kType);
}

bool ether_frame::is_tagged() const noexcept { return is_tag(tpid()); }

std::optional<std::uint16_t> ether_frame::vlan_tci() const noexcept {
  if (!is_tagged()) return std::nullopt;
  return load_be<std::uint16_t>(_bytes.data() + ether_field::kVlanTci);
}

std::uint16_t ether_frame::ether_type() const noexcept {
  return is_tagged() ? load_be<std::uint16_t>(_bytes.data() + ether_field::kVlanType) : tpid();
}

std::size_t ether_frame::header_len() const noexcept {
  return is_tagged() ? kEtherMaxHeaderLen : kEtherHeaderLen;
}

result<ether_repr, ether_error> parse_ether(std::span<const std::byte> frame) noexcept {
  const auto view = ether_frame::make(frame);
  if (!view) return unexpected{view.error()};
  ether_repr r;
  r.dst = view->dst();
  r.src = view->src();
  r.ether_type = view->ether_type();
  r.vlan_tci = view->vlan_tci();
  if (r.vlan_tci) r.vlan_tpid = view->tpid();
  return r;
}

result<std::size_t, ether_error> emit_ether(const ether_repr& repr,
                                            std::span<std::byte> out) noexcept {
  const std::size_t len = repr.header_len();
  if (out.size() < len) return unexpected{ether_error::truncated};
  std::byte* p = out.data();
  store_mac(p + ether_field::kDst, repr.dst);
  store_mac(p + ether_field::kSrc, repr.src);
  if (repr.vlan_tci) {
    store_be<std::uint16_t>(p + ether_field::kType, repr.vlan_tpid);
    store_be<std::uint16_t>(p + ether_field::kVlanTci, *repr.vlan_tci);
    store_be<std::uint16_t>(p + ether_field::kVlanType, repr.ether_type);
  } else {
    store_be<std::uint16_t>(p + ether_field::kType, repr.ether_type);
  }
  return len;
}

}  // namespace kbt::wire
