#pragma once
// IPV4:PORT as the apps take it on their command lines (kbt-echo --connect,
// kbt-flood --target). No DNS, no stack: tests/unit/apps/kbt_echo_test.cc.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/addr.hh"

namespace kbt::apps {

struct endpoint {
  wire::ipv4_addr ip;
  std::uint16_t port = 0;
};

// "198.18.0.2:9" -> the endpoint; nullopt with `why` set otherwise.
std::optional<endpoint> parse_endpoint(std::string_view text, std::string& why);

}  // namespace kbt::apps
