#include "wire/tcp.hh"

#include "wire/endian.hh"
#include "wire/ipv4.hh"

namespace kbt::wire {
namespace {

constexpr std::size_t kMinDataOffset = 5;

}  // namespace

result<tcp_segment, tcp_error> tcp_segment::make(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < kTcpMinHeaderLen) return unexpected{tcp_error::truncated};
  const std::size_t offset = std::to_integer<std::size_t>(bytes[tcp_field::kDataOffset]) >> 4;
  if (offset < kMinDataOffset || offset * 4 > bytes.size()) {
    return unexpected{tcp_error::bad_data_offset};
  }
  return tcp_segment(bytes);
}

std::uint16_t tcp_segment::src_port() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + tcp_field::kSrcPort);
}
std::uint16_t tcp_segment::dst_port() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + tcp_field::kDstPort);
}
seq32 tcp_segment::seq() const noexcept {
  return seq32{load_be<std::uint32_t>(_bytes.data() + tcp_field::kSeq)};
}
seq32 tcp_segment::ack() const noexcept {
  return seq32{load_be<std::uint32_t>(_bytes.data() + tcp_field::kAck)};
}
std::size_t tcp_segment::header_len() const noexcept {
  return (std::to_integer<std::size_t>(_bytes[tcp_field::kDataOffset]) >> 4) * 4;
}
std::uint8_t tcp_segment::flags() const noexcept {
  return std::to_integer<std::uint8_t>(_bytes[tcp_field::kFlags]);
}
std::uint16_t tcp_segment::window() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + tcp_field::kWindow);
}
std::uint16_t tcp_segment::checksum() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + tcp_field::kChecksum);
}
std::uint16_t tcp_segment::urgent() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + tcp_field::kUrgent);
}
bool tcp_segment::checksum_ok(ipv4_addr src, ipv4_addr dst) const noexcept {
  return ipv4_l4_checksum_ok(src, dst, kIpProtoTcp, _bytes);
}

result<tcp_repr, tcp_error> parse_tcp(std::span<const std::byte> segment, ipv4_addr src,
                                      ipv4_addr dst, bool verify_checksum) noexcept {
  const auto view = tcp_segment::make(segment);
  if (!view) return unexpected{view.error()};
  if (verify_checksum && !view->checksum_ok(src, dst)) return unexpected{tcp_error::bad_checksum};
  const auto opts = parse_tcp_options(view->options());
  if (!opts) return unexpected{tcp_error::bad_option};
  tcp_repr r;
  r.src_port = view->src_port();
  r.dst_port = view->dst_port();
  r.seq = view->seq();
  r.ack = view->ack();
  r.flags = view->flags();
  r.window = view->window();
  r.urgent = view->urgent();
  r.options = *opts;
  r.header_len = static_cast<std::uint8_t>(view->header_len());
  r.payload_offset = r.header_len;
  r.payload_len = static_cast<std::uint16_t>(view->payload().size());
  return r;
}

std::size_t tcp_header_len(const tcp_repr& repr) noexcept {
  return kTcpMinHeaderLen + tcp_options_len(repr.options);
}

result<std::size_t, tcp_error> emit_tcp(const tcp_repr& repr, ipv4_addr src, ipv4_addr dst,
                                        std::span<const std::byte> payload, tx_checksum mode,
                                        std::span<std::byte> out) noexcept {
  const std::size_t hlen = tcp_header_len(repr);
  if (out.size() < hlen) return unexpected{tcp_error::truncated};
  std::byte* p = out.data();
  store_be<std::uint16_t>(p + tcp_field::kSrcPort, repr.src_port);
  store_be<std::uint16_t>(p + tcp_field::kDstPort, repr.dst_port);
  store_be<std::uint32_t>(p + tcp_field::kSeq, repr.seq.value);
  store_be<std::uint32_t>(p + tcp_field::kAck, repr.ack.value);
  p[tcp_field::kDataOffset] = std::byte{static_cast<std::uint8_t>((hlen / 4) << 4)};
  p[tcp_field::kFlags] = std::byte{repr.flags};
  store_be<std::uint16_t>(p + tcp_field::kWindow, repr.window);
  store_be<std::uint16_t>(p + tcp_field::kChecksum, 0);
  store_be<std::uint16_t>(p + tcp_field::kUrgent, repr.urgent);
  // Cannot fail: the buffer was checked against the same length.
  (void)emit_tcp_options(repr.options, out.subspan(kTcpMinHeaderLen, hlen - kTcpMinHeaderLen));

  const auto l4_len = static_cast<std::uint16_t>(hlen + payload.size());
  const std::uint16_t phdr = ipv4_pseudo_header_sum(src, dst, kIpProtoTcp, l4_len);
  std::uint16_t field = phdr;  // offload: the NIC adds header and payload
  if (mode == tx_checksum::full) {
    // The header is a whole number of 32-bit words, so its sum and the
    // payload's add up as if they were contiguous (RFC 1071 §2(A)).
    const std::uint16_t sum =
        ones_add(ones_add(phdr, ones_sum(out.first(hlen))), ones_sum(payload));
    field = static_cast<std::uint16_t>(~sum);
  }
  store_be<std::uint16_t>(p + tcp_field::kChecksum, field);
  return hlen;
}

}  // namespace kbt::wire
