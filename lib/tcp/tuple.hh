#pragma once
// A connection's 4-tuple, from this stack's point of view.
#include <cstdint>

#include "wire/addr.hh"

namespace kbt::tcp {

struct four_tuple {
  wire::ipv4_addr local_ip;
  wire::ipv4_addr remote_ip;
  std::uint16_t local_port = 0;
  std::uint16_t remote_port = 0;

  constexpr bool operator==(const four_tuple&) const noexcept = default;
};

// Packed without padding, so it can be a rte_hash key as is.
static_assert(sizeof(four_tuple) == 12);

}  // namespace kbt::tcp
