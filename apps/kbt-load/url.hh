#pragma once
// kbt-load's target: http://IPV4[:PORT]/path, parsed once at start-up. The
// stack has no resolver, so the host must be an IPv4 literal.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/addr.hh"

namespace kbt::load {

struct http_target {
  wire::ipv4_addr ip;
  std::uint16_t port = 80;
  std::string host;  // the Host header: the URL's authority as written
  std::string path;  // starts with '/'; the query string stays on it
};

// The target of `url`, or nullopt with `error` set to one line saying what
// is wrong (no "--url" prefix; the caller adds it).
std::optional<http_target> parse_url(std::string_view url, std::string& error);

}  // namespace kbt::load
