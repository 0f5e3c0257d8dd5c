#pragma once
// Per-core counters. The owning core is the only writer; the stats and
// telemetry threads read them at any time. Each counter is an atomic used with
// relaxed loads and stores only, which on x86 compiles to plain moves: no
// locked instruction on the packet path, and no data race for the readers.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/counter.hh"

namespace kbt::core {

using base::counter;

// Why a packet was dropped. Every dropped packet is counted under exactly one.
enum class drop_reason : std::uint8_t {
  eth_truncated,        // shorter than an Ethernet header
  rx_multiseg,          // a scattered frame with no room to make it flat
  eth_not_for_us,       // unicast to another MAC
  eth_unknown_type,     // neither ARP nor IPv4 (IPv6, LLDP, ...)
  arp_malformed,        // not Ethernet/IPv4 ARP, or truncated
  arp_not_for_us,       // a request for another address
  arp_martian_sender,   // sender IP no host can hold (ip/martian.hh); not learned or answered
  arp_address_conflict, // sender claims our IP (RFC 5227 §2.4 conflict, or a loop): not learned or answered
  ip_truncated,         // shorter than the IPv4 header
  ip_bad_version,       // version field is not 4
  ip_bad_header_len,    // IHL < 5 or past the packet
  ip_bad_total_len,     // total length shorter than the header or past the frame
  ip_bad_checksum,      // header checksum wrong
  ip_fragment,          // MF or offset set and reassembly off (max_flows 0)
  ip_frag_table_full,   // a fragment of a new datagram with max_flows already in reassembly
  ip_frag_invalid,      // overlapping, duplicate, too many or misaligned: freed with its datagram
  ip_frag_too_big,      // offset + length past 65,535 bytes (ping of death)
  ip_frag_timeout,      // held longer than the reassembly timeout (ipfrag_time)
  ip_reassembled_unhandled,  // a datagram longer than one mbuf that is not an echo request
  ip_not_for_us,        // destination is neither our address nor broadcast
  ip_martian_source,    // RFC 1122 §3.2.1.3: a source no host can hold (ip/martian.hh)
  ip_land,              // the source is our own address: forged (land attack)
  ip_unknown_protocol,  // not ICMP or TCP
  icmp_malformed,       // truncated or bad checksum
  icmp_unsupported,     // an ICMP type we do not answer
  udp_malformed,        // UDP length or checksum wrong: no port unreachable for it
  udp_no_port,          // UDP for us (kbt has no UDP sockets): port unreachable sent if allowed
  tcp_truncated,        // shorter than a TCP header
  tcp_bad_data_offset,  // data offset < 5 or past the segment
  tcp_bad_checksum,     // checksum wrong
  tcp_bad_option,       // an option's length is 0, 1, wrong or past the header
  tcp_no_handler,       // no TCP layer on this engine yet
  arp_queue_full,       // waiting for ARP resolution, queue full or resolution failed
  no_route,             // destination off-link and no gateway configured
  ip_martian_destination,  // we were to send to a martian address (ip/martian.hh)
  tx_ring_full,         // the NIC's tx queue refused it for longer than the backlog holds
  no_mbuf,              // the pool was empty when we had to build a packet
  steer_queue_full,     // the owning core's steering queue was full
  count_
};

inline constexpr std::size_t kDropReasons = static_cast<std::size_t>(drop_reason::count_);

std::string_view to_string(drop_reason r) noexcept;

struct alignas(64) core_counters {
  counter rx_pkts;
  counter rx_bytes;
  counter tx_pkts;
  counter tx_bytes;
  counter arp_requests_in;
  counter arp_replies_in;
  counter arp_replies_out;
  counter arp_requests_out;
  counter icmp_echo_replies;
  counter ip_with_options;  // accepted; options are recognised, not acted on
  counter steered_out;      // frames handed to the core that owns their flow
  counter steered_in;       // frames another core handed to this one
  counter arp_shared;       // copies of ARP frames given to the other cores
  counter tx_refused;       // frames the port's tx queue refused, kept for the next flush
  counter ip_frags_in;      // fragments received for us (each then held, reassembled or dropped)
  counter ip_frags_held;    // gauge: fragments waiting in the reassembly table now
  counter ip_reassembled;   // datagrams reassembled
  counter ip_frags_out;     // fragments sent (replies longer than the MTU)
  counter icmp_unreachable_out;   // port and protocol unreachable sent
  counter icmp_errors_rate_limited;  // ICMP errors not sent: over icmp_msgs_per_sec
  std::array<counter, kDropReasons> drops;

  void drop(drop_reason r) noexcept { drops[static_cast<std::size_t>(r)].add(); }
  std::uint64_t drops_total() const noexcept;
};

// A plain copy, for summing cores and printing.
struct counters_snapshot {
  std::uint64_t rx_pkts = 0, rx_bytes = 0, tx_pkts = 0, tx_bytes = 0;
  std::uint64_t arp_requests_in = 0, arp_replies_in = 0, arp_replies_out = 0,
                arp_requests_out = 0, icmp_echo_replies = 0, ip_with_options = 0;
  std::uint64_t steered_out = 0, steered_in = 0, arp_shared = 0, tx_refused = 0;
  std::uint64_t ip_frags_in = 0, ip_frags_held = 0, ip_reassembled = 0, ip_frags_out = 0;
  std::uint64_t icmp_unreachable_out = 0, icmp_errors_rate_limited = 0;
  std::array<std::uint64_t, kDropReasons> drops{};

  void add(const core_counters& c) noexcept;
  std::uint64_t drops_total() const noexcept;
  // Calls f(name, value) for every counter but the per-reason drops, then
  // for "drops" (their total): the one list the stats line and telemetry share.
  template <class F>
  void for_each(F&& f) const {
    f("rx_pkts", rx_pkts);
    f("rx_bytes", rx_bytes);
    f("tx_pkts", tx_pkts);
    f("tx_bytes", tx_bytes);
    f("arp_requests_in", arp_requests_in);
    f("arp_replies_in", arp_replies_in);
    f("arp_replies_out", arp_replies_out);
    f("arp_requests_out", arp_requests_out);
    f("icmp_echo_replies", icmp_echo_replies);
    f("ip_with_options", ip_with_options);
    f("steered_out", steered_out);
    f("steered_in", steered_in);
    f("arp_shared", arp_shared);
    f("tx_refused", tx_refused);
    f("ip_frags_in", ip_frags_in);
    f("ip_frags_held", ip_frags_held);
    f("ip_reassembled", ip_reassembled);
    f("ip_frags_out", ip_frags_out);
    f("icmp_unreachable_out", icmp_unreachable_out);
    f("icmp_errors_rate_limited", icmp_errors_rate_limited);
    f("drops", drops_total());
  }
  // "rx_pkts=.. rx_bytes=.. ... drops=N drop.<reason>=N" with only non-zero
  // drop reasons listed: the format the apps print and the tests parse.
  std::string format() const;
};

}  // namespace kbt::core
