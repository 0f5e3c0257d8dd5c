#include "common/endpoint.hh"

#include <charconv>

namespace kbt::apps {

std::optional<endpoint> parse_endpoint(std::string_view text, std::string& why) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    why = "expected IPV4:PORT";
    return std::nullopt;
  }
  const auto ip = wire::parse_ipv4(text.substr(0, colon));
  if (!ip || ip->is_zero()) {
    why.assign(1, '\'').append(text.substr(0, colon)).append("' is not an IPv4 address");
    return std::nullopt;
  }
  unsigned port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc{} || end != last || port == 0 || port > 65535) {
    why = "port must be 1-65535";
    return std::nullopt;
  }
  return endpoint{*ip, static_cast<std::uint16_t>(port)};
}

}  // namespace kbt::apps
