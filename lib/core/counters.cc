#include "core/counters.hh"

namespace kbt::core {

std::string_view to_string(drop_reason r) noexcept {
  static constexpr std::array<std::string_view, kDropReasons> kNames = {
      "eth_truncated",     "rx_multiseg",         "eth_not_for_us",      "eth_unknown_type", "arp_malformed",
      "arp_not_for_us",    "ip_truncated",        "ip_bad_version",   "ip_bad_header_len",
      "ip_bad_total_len",  "ip_bad_checksum",     "ip_fragment",      "ip_not_for_us",
      "ip_unknown_protocol", "icmp_malformed",    "icmp_unsupported", "tcp_truncated",
      "tcp_bad_data_offset", "tcp_bad_checksum",  "tcp_bad_option",   "tcp_no_handler",
      "arp_queue_full",    "no_route",            "tx_ring_full",        "no_mbuf",
      "steer_queue_full",
  };
  const auto i = static_cast<std::size_t>(r);
  return i < kNames.size() ? kNames[i] : "unknown";
}

std::uint64_t core_counters::drops_total() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& d : drops) sum += d.get();
  return sum;
}

void counters_snapshot::add(const core_counters& c) noexcept {
  rx_pkts += c.rx_pkts.get();
  rx_bytes += c.rx_bytes.get();
  tx_pkts += c.tx_pkts.get();
  tx_bytes += c.tx_bytes.get();
  arp_requests_in += c.arp_requests_in.get();
  arp_replies_in += c.arp_replies_in.get();
  arp_replies_out += c.arp_replies_out.get();
  arp_requests_out += c.arp_requests_out.get();
  icmp_echo_replies += c.icmp_echo_replies.get();
  ip_with_options += c.ip_with_options.get();
  steered_out += c.steered_out.get();
  steered_in += c.steered_in.get();
  arp_shared += c.arp_shared.get();
  tx_refused += c.tx_refused.get();
  for (std::size_t i = 0; i < kDropReasons; ++i) drops[i] += c.drops[i].get();
}

std::uint64_t counters_snapshot::drops_total() const noexcept {
  std::uint64_t sum = 0;
  for (auto d : drops) sum += d;
  return sum;
}

std::string counters_snapshot::format() const {
  std::string out;
  auto field = [&out](std::string_view key, std::uint64_t v) {
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    out += std::to_string(v);
  };
  for_each(field);
  for (std::size_t i = 0; i < kDropReasons; ++i) {
    if (drops[i] == 0) continue;
    field(std::string("drop.").append(to_string(static_cast<drop_reason>(i))), drops[i]);
  }
  return out;
}

}  // namespace kbt::core
