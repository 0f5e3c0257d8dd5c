#include "wire/ipv4.hh"

#include "wire/endian.hh"

namespace kbt::wire {
namespace {

constexpr std::uint8_t kVersion4 = 4;
constexpr std::uint8_t kMinIhl = 5;
constexpr unsigned kFragmentUnit = 8;  // RFC 791: offset counts 8-octet units

std::uint8_t byte_at(std::span<const std::byte> b, std::size_t off) noexcept {
  return std::to_integer<std::uint8_t>(b[off]);
}

}  // namespace

result<ipv4_packet, ipv4_error> ipv4_packet::make(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < kIpv4MinHeaderLen) return unexpected{ipv4_error::truncated};
  const std::uint8_t version_ihl = byte_at(bytes, ipv4_field::kVersionIhl);
  if ((version_ihl >> 4) != kVersion4) return unexpected{ipv4_error::bad_version};
  const std::size_t ihl = version_ihl & 0x0fU;
  if (ihl < kMinIhl || ihl * 4 > bytes.size()) return unexpected{ipv4_error::bad_header_length};
  const std::size_t total = load_be<std::uint16_t>(bytes.data() + ipv4_field::kTotalLength);
  if (total < ihl * 4 || total > bytes.size()) return unexpected{ipv4_error::bad_total_length};
  return ipv4_packet(bytes);
}

std::uint8_t ipv4_packet::version() const noexcept {
  return static_cast<std::uint8_t>(byte_at(_bytes, ipv4_field::kVersionIhl) >> 4);
}
std::size_t ipv4_packet::header_len() const noexcept {
  return std::size_t{byte_at(_bytes, ipv4_field::kVersionIhl) & 0x0fU} * 4;
}
std::uint8_t ipv4_packet::tos() const noexcept { return byte_at(_bytes, ipv4_field::kTos); }
std::uint16_t ipv4_packet::total_length() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + ipv4_field::kTotalLength);
}
std::uint16_t ipv4_packet::id() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + ipv4_field::kId);
}
std::uint16_t ipv4_packet::flags_fragment() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + ipv4_field::kFlagsFragment);
}
std::uint8_t ipv4_packet::ttl() const noexcept { return byte_at(_bytes, ipv4_field::kTtl); }
std::uint8_t ipv4_packet::protocol() const noexcept {
  return byte_at(_bytes, ipv4_field::kProtocol);
}
std::uint16_t ipv4_packet::checksum() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + ipv4_field::kChecksum);
}
ipv4_addr ipv4_packet::src() const noexcept {
  return {load_be<std::uint32_t>(_bytes.data() + ipv4_field::kSrc)};
}
ipv4_addr ipv4_packet::dst() const noexcept {
  return {load_be<std::uint32_t>(_bytes.data() + ipv4_field::kDst)};
}
bool ipv4_packet::checksum_ok() const noexcept { return wire::checksum_ok(header()); }

result<ipv4_repr, ipv4_error> parse_ipv4_header(std::span<const std::byte> packet,
                                                bool verify_checksum) noexcept {
  const auto view = ipv4_packet::make(packet);
  if (!view) return unexpected{view.error()};
  if (verify_checksum && !view->checksum_ok()) return unexpected{ipv4_error::bad_checksum};
  const std::uint16_t ff = view->flags_fragment();
  ipv4_repr r;
  r.src = view->src();
  r.dst = view->dst();
  r.protocol = view->protocol();
  r.ttl = view->ttl();
  r.tos = view->tos();
  r.id = view->id();
  r.total_length = view->total_length();
  r.header_len = static_cast<std::uint8_t>(view->header_len());
  r.dont_fragment = (ff & kIpv4FlagDf) != 0;
  r.more_fragments = (ff & kIpv4FlagMf) != 0;
  r.fragment_offset = static_cast<std::uint16_t>((ff & kIpv4FragmentMask) * kFragmentUnit);
  return r;
}

result<std::size_t, ipv4_error> emit_ipv4_header(const ipv4_repr& repr, tx_checksum mode,
                                                 std::span<std::byte> out) noexcept {
  if (out.size() < kIpv4MinHeaderLen) return unexpected{ipv4_error::truncated};
  if (repr.total_length < kIpv4MinHeaderLen) return unexpected{ipv4_error::bad_total_length};
  std::byte* p = out.data();
  p[ipv4_field::kVersionIhl] = std::byte{(kVersion4 << 4) | kMinIhl};
  p[ipv4_field::kTos] = std::byte{repr.tos};
  store_be<std::uint16_t>(p + ipv4_field::kTotalLength, repr.total_length);
  store_be<std::uint16_t>(p + ipv4_field::kId, repr.id);
  std::uint16_t ff =
      static_cast<std::uint16_t>((repr.fragment_offset / kFragmentUnit) & kIpv4FragmentMask);
  if (repr.dont_fragment) ff |= kIpv4FlagDf;
  if (repr.more_fragments) ff |= kIpv4FlagMf;
  store_be<std::uint16_t>(p + ipv4_field::kFlagsFragment, ff);
  p[ipv4_field::kTtl] = std::byte{repr.ttl};
  p[ipv4_field::kProtocol] = std::byte{repr.protocol};
  store_be<std::uint16_t>(p + ipv4_field::kChecksum, 0);
  store_be<std::uint32_t>(p + ipv4_field::kSrc, repr.src.value);
  store_be<std::uint32_t>(p + ipv4_field::kDst, repr.dst.value);
  if (mode == tx_checksum::full) {
    store_be<std::uint16_t>(p + ipv4_field::kChecksum,
                            ipv4_header_checksum(out.first(kIpv4MinHeaderLen)));
  }
  return kIpv4MinHeaderLen;
}

}  // namespace kbt::wire
