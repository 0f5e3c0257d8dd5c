#include "wire/addr.hh"

#include <charconv>
#include <cstdio>

namespace kbt::wire {

std::optional<ipv4_addr> parse_ipv4(std::string_view text) noexcept {
  std::uint32_t value = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
    // Reject leading '+' / '-' and empty octets, which from_chars would
    // partly accept.
    if (p == end || *p < '0' || *p > '9') return std::nullopt;
    unsigned octet = 0;
    auto [next, ec] = std::from_chars(p, end, octet);
    if (ec != std::errc{} || octet > 255 || next - p > 3) return std::nullopt;
    value = (value << 8) | octet;
    p = next;
  }
  if (p != end) return std::nullopt;
  return ipv4_addr{value};
}

std::optional<ipv4_prefix> parse_ipv4_prefix(std::string_view text) noexcept {
  const auto slash = text.find('/');
  const auto addr = parse_ipv4(text.substr(0, slash));
  if (!addr) return std::nullopt;
  if (slash == std::string_view::npos) return ipv4_prefix{*addr, 32};
  const auto len_text = text.substr(slash + 1);
  unsigned len = 0;
  auto [next, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (len_text.empty() || ec != std::errc{} || next != len_text.data() + len_text.size() ||
      len > 32) {
    return std::nullopt;
  }
  return ipv4_prefix{*addr, static_cast<std::uint8_t>(len)};
}

std::string to_string(ipv4_addr a) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", (a.value >> 24) & 0xff, (a.value >> 16) & 0xff,
                (a.value >> 8) & 0xff, a.value & 0xff);
  return buf;
}

std::string to_string(mac_addr m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m.bytes[0], m.bytes[1],
                m.bytes[2], m.bytes[3], m.bytes[4], m.bytes[5]);
  return buf;
}

}  // namespace kbt::wire
