#include "wire/icmp.hh"

#include <cstring>

#include "wire/checksum.hh"
#include "wire/endian.hh"

namespace kbt::wire {

result<icmp_packet, icmp_error> icmp_packet::make(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < kIcmpHeaderLen) return unexpected{icmp_error::truncated};
  return icmp_packet(bytes);
}

std::uint8_t icmp_packet::type() const noexcept {
  return std::to_integer<std::uint8_t>(_bytes[icmp_field::kType]);
}
std::uint8_t icmp_packet::code() const noexcept {
  return std::to_integer<std::uint8_t>(_bytes[icmp_field::kCode]);
}
std::uint16_t icmp_packet::checksum() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + icmp_field::kChecksum);
}
std::uint16_t icmp_packet::echo_id() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + icmp_field::kEchoId);
}
std::uint16_t icmp_packet::echo_seq() const noexcept {
  return load_be<std::uint16_t>(_bytes.data() + icmp_field::kEchoSeq);
}
std::uint32_t icmp_packet::rest_of_header() const noexcept {
  return load_be<std::uint32_t>(_bytes.data() + icmp_field::kEchoId);
}
bool icmp_packet::checksum_ok() const noexcept { return wire::checksum_ok(_bytes); }

result<icmp_repr, icmp_error> parse_icmp(std::span<const std::byte> message,
                                         bool verify_checksum) noexcept {
  const auto view = icmp_packet::make(message);
  if (!view) return unexpected{view.error()};
  if (verify_checksum && !view->checksum_ok()) return unexpected{icmp_error::bad_checksum};
  icmp_repr r;
  r.type = view->type();
  r.code = view->code();
  r.echo_id = view->echo_id();
  r.echo_seq = view->echo_seq();
  r.data = view->data();
  return r;
}

result<std::size_t, icmp_error> emit_icmp(const icmp_repr& repr,
                                          std::span<std::byte> out) noexcept {
  const std::size_t len = repr.message_len();
  if (out.size() < len) return unexpected{icmp_error::truncated};
  std::byte* p = out.data();
  // Data first: when it already sits after the header in `out` (a reply
  // built over its request), writing the header first could clobber it.
  if (!repr.data.empty()) std::memmove(p + icmp_field::kData, repr.data.data(), repr.data.size());
  p[icmp_field::kType] = std::byte{repr.type};
  p[icmp_field::kCode] = std::byte{repr.code};
  store_be<std::uint16_t>(p + icmp_field::kChecksum, 0);
  store_be<std::uint16_t>(p + icmp_field::kEchoId, repr.echo_id);
  store_be<std::uint16_t>(p + icmp_field::kEchoSeq, repr.echo_seq);
  store_be<std::uint16_t>(p + icmp_field::kChecksum, internet_checksum(out.first(len)));
  return len;
}

result<void, icmp_error> echo_request_to_reply(std::span<std::byte> message) noexcept {
  if (message.size() < kIcmpHeaderLen) return unexpected{icmp_error::truncated};
  std::byte* p = message.data();
  if (std::to_integer<std::uint8_t>(p[icmp_field::kType]) != kIcmpEchoRequest) {
    return unexpected{icmp_error::not_echo_request};
  }
  // Type and code share the first 16-bit word the checksum covers.
  const std::uint16_t old_word = load_be<std::uint16_t>(p + icmp_field::kType);
  p[icmp_field::kType] = std::byte{kIcmpEchoReply};
  const std::uint16_t new_word = load_be<std::uint16_t>(p + icmp_field::kType);
  const std::uint16_t old_sum = load_be<std::uint16_t>(p + icmp_field::kChecksum);
  std::uint16_t sum = checksum_adjust(old_sum, old_word, new_word);
  // 0x0000 is ambiguous after an incremental update: right when the data
  // sums to 0xffff, wrong when it is all zeros (id 0, seq 0, no data), whose
  // checksum is 0xffff. Found by fuzz_wire_frame; once in 65536 replies a
  // full sum settles it.
  if (sum == 0) {
    store_be<std::uint16_t>(p + icmp_field::kChecksum, 0);
    sum = internet_checksum(message);
  }
  store_be<std::uint16_t>(p + icmp_field::kChecksum, sum);
  return {};
}

}  // namespace kbt::wire
