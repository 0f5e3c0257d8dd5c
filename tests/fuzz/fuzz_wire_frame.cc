// The wire parsers on arbitrary bytes taken as one Ethernet frame, walked
// down the way the engine classifies it: Ethernet, then ARP or IPv4, then
// ICMP or TCP (with its options). Each layer that parses is emitted again
// and reparsed; the second parse must give the same repr, and checksums
// written by the emitters must verify. Checksums of the input itself are
// not required to be right (parsed without verification, then checked
// both ways), so the fuzzer does not stall on them.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_check.hh"
#include "wire/arp.hh"
#include "wire/checksum.hh"
#include "wire/endian.hh"
#include "wire/ether.hh"
#include "wire/icmp.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace {

using namespace kbt::wire;
using bytes = std::span<const std::byte>;

bool same_options(const tcp_options& a, const tcp_options& b) {
  if (a.mss != b.mss || a.window_scale != b.window_scale ||
      a.sack_permitted != b.sack_permitted || a.timestamps != b.timestamps) {
    return false;
  }
  const auto sa = a.sacks();
  const auto sb = b.sacks();
  return std::equal(sa.begin(), sa.end(), sb.begin(), sb.end());
}

void check_ether(bytes frame) {
  const auto e = parse_ether(frame);
  if (!e) return;
  std::array<std::byte, kEtherMaxHeaderLen> out{};
  const auto n = emit_ether(*e, out);
  FUZZ_CHECK(n && *n == e->header_len(), "emit_ether failed on a parsed repr");
  const auto again = parse_ether(std::span(out).first(*n));
  FUZZ_CHECK(again, "emitted Ethernet header does not parse");
  FUZZ_CHECK(again->dst == e->dst && again->src == e->src && again->ether_type == e->ether_type &&
                 again->vlan_tci == e->vlan_tci &&
                 (!e->vlan_tci || again->vlan_tpid == e->vlan_tpid),
             "Ethernet round trip changed the repr (type %04x -> %04x)", e->ether_type,
             again->ether_type);
  FUZZ_CHECK(std::memcmp(out.data(), frame.data(), *n) == 0,
             "Ethernet header emitted differs from the bytes it was parsed from");
}

void check_arp(bytes packet) {
  const auto a = parse_arp(packet);
  if (!a) return;
  std::array<std::byte, kArpLen> out{};
  const auto n = emit_arp(*a, out);
  FUZZ_CHECK(n && *n == kArpLen, "emit_arp failed on a parsed repr");
  // Every field of a valid Ethernet/IPv4 ARP packet is in the repr or fixed.
  FUZZ_CHECK(std::memcmp(out.data(), packet.data(), kArpLen) == 0,
             "ARP emitted differs from the bytes it was parsed from");
  const auto again = parse_arp(out);
  FUZZ_CHECK(again && again->op == a->op && again->sender_ip == a->sender_ip &&
                 again->target_ip == a->target_ip && again->sender_mac == a->sender_mac &&
                 again->target_mac == a->target_mac,
             "ARP round trip changed the repr");
}

void check_icmp(bytes message) {
  const auto i = parse_icmp(message, false);
  const auto verified = parse_icmp(message, true);
  FUZZ_CHECK(static_cast<bool>(verified) ==
                 (static_cast<bool>(i) && icmp_packet::make(message)->checksum_ok()),
             "parse_icmp with verification disagrees with checksum_ok()");
  if (!i) return;
  std::vector<std::byte> out(i->message_len());
  const auto n = emit_icmp(*i, out);
  FUZZ_CHECK(n && *n == out.size(), "emit_icmp failed on a parsed repr");
  const auto again = parse_icmp(out, true);
  FUZZ_CHECK(again, "emitted ICMP message fails its own checksum");
  FUZZ_CHECK(again->type == i->type && again->code == i->code && again->echo_id == i->echo_id &&
                 again->echo_seq == i->echo_seq && again->data.size() == i->data.size() &&
                 std::equal(again->data.begin(), again->data.end(), i->data.begin()),
             "ICMP round trip changed the repr");
  // The engine answers ping by rewriting the request in place (RFC 1624):
  // a request whose checksum verified must give a reply that verifies.
  if (verified && i->is_echo_request()) {
    std::vector<std::byte> reply(message.begin(), message.end());
    FUZZ_CHECK(echo_request_to_reply(reply), "echo_request_to_reply refused an echo request");
    const auto r = parse_icmp(reply, true);
    FUZZ_CHECK(r, "echo reply made in place fails its checksum (id %u seq %u, %zu data bytes, "
                  "checksum %04x)",
               i->echo_id, i->echo_seq, i->data.size(),
               icmp_packet::make(reply)->checksum());
    FUZZ_CHECK(r->type == kIcmpEchoReply && r->echo_id == i->echo_id &&
                   r->echo_seq == i->echo_seq,
               "echo reply changed more than the type");
  }
}

void check_tcp(bytes segment, ipv4_addr src, ipv4_addr dst) {
  const auto t = parse_tcp(segment, src, dst, false);
  const auto verified = parse_tcp(segment, src, dst, true);
  FUZZ_CHECK(!verified || t, "a segment parses with checksum verification but not without");
  if (!t) return;
  FUZZ_CHECK(t->header_len >= kTcpMinHeaderLen && t->header_len <= kTcpMaxHeaderLen &&
                 t->payload_offset == t->header_len &&
                 std::size_t{t->header_len} + t->payload_len == segment.size(),
             "TCP repr lengths do not add up: header %u payload %u segment %zu", t->header_len,
             t->payload_len, segment.size());
  const bytes payload = segment.subspan(t->header_len);
  const std::size_t hlen = tcp_header_len(*t);
  FUZZ_CHECK(hlen >= kTcpMinHeaderLen && hlen <= kTcpMaxHeaderLen && hlen % 4 == 0,
             "tcp_header_len %zu out of range", hlen);
  std::vector<std::byte> out(hlen + payload.size());
  const auto n = emit_tcp(*t, src, dst, payload, tx_checksum::full, out);
  FUZZ_CHECK(n && *n == hlen, "emit_tcp failed on a parsed repr");
  if (!payload.empty()) std::memcpy(out.data() + hlen, payload.data(), payload.size());
  const auto again = parse_tcp(out, src, dst, true);
  FUZZ_CHECK(again, "emitted TCP segment does not parse with its checksum");
  FUZZ_CHECK(again->src_port == t->src_port && again->dst_port == t->dst_port &&
                 again->seq == t->seq && again->ack == t->ack && again->flags == t->flags &&
                 again->window == t->window && again->urgent == t->urgent &&
                 again->payload_len == t->payload_len,
             "TCP round trip changed a header field");
  // SACK blocks that do not fit beside the other options are left out by
  // design (tcp_options.hh): the reparsed list is a prefix, whole when it fits.
  const auto sent = t->options.sacks();
  const auto got = again->options.sacks();
  tcp_options no_sack = t->options;
  no_sack.sack_count = 0;
  const bool all_fit = sent.empty() || tcp_options_len(no_sack) + 4 + 8 * sent.size() <= 40;
  FUZZ_CHECK(got.size() <= sent.size() && std::equal(got.begin(), got.end(), sent.begin()) &&
                 (!all_fit || got.size() == sent.size()),
             "TCP SACK blocks round trip: %zu sent, %zu back", sent.size(), got.size());
  tcp_options expect = t->options;
  expect.sack_count = again->options.sack_count;
  FUZZ_CHECK(same_options(again->options, expect), "TCP options round trip changed the options");
  // The emitter's offload mode leaves the pseudo-header sum for the NIC;
  // finishing it in software must give what full mode wrote.
  std::vector<std::byte> off(out.size());
  (void)emit_tcp(*t, src, dst, payload, tx_checksum::offload, off);
  if (!payload.empty()) std::memcpy(off.data() + hlen, payload.data(), payload.size());
  store_be<std::uint16_t>(off.data() + tcp_field::kChecksum, 0);
  const std::uint16_t finished = ipv4_l4_checksum(src, dst, kIpProtoTcp, off);
  FUZZ_CHECK(load_be<std::uint16_t>(out.data() + tcp_field::kChecksum) == finished,
             "offload checksum finished in software differs from tx_checksum::full");
}

void check_ipv4(bytes packet) {
  const auto ip = parse_ipv4_header(packet, false);
  const auto verified = parse_ipv4_header(packet, true);
  FUZZ_CHECK(static_cast<bool>(verified) ==
                 (static_cast<bool>(ip) && ipv4_packet::make(packet)->checksum_ok()),
             "parse_ipv4_header with verification disagrees with checksum_ok()");
  if (!ip) return;
  FUZZ_CHECK(ip->header_len >= kIpv4MinHeaderLen && ip->header_len <= kIpv4MaxHeaderLen &&
                 ip->total_length >= ip->header_len && ip->total_length <= packet.size(),
             "IPv4 repr lengths out of range");
  const bytes payload = ipv4_packet::make(packet)->payload();
  FUZZ_CHECK(payload.size() == ip->payload_len(), "IPv4 payload() and payload_len() disagree");

  // Emit writes 20 bytes and no options: compare with that in mind.
  std::vector<std::byte> out(kIpv4MinHeaderLen + payload.size());
  ipv4_repr r = *ip;
  r.total_length = static_cast<std::uint16_t>(out.size());
  const auto n = emit_ipv4_header(r, tx_checksum::full, out);
  FUZZ_CHECK(n && *n == kIpv4MinHeaderLen, "emit_ipv4_header failed on a parsed repr");
  if (!payload.empty()) std::memcpy(out.data() + kIpv4MinHeaderLen, payload.data(), payload.size());
  const auto again = parse_ipv4_header(out, true);
  FUZZ_CHECK(again, "emitted IPv4 header does not parse with its checksum");
  FUZZ_CHECK(again->src == ip->src && again->dst == ip->dst && again->protocol == ip->protocol &&
                 again->ttl == ip->ttl && again->tos == ip->tos && again->id == ip->id &&
                 again->dont_fragment == ip->dont_fragment &&
                 again->more_fragments == ip->more_fragments &&
                 again->fragment_offset == ip->fragment_offset &&
                 again->payload_len() == ip->payload_len(),
             "IPv4 round trip changed the repr");

  if (ip->is_fragment()) return;  // the engine drops fragments before L4
  if (ip->protocol == kIpProtoIcmp) check_icmp(payload);
  if (ip->protocol == kIpProtoTcp) check_tcp(payload, ip->src, ip->dst);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const bytes frame = std::as_bytes(std::span(data, size));
  check_ether(frame);
  const auto e = parse_ether(frame);
  if (!e) return 0;
  const bytes payload = frame.subspan(e->header_len());
  if (e->ether_type == kEthertypeArp) check_arp(payload);
  if (e->ether_type == kEthertypeIpv4) check_ipv4(payload);
  return 0;
}
