#include "ip/source_range.hh"

#include "ip/martian.hh"

namespace kbt::ip {
namespace {

// The messages, joined by append: GCC 12's -Wrestrict misreads chains of
// operator+ on temporaries (a false positive that -Werror would make fatal).
template <class... T>
std::string cat(const T&... parts) {
  std::string s;
  (s.append(std::string_view(parts)), ...);
  return s;
}

}  // namespace

std::optional<wire::ipv4_range> parse_ipv4_range(std::string_view text, std::string& error) {
  const std::size_t dash = text.find('-');
  const auto first = wire::parse_ipv4(text.substr(0, dash));
  const auto last = dash == std::string_view::npos ? first : wire::parse_ipv4(text.substr(dash + 1));
  if (!first || !last) {
    error = cat("'", text, "' is not FIRST-LAST (two IPv4 addresses) or one address");
    return std::nullopt;
  }
  if (*last < *first) {
    error = cat("'", text, "' is reversed: ", wire::to_string(*last), " comes before ",
                wire::to_string(*first));
    return std::nullopt;
  }
  // At most 2^32 - 1 for 0.0.0.0-255.255.255.255: the count stays in 32 bits
  // only because the limit below rejects that long before it matters.
  const std::uint64_t count = std::uint64_t{last->value} - first->value + 1;
  return wire::ipv4_range{*first, static_cast<std::uint32_t>(count > UINT32_MAX ? UINT32_MAX : count)};
}

std::string check_source_range(const wire::ipv4_range& range, const wire::ipv4_prefix& iface,
                               std::optional<wire::ipv4_addr> peer) {
  const std::string text = cat(wire::to_string(range.first), "-", wire::to_string(range.last()));
  if (range.empty()) return "the source address range is empty";
  if (range.count > kMaxSourceAddresses) {
    return cat(text, " holds ", std::to_string(range.count), " addresses, more than the ",
               std::to_string(kMaxSourceAddresses), " allowed");
  }
  const std::string subnet = cat(wire::to_string(wire::ipv4_addr{iface.addr.value & iface.mask()}),
                                 "/", std::to_string(iface.length));
  // A subnet is contiguous: both ends inside it put every address inside.
  for (const wire::ipv4_addr a : {range.first, range.last()}) {
    if (!iface.contains(a)) {
      return cat(text, ": ", wire::to_string(a), " is outside --ip's subnet ", subnet,
                 " (the stack answers ARP only on its own link)");
    }
  }
  // The interface's own address may be one of them; the subnet's network
  // and broadcast addresses may not (no host holds them, ip/martian.hh),
  // and inside the subnet only the two ends can be either.
  for (const wire::ipv4_addr a : {range.first, range.last()}) {
    const address_class c = classify(a, iface);
    if (c != address_class::unicast && c != address_class::own) {
      return cat(text, ": ", wire::to_string(a), " is not a host address of ", subnet);
    }
  }
  if (peer && range.contains(*peer)) {
    return cat(text, " contains the peer's address ", wire::to_string(*peer));
  }
  return {};
}

}  // namespace kbt::ip
