#include "core/counters.hh"

namespace kbt::core {

// A switch rather than a table in enum order: a reason added without a name
// is a -Wswitch error instead of every later name shifting by one.
std::string_view to_string(drop_reason r) noexcept {
  switch (r) {
    case drop_reason::eth_truncated: return "eth_truncated";
    case drop_reason::rx_multiseg: return "rx_multiseg";
    case drop_reason::eth_not_for_us: return "eth_not_for_us";
    case drop_reason::eth_unknown_type: return "eth_unknown_type";
    case drop_reason::arp_malformed: return "arp_malformed";
    case drop_reason::arp_not_for_us: return "arp_not_for_us";
    case drop_reason::arp_martian_sender: return "arp_martian_sender";
    case drop_reason::arp_address_conflict: return "arp_address_conflict";
    case drop_reason::ip_truncated: return "ip_truncated";
    case drop_reason::ip_bad_version: return "ip_bad_version";
    case drop_reason::ip_bad_header_len: return "ip_bad_header_len";
    case drop_reason::ip_bad_total_len: return "ip_bad_total_len";
    case drop_reason::ip_bad_checksum: return "ip_bad_checksum";
    case drop_reason::ip_fragment: return "ip_fragment";
    case drop_reason::ip_frag_table_full: return "ip_frag_table_full";
    case drop_reason::ip_frag_invalid: return "ip_frag_invalid";
    case drop_reason::ip_frag_too_big: return "ip_frag_too_big";
    case drop_reason::ip_frag_timeout: return "ip_frag_timeout";
    case drop_reason::ip_reassembled_unhandled: return "ip_reassembled_unhandled";
    case drop_reason::ip_not_for_us: return "ip_not_for_us";
    case drop_reason::ip_martian_source: return "ip_martian_source";
    case drop_reason::ip_land: return "ip_land";
    case drop_reason::ip_unknown_protocol: return "ip_unknown_protocol";
    case drop_reason::icmp_malformed: return "icmp_malformed";
    case drop_reason::icmp_unsupported: return "icmp_unsupported";
    case drop_reason::udp_malformed: return "udp_malformed";
    case drop_reason::udp_no_port: return "udp_no_port";
    case drop_reason::tcp_truncated: return "tcp_truncated";
    case drop_reason::tcp_bad_data_offset: return "tcp_bad_data_offset";
    case drop_reason::tcp_bad_checksum: return "tcp_bad_checksum";
    case drop_reason::tcp_bad_option: return "tcp_bad_option";
    case drop_reason::tcp_no_handler: return "tcp_no_handler";
    case drop_reason::arp_queue_full: return "arp_queue_full";
    case drop_reason::no_route: return "no_route";
    case drop_reason::ip_martian_destination: return "ip_martian_destination";
    case drop_reason::tx_ring_full: return "tx_ring_full";
    case drop_reason::no_mbuf: return "no_mbuf";
    case drop_reason::steer_queue_full: return "steer_queue_full";
    case drop_reason::count_: break;
  }
  return "unknown";
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
  ip_frags_in += c.ip_frags_in.get();
  ip_frags_held += c.ip_frags_held.get();
  ip_reassembled += c.ip_reassembled.get();
  ip_frags_out += c.ip_frags_out.get();
  icmp_unreachable_out += c.icmp_unreachable_out.get();
  icmp_errors_rate_limited += c.icmp_errors_rate_limited.get();
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
