#pragma once
// Ethernet II frames (IEEE 802.3 §3.2.6 "Length/Type" >= 0x0600), with at
// most one 802.1Q / 802.1ad tag: the view reports the tag's TCI and the
// inner EtherType, so the classifier never sees the TPID.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "wire/addr.hh"
#include "wire/result.hh"

namespace kbt::wire {

inline constexpr std::uint16_t kEthertypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEthertypeArp = 0x0806;
inline constexpr std::uint16_t kEthertypeVlan = 0x8100;  // IEEE 802.1Q C-tag
inline constexpr std::uint16_t kEthertypeQinq = 0x88a8;  // IEEE 802.1ad S-tag

inline constexpr std::size_t kEtherHeaderLen = 14;
inline constexpr std::size_t kVlanTagLen = 4;
inline constexpr std::size_t kEtherMaxHeaderLen = kEtherHeaderLen + kVlanTagLen;

// MAC addresses are copied byte for byte: they have no byte order.
inline mac_addr load_mac(const std::byte* p) noexcept {
  mac_addr m;
  std::memcpy(m.bytes.data(), p, m.bytes.size());
  return m;
}
inline void store_mac(std::byte* p, const mac_addr& m) noexcept {
  std::memcpy(p, m.bytes.data(), m.bytes.size());
}

// Byte offsets, untagged and inside the tag.
namespace ether_field {
inline constexpr std::size_t kDst = 0;
inline constexpr std::size_t kSrc = 6;
inline constexpr std::size_t kType = 12;      // EtherType, or the TPID of a tag
inline constexpr std::size_t kVlanTci = 14;   // tagged only: PCP(3) DEI(1) VID(12)
inline constexpr std::size_t kVlanType = 16;  // tagged only: inner EtherType
}  // namespace ether_field

enum class ether_error : std::uint8_t {
  // Parse: fewer bytes than the header (14, or 18 with a tag).
  // Emit: the output buffer is shorter than the header.
  truncated,
};

struct ether_repr {
  mac_addr dst;
  mac_addr src;
  std::uint16_t ether_type = 0;              // the inner one when tagged
  std::optional<std::uint16_t> vlan_tci;     // present when the frame carries a tag
  std::uint16_t vlan_tpid = kEthertypeVlan;  // which tag; used only with vlan_tci

  constexpr std::size_t header_len() const noexcept {
    return vlan_tci ? kEtherMaxHeaderLen : kEtherHeaderLen;
  }
};

// A checked view: make() does the one length check, after which every
// accessor is safe.
class ether_frame {
 public:
  static result<ether_frame, ether_error> make(std::span<const std::byte> bytes) noexcept;

  mac_addr dst() const noexcept;
  mac_addr src() const noexcept;
  bool is_tagged() const noexcept;
  std::optional<std::uint16_t> vlan_tci() const noexcept;
  std::uint16_t tpid() const noexcept;        // outer type field; meaningful when tagged
  std::uint16_t ether_type() const noexcept;  // inner
  std::size_t header_len() const noexcept;
  std::span<const std::byte> payload() const noexcept { return _bytes.subspan(header_len()); }

 private:
  explicit ether_frame(std::span<const std::byte> bytes) noexcept : _bytes(bytes) {}
  std::span<const std::byte> _bytes;
};

result<ether_repr, ether_error> parse_ether(std::span<const std::byte> frame) noexcept;

// Writes the header (14 or 18 bytes) at the start of `out`; returns its length.
result<std::size_t, ether_error> emit_ether(const ether_repr& repr,
                                            std::span<std::byte> out) noexcept;

}  // namespace kbt::wire
