#include "url.hh"

#include <charconv>

namespace kbt::load {

std::optional<http_target> parse_url(std::string_view url, std::string& error) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    error = url.find("://") != std::string_view::npos
                ? "only http:// is supported (no TLS)"
                : "must start with http://, e.g. http://198.18.0.1:8080/index.html";
    return std::nullopt;
  }
  std::string_view rest = url.substr(kScheme.size());
  const std::size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (const std::size_t hash = path.find('#'); hash != std::string_view::npos) {
    path = path.substr(0, hash);  // a fragment never goes on the wire
  }
  if (authority.find('@') != std::string_view::npos) {
    error = "user info (user@host) is not supported";
    return std::nullopt;
  }

  http_target t;
  std::string_view host = authority;
  if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    const std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      error = "port '" + std::string(port) + "' is not a number from 1 to 65535";
      return std::nullopt;
    }
    t.port = static_cast<std::uint16_t>(value);
  }
  if (host.empty()) {
    error = "has no host";
    return std::nullopt;
  }
  const auto ip = wire::parse_ipv4(host);
  if (!ip) {
    error = "host '" + std::string(host) +
            "' is not an IPv4 address (kbt-load has no DNS: give the address, e.g. "
            "http://198.18.0.1/)";
    return std::nullopt;
  }
  if (ip->is_zero() || ip->is_broadcast() || ip->is_multicast()) {
    error = "host '" + std::string(host) + "' is not a unicast address";
    return std::nullopt;
  }
  t.ip = *ip;
  t.host = std::string(authority);
  t.path = path.empty() ? "/" : path.front() == '?' ? "/" + std::string(path) : std::string(path);
  return t;
}

}  // namespace kbt::load
