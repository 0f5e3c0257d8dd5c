#pragma once
// The local addresses a client opens connections from, besides (or instead
// of) the interface's own: `--source-ips FIRST-LAST`. Each address brings a
// full source-port range, so K of them allow K x (port range) connections
// to one server ip:port, where one address stops at about 64k (RFC 6056 §2:
// the 4-tuple, not the port alone, names a connection).
//
// Checked once at start-up, with a message that says what to fix: the stack
// answers ARP for each address, so each must be a host address of the
// interface's subnet, and none may be the peer's.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/addr.hh"

namespace kbt::ip {

// More would make ARP announcements and the per-address port state (about
// 4 bytes per port per core) a burden for no purpose: 256 addresses of
// 64k ports already give 16 million tuples to one server port.
inline constexpr std::uint32_t kMaxSourceAddresses = 256;

// "A-B" (A <= B) or a single "A". nullopt with `error` set (naming the text)
// when it is not that form or when A > B.
std::optional<wire::ipv4_range> parse_ipv4_range(std::string_view text, std::string& error);

// Why `range` cannot serve as source addresses on the interface `iface`,
// talking to `peer` (if given); empty when it can. Checks: at most
// kMaxSourceAddresses, every address inside iface's subnet and a host address
// of it (not the network or broadcast address), and not `peer`.
std::string check_source_range(const wire::ipv4_range& range, const wire::ipv4_prefix& iface,
                               std::optional<wire::ipv4_addr> peer = std::nullopt);

}  // namespace kbt::ip
