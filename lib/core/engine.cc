#include "core/engine.hh"

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>

#include "core/capture.hh"
#include "base/clock.hh"
#include "ip/arp_io.hh"
#include "ip/fragmenter.hh"
#include "ip/icmp_error.hh"
#include "ip/icmp_echo.hh"
#include "ip/martian.hh"
#include "wire/arp.hh"
#include "wire/ether.hh"
#include "wire/icmp.hh"
#include "wire/ipv4.hh"
#include "wire/endian.hh"
#include "wire/mbuf_bytes.hh"
#include "wire/tcp.hh"

namespace kbt::core {
namespace {

// How often the neighbour cache's timers are looked at: well under its 1 s
// retry interval, rare enough to cost nothing per packet.
constexpr base::nanos kNeighbourCheck = std::chrono::milliseconds(100);

drop_reason ipv4_drop(wire::ipv4_error e) noexcept {
  switch (e) {
    case wire::ipv4_error::truncated: return drop_reason::ip_truncated;
    case wire::ipv4_error::bad_version: return drop_reason::ip_bad_version;
    case wire::ipv4_error::bad_header_length: return drop_reason::ip_bad_header_len;
    case wire::ipv4_error::bad_total_length: return drop_reason::ip_bad_total_len;
    case wire::ipv4_error::bad_checksum: return drop_reason::ip_bad_checksum;
  }
  return drop_reason::ip_truncated;
}

drop_reason tcp_drop(wire::tcp_error e) noexcept {
  switch (e) {
    case wire::tcp_error::truncated: return drop_reason::tcp_truncated;
    case wire::tcp_error::bad_data_offset: return drop_reason::tcp_bad_data_offset;
    case wire::tcp_error::bad_checksum: return drop_reason::tcp_bad_checksum;
    case wire::tcp_error::bad_option: return drop_reason::tcp_bad_option;
  }
  return drop_reason::tcp_truncated;
}

}  // namespace

engine::engine(const engine_config& config, core_counters& counters)
    : _config(config),
      _counters(counters),
      _reassembly(config.reassembly),
      _tx_mbuf_cap(std::max<std::size_t>(64, config.pool != nullptr ? config.pool->size / 16 : 1024)) {
  if (config.tcp) {
    tcp::tcp_layer_config tc = config.tcp_layer;
    tc.local_ip = config.ip.addr;
    tc.sources = config.sources;
    tc.pool = config.pool;
    tc.tx_cksum_offload = config.offloads.tx_ipv4_cksum && config.offloads.tx_tcp_cksum;
    if (tc.isn_key == tcp::siphash_key{}) tc.isn_key = tcp::random_siphash_key();
    if (tc.cookie_key == tcp::siphash_key{}) tc.cookie_key = tcp::random_siphash_key();
    tc.rss = config.rss;
    tc.core = config.core;
    tc.id = config.queue_id;
    _tcp = std::make_unique<tcp::tcp_layer>(tc, &engine::tcp_flush, this);
  }
}

// TCP's packets wait in TCP when their next hop's ARP queue is full (a
// client that opens its connections at once, before the server's MAC is
// known): the rest of the batch goes next iteration, in order. A batch's
// packets mostly go to one neighbour (the peer, or the gateway): its MAC is
// looked up once for each run of packets to it, not once per packet.
std::size_t engine::tcp_flush(void* self, std::span<const tcp::out_packet> packets) noexcept {
  auto* e = static_cast<engine*>(self);
  next_hop_memo memo;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (!e->send_ipv4(packets[i].m, packets[i].dst, e->_now, true, &memo)) return i;
  }
  return packets.size();
}

engine::~engine() {
  for (std::size_t i = 0; i < _tcp_count; ++i) rte_pktmbuf_free(_tcp_burst[i].m);
  _tcp_count = 0;
  _tcp.reset();  // frees what TCP holds, and may queue nothing more
  flush();
  // What the port still refused after the flush is ours to free.
  for (; _tx_count > 0; --_tx_count) {
    rte_pktmbuf_free(_tx[_tx_head]);
    _tx_head = (_tx_head + 1) % kTxBacklog;
  }
  _tx_mbufs = 0;
}

void engine::announce(base::instant now) noexcept {
  send_arp_request(_config.ip.addr, now);
  // At most ip::kMaxSourceAddresses more; transmit() flushes every burst.
  for (std::uint32_t i = 0; i < _config.sources.count; ++i) {
    const wire::ipv4_addr a = _config.sources.at(i);
    if (a != _config.ip.addr) send_arp_request(a, now, a);
  }
  flush();
}

std::uint16_t engine::poll(base::instant now, app_hook hook, void* ctx) noexcept {
  _now = now;
  // What the port refused last time goes first; TCP may then fill what is left.
  if (_tx_count > 0) flush();
  if (_tcp) _tcp->set_tx_room(tx_room());
  // More bursts while they come full, up to kRxBursts: a peer that sends
  // faster than one burst an iteration (a client opening thousands of
  // connections at once) would otherwise fill the link's ring while this
  // core's own transmissions wait for it to drain ours.
  std::uint16_t total = 0;
  for (int b = 0; b < kRxBursts; ++b) {
    std::array<rte_mbuf*, kBurst> rx;
    const std::uint16_t n = rte_eth_rx_burst(_config.port_id, _config.queue_id, rx.data(), kBurst);
    if (_config.capture != nullptr) {
      _config.capture->take(_config.core, _config.queue_id, {rx.data(), n},
                            capture_direction::in);
    }
    for (std::uint16_t i = 0; i < n; ++i) {
      if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], void*));
      input_frame(rx[i], now, false);
    }
    total = static_cast<std::uint16_t>(total + n);
    if (n < kBurst) break;
  }
  if (_config.steering != nullptr) {
    const std::size_t k = _config.steering->drain(_config.core, _steered);
    _counters.steered_in.add(k);
    for (std::size_t i = 0; i < k; ++i) input_frame(_steered[i], now, true);
  }
  process_tcp_burst();
  if (_tcp) _tcp->advance(now);
  // Before TCP's output: what the application sends (responses, requests,
  // new connections) leaves with what input and timers made, in one batch
  // of TCP output and one tx burst, not in a second burst after the loop's.
  if (hook != nullptr) hook(*this, now, ctx);
  if (_tcp) _tcp->flush();
  if (now >= _next_neighbour_check) {
    service_neighbours(now);
    if (const std::uint32_t n = _reassembly.expire(base::ns_since_start(now)); n > 0) {
      _counters.drops[static_cast<std::size_t>(drop_reason::ip_frag_timeout)].add(n);
      count_fragments_held();
    }
    _next_neighbour_check = now + kNeighbourCheck;
  }
  flush();
  return total;
}

void engine::input(rte_mbuf* m, base::instant now) noexcept {
  input_frame(m, now, false);
  process_tcp_burst();
}

void engine::input_frame(rte_mbuf* m, base::instant now, bool steered) noexcept {
  _now = now;
  _counters.rx_pkts.add();
  _counters.rx_bytes.add(rte_pktmbuf_pkt_len(m));
  // The parsers read headers from the first segment; a frame a NIC
  // scattered (or an in-process link passed as a chain) is made flat first.
  if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) return drop(m, drop_reason::rx_multiseg);
  const auto eth = wire::parse_ether(wire::mbuf_bytes(m));
  if (!eth) return drop(m, drop_reason::eth_truncated);
  if (eth->dst != _config.mac && !eth->dst.is_broadcast()) {
    return drop(m, drop_reason::eth_not_for_us);
  }
  switch (eth->ether_type) {
    case wire::kEthertypeArp: return input_arp(m, eth->header_len(), now, steered);
    case wire::kEthertypeIpv4: return input_ipv4(m, eth->header_len(), steered);
    default: return drop(m, drop_reason::eth_unknown_type);
  }
}

void engine::input_arp(rte_mbuf* m, std::size_t l2_len, base::instant now,
                       bool steered) noexcept {
  const auto arp = wire::parse_arp(wire::mbuf_bytes(m).subspan(l2_len));
  if (!arp) return drop(m, drop_reason::arp_malformed);
  const bool for_us = is_local(arp->target_ip);
  if (steered) {
    // counted by the core that received it
  } else if (arp->op == wire::arp_op::request) {
    _counters.arp_requests_in.add();
  } else {
    _counters.arp_replies_in.add();
  }

  // A sender no host can hold (ip/martian.hh) is neither learned nor
  // answered: a neighbour entry for it would let us send there, and a reply
  // would go to whichever MAC claimed it. One exception, RFC 5227 §2.1.1:
  // a request from 0.0.0.0 is a probe, and the owner of the probed address
  // answers it so the prober sees the address is taken; it teaches nothing.
  // Our own address as the sender is another station claiming it (RFC 5227
  // §2.4) or our own frame come back through a loop: never learned either.
  const auto sender = ip::classify(arp->sender_ip, _config.ip, _config.sources);
  if (sender == ip::address_class::own) return drop(m, drop_reason::arp_address_conflict);
  const bool probe = arp->op == wire::arp_op::request && arp->sender_ip.is_zero();
  if (ip::is_martian(sender) && !probe) return drop(m, drop_reason::arp_martian_sender);

  // Each core keeps its own neighbour cache, and a single-queue port hands
  // every ARP frame to whichever core it likes: the others get a copy to
  // learn from. A copy is only merged, never answered.
  if (!steered) share_arp(m);

  // RFC 826 merge: refresh the sender from any ARP we see, create an entry
  // only when it was addressed to us. Packets that waited for it go out now.
  if (!ip::is_martian(sender) && _config.ip.contains(arp->sender_ip)) {
    std::array<rte_mbuf*, ip::arp_cache_config::kMaxQueuePerNeighbour> released;
    const std::size_t n = _arp.update(arp->sender_ip, arp->sender_mac, base::ns_since_start(now),
                                      for_us, released);
    for (std::size_t i = 0; i < n; ++i) {
      wire::store_mac(rte_pktmbuf_mtod(released[i], std::byte*) + wire::ether_field::kDst,
                      arp->sender_mac);
      transmit(released[i]);
    }
  }

  if (steered) {
    rte_pktmbuf_free(m);
    return;
  }
  if (arp->op == wire::arp_op::request && for_us) {
    ip::arp_request_to_reply(m, l2_len, *arp, {_config.mac, arp->target_ip});
    _counters.arp_replies_out.add();
    return transmit(m);
  }
  if (arp->op == wire::arp_op::request) return drop(m, drop_reason::arp_not_for_us);
  rte_pktmbuf_free(m);  // a reply: its news is merged above
}

void engine::input_ipv4(rte_mbuf* m, std::size_t l2_len, bool steered) noexcept {
  // Trust the NIC's verdict on the header checksum when it gives one.
  const std::uint64_t ip_flags = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  if (ip_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD) return drop(m, drop_reason::ip_bad_checksum);
  const bool verify = ip_flags != RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  const auto ip = wire::parse_ipv4_header(wire::mbuf_bytes(m).subspan(l2_len), verify);
  if (!ip) return drop(m, ipv4_drop(ip.error()));
  if (!is_local(ip->dst)) return drop(m, drop_reason::ip_not_for_us);
  // RFC 1122 §3.2.1.3: a datagram from a source no host can hold is discarded
  // here, before ICMP, TCP or another core sees it, so it leaves no state and
  // draws no reply (nor an ARP request for where to send one). Our own
  // address as the source is the land attack: a SYN-ACK to ourselves.
  if (const auto source = ip::classify(ip->src, _config.ip, _config.sources);
      ip::is_martian(source))
      [[unlikely]] {
    return drop(m, source == ip::address_class::own ? drop_reason::ip_land
                                                    : drop_reason::ip_martian_source);
  }
  // RFC 1122 §3.2.1.8: options we do not implement are ignored, not fatal.
  if (ip->has_options()) _counters.ip_with_options.add();
  if (ip->is_fragment()) return input_fragment(m, l2_len, *ip, steered);

  switch (ip->protocol) {
    case wire::kIpProtoIcmp: {
      const auto icmp = wire::parse_icmp(
          wire::mbuf_bytes(m).subspan(l2_len + ip->header_len, ip->payload_len()));
      if (!icmp) return drop(m, drop_reason::icmp_malformed);
      if (!icmp->is_echo_request() || icmp->code != 0) {
        return drop(m, drop_reason::icmp_unsupported);
      }
      ip::echo_request_to_reply(m, l2_len, *ip, _config.offloads.tx_ipv4_cksum);
      _counters.icmp_echo_replies.add();
      return transmit_ipv4_frame(m, l2_len);
    }
    case wire::kIpProtoTcp: return input_tcp(m, l2_len, *ip, steered);
    case wire::kIpProtoUdp: return input_udp(m, l2_len, *ip);
    default:
      send_unreachable(m, l2_len, *ip, ip::kIcmpCodeProtocolUnreachable);
      return drop(m, drop_reason::ip_unknown_protocol);
  }
}

// RFC 1122 §3.3.2: a host must reassemble datagrams up to 576 bytes and
// may take larger ones; kbt takes them up to 65,535, a bounded number at once.
void engine::input_fragment(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip,
                            bool steered) noexcept {
  _counters.ip_frags_in.add();
  const auto r = _reassembly.add(m, l2_len, ip, base::ns_since_start(_now));
  _counters.drops[static_cast<std::size_t>(drop_reason::ip_frag_timeout)].add(r.expired);
  switch (r.outcome) {
    case ip::fragment_outcome::held: break;
    case ip::fragment_outcome::table_full: _counters.drop(drop_reason::ip_frag_table_full); break;
    case ip::fragment_outcome::too_big: _counters.drop(drop_reason::ip_frag_too_big); break;
    case ip::fragment_outcome::invalid:
      _counters.drops[static_cast<std::size_t>(drop_reason::ip_frag_invalid)].add(
          1 + r.others_dropped);
      break;
    case ip::fragment_outcome::reassembled: _counters.ip_reassembled.add(); break;
  }
  count_fragments_held();
  if (r.datagram == nullptr) return;
  // The parsers read one segment: a datagram that fits one goes up the
  // normal path (ICMP, TCP) as if it had come whole.
  if (rte_pktmbuf_linearize(r.datagram) == 0) return input_ipv4(r.datagram, l2_len, steered);
  // Longer (ping -s 8000): an echo request is answered from the chain.
  if (!ip::echo_chain_to_reply(r.datagram, l2_len)) {
    return drop(r.datagram, drop_reason::ip_reassembled_unhandled);
  }
  _counters.icmp_echo_replies.add();
  transmit_ipv4_frame(r.datagram, l2_len);
}

// kbt has no UDP sockets: every well-formed UDP datagram for us gets a port
// unreachable (RFC 1122 §4.1.3.1), which is how traceroute knows it arrived.
void engine::input_udp(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip) noexcept {
  const std::size_t l4 = l2_len + ip.header_len;
  if (ip.payload_len() < sizeof(rte_udp_hdr) || m->data_len < l4 + sizeof(rte_udp_hdr)) {
    return drop(m, drop_reason::udp_malformed);
  }
  const auto* udp = rte_pktmbuf_mtod_offset(m, const rte_udp_hdr*, l4);
  const std::size_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
  if (udp_len < sizeof(rte_udp_hdr) || udp_len > ip.payload_len()) {
    return drop(m, drop_reason::udp_malformed);
  }
  // RFC 768: a zero checksum means none was computed.
  if (udp->dgram_cksum != 0 && (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) !=
                                   RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
    // RFC 768: over the pseudo-header (with the UDP length) and the datagram.
    const auto* h = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, l2_len);
    std::uint32_t sum = rte_raw_cksum(&h->src_addr, 8);
    // rte_raw_cksum sums words as they lie in memory: so must these.
    sum += rte_cpu_to_be_16(std::uint16_t{wire::kIpProtoUdp}) +
           rte_cpu_to_be_16(static_cast<std::uint16_t>(udp_len));
    sum += rte_raw_cksum(udp, udp_len);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    if (sum != 0xffff) return drop(m, drop_reason::udp_malformed);
  }
  send_unreachable(m, l2_len, ip, ip::kIcmpCodePortUnreachable);
  drop(m, drop_reason::udp_no_port);
}

void engine::send_unreachable(const rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip,
                              std::uint8_t code) noexcept {
  if (!ip::may_send_icmp_error(m, ip)) return;
  if (!_icmp_errors.allow(base::ns_since_start(_now))) {
    return _counters.icmp_errors_rate_limited.add();
  }
  rte_mbuf* e = ip::build_unreachable(_config.pool, m, l2_len, ip, code, ip.dst);
  if (e == nullptr) return _counters.drop(drop_reason::no_mbuf);
  _counters.icmp_unreachable_out.add();
  send_ipv4(e, ip.src, _now);
}

void engine::count_fragments_held() noexcept {
  const std::uint64_t held = _reassembly.fragments_held();
  if (held > _frags_held_counted) _counters.ip_frags_held.add(held - _frags_held_counted);
  if (held < _frags_held_counted) _counters.ip_frags_held.sub(_frags_held_counted - held);
  _frags_held_counted = held;
}

// RFC 1122 §3.3.3: a host may fragment the datagrams it sends; Linux sends
// the reply to a ping larger than the MTU in fragments, and so do we.
void engine::transmit_ipv4_frame(rte_mbuf* m, std::size_t l2_len) noexcept {
  if (rte_pktmbuf_pkt_len(m) <= l2_len + _config.mtu) return transmit(m);
  std::array<std::byte, wire::kEtherMaxHeaderLen> l2;
  std::memcpy(l2.data(), rte_pktmbuf_mtod(m, const std::byte*), l2_len);
  rte_pktmbuf_adj(m, static_cast<std::uint16_t>(l2_len));
  std::array<rte_mbuf*, ip::kMaxFragmentsOut> out;
  const std::size_t n = ip::fragment_ipv4(m, _config.mtu, _config.pool, out);
  if (n == 0) return _counters.drop(drop_reason::no_mbuf);
  for (std::size_t i = 0; i < n; ++i) {
    auto* p = rte_pktmbuf_prepend(out[i], static_cast<std::uint16_t>(l2_len));
    if (p == nullptr) {
      drop(out[i], drop_reason::no_mbuf);
      continue;
    }
    std::memcpy(p, l2.data(), l2_len);
    out[i]->l2_len = l2_len;
    _counters.ip_frags_out.add();
    transmit(out[i]);
  }
}

void engine::input_tcp(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip,
                       bool steered) noexcept {
  if (!steered && _config.steering != nullptr && steer_tcp(m, l2_len, ip)) return;
  const std::uint64_t l4_flags = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
  if (l4_flags == RTE_MBUF_F_RX_L4_CKSUM_BAD) return drop(m, drop_reason::tcp_bad_checksum);
  const bool verify = l4_flags != RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  const auto segment = wire::mbuf_bytes(m).subspan(l2_len + ip.header_len, ip.payload_len());
  const auto tcp = wire::parse_tcp(segment, ip.src, ip.dst, verify);
  if (!tcp) return drop(m, tcp_drop(tcp.error()));
  if (!_tcp) return drop(m, drop_reason::tcp_no_handler);
  if (_tcp_count == _tcp_burst.size()) process_tcp_burst();
  _tcp_burst[_tcp_count++] =
      tcp::tcp_rx{m, ip, *tcp, static_cast<std::uint32_t>(l2_len + ip.header_len)};
}

// A segment of a flow another core owns goes to that core (the port had no
// RSS, or one queue). With RSS that agrees with rss_table this never fires.
bool engine::steer_tcp(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip) noexcept {
  const auto l4 = wire::mbuf_bytes(m).subspan(l2_len + ip.header_len, ip.payload_len());
  if (l4.size() < 4) return false;  // the parser counts it
  const auto sport = wire::load_be<std::uint16_t>(l4.data());
  const auto dport = wire::load_be<std::uint16_t>(l4.data() + 2);
  const std::uint16_t owner = (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) != 0
                                  ? _config.rss->queue_of_hash(m->hash.rss)
                                  : _config.rss->owner(ip.src, ip.dst, sport, dport);
  if (owner == _config.core) return false;
  if (!_config.steering->push(_config.core, owner, m)) {
    drop(m, drop_reason::steer_queue_full);
    return true;
  }
  _counters.steered_out.add();
  return true;
}

void engine::share_arp(const rte_mbuf* m) noexcept {
  if (_config.steering == nullptr) return;
  for (std::uint16_t core = 0; core < _config.steering->cores(); ++core) {
    if (core == _config.core) continue;
    rte_mbuf* copy = rte_pktmbuf_copy(m, _config.pool, 0, UINT32_MAX);
    if (copy == nullptr) {
      _counters.drop(drop_reason::no_mbuf);
      continue;
    }
    if (!_config.steering->push(_config.core, core, copy)) {
      drop(copy, drop_reason::steer_queue_full);
      continue;
    }
    _counters.arp_shared.add();
  }
}

void engine::process_tcp_burst() noexcept {
  if (_tcp_count == 0) return;
  const std::size_t n = _tcp_count;
  _tcp_count = 0;
  _tcp->input_burst(std::span<const tcp::tcp_rx>(_tcp_burst.data(), n), _now);
}

void engine::send_arp_request(wire::ipv4_addr target, base::instant,
                              std::optional<wire::ipv4_addr> sender) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(_config.pool);
  if (m == nullptr) return _counters.drop(drop_reason::no_mbuf);
  if (!ip::build_arp_request(m, {_config.mac, sender.value_or(_config.ip.addr)}, target)) {
    return drop(m, drop_reason::no_mbuf);
  }
  _counters.arp_requests_out.add();
  transmit(m);
}

void engine::service_neighbours(base::instant now) noexcept {
  std::array<wire::ipv4_addr, 16> retry;
  const std::size_t n = _arp.expire(base::ns_since_start(now), retry);
  for (std::size_t i = 0; i < n; ++i) send_arp_request(retry[i], now);
}

bool engine::send_ipv4(rte_mbuf* m, wire::ipv4_addr dst, base::instant now,
                       bool keep_if_waiting) noexcept {
  return send_ipv4(m, dst, now, keep_if_waiting, nullptr);
}

bool engine::send_ipv4(rte_mbuf* m, wire::ipv4_addr dst, base::instant now, bool keep_if_waiting,
                       next_hop_memo* memo) noexcept {
  // Nothing goes to an address no host can hold (ip/martian.hh), and no ARP
  // request asks for one. Input already drops such sources; this catches an
  // application's connect() to one. kbt sends no IPv4 multicast or broadcast,
  // and a packet for our own address would leave on the wire, not loop back.
  if (ip::is_martian(ip::classify(dst, _config.ip, _config.sources))) [[unlikely]] {
    drop(m, drop_reason::ip_martian_destination);
    return true;
  }
  auto* eth = reinterpret_cast<std::byte*>(rte_pktmbuf_prepend(m, wire::kEtherHeaderLen));
  if (eth == nullptr) {
    drop(m, drop_reason::no_mbuf);
    return true;
  }
  wire::ether_repr er;
  er.src = _config.mac;
  er.ether_type = wire::kEthertypeIpv4;
  (void)wire::emit_ether(er, {eth, wire::kEtherHeaderLen});
  m->l2_len = wire::kEtherHeaderLen;
  // RFC 1122 §3.3.1.1: on-link destinations directly, the rest via the gateway.
  wire::ipv4_addr next_hop = dst;
  if (!_config.ip.contains(dst)) {
    if (!_config.gateway) {
      drop(m, drop_reason::no_route);
      return true;
    }
    next_hop = *_config.gateway;
  }
  // The batch's `now` is one: a MAC found ready stays ready for the batch.
  if (memo != nullptr && memo->valid && memo->hop == next_hop) {
    wire::store_mac(rte_pktmbuf_mtod(m, std::byte*) + wire::ether_field::kDst, memo->mac);
    transmit(m);
    return true;
  }
  const auto r = _arp.resolve(next_hop, m, base::ns_since_start(now), keep_if_waiting);
  if (r.ready()) {
    wire::store_mac(rte_pktmbuf_mtod(m, std::byte*) + wire::ether_field::kDst, *r.mac);
    if (memo != nullptr) *memo = {next_hop, *r.mac, true};
    transmit(m);
  } else if (r.status == ip::resolve_status::dropped ||
             r.status == ip::resolve_status::dropped_send_request) {
    _counters.drop(drop_reason::arp_queue_full);  // the cache freed it
  }
  if (r.send_request()) send_arp_request(next_hop, now);
  if (r.refused()) {
    rte_pktmbuf_adj(m, wire::kEtherHeaderLen);  // as it came: an IPv4 packet
    return false;
  }
  return true;
}

std::uint32_t engine::tx_room() const noexcept {
  const std::size_t frames = kTxBacklog - _tx_count;
  const std::size_t by_frames = frames > kTxControlReserve ? frames - kTxControlReserve : 0;
  const std::size_t by_mbufs =
      _tx_mbufs < _tx_mbuf_cap ? (_tx_mbuf_cap - _tx_mbufs) / kMbufsPerSegment : 0;
  return static_cast<std::uint32_t>(std::min(by_frames, by_mbufs));
}

void engine::transmit(rte_mbuf* m) noexcept {
  if (_tx_count == kTxBacklog) flush();
  if (_tx_count == kTxBacklog) return drop(m, drop_reason::tx_ring_full);
  // Copied while the mbuf is still ours, once: the port may free or reuse
  // it as soon as it takes it, and a refused frame is not captured twice.
  if (_config.capture != nullptr) {
    _config.capture->take(_config.core, _config.queue_id, {&m, 1}, capture_direction::out);
  }
  _tx[(_tx_head + _tx_count) % kTxBacklog] = m;
  ++_tx_count;
  _tx_mbufs += m->nb_segs;
  // A burst's worth goes at once, as l3fwd's send_burst does (not at every
  // frame while a full tx queue refuses them).
  if (++_tx_unflushed >= kBurst) flush();
}

void engine::flush() noexcept {
  _tx_unflushed = 0;
  while (_tx_count > 0) {
    // The contiguous run from the head (the ring wraps).
    const auto run = static_cast<std::uint16_t>(
        std::min<std::size_t>({_tx_count, kTxBacklog - _tx_head, 2 * kBurst}));
    rte_mbuf** first = &_tx[_tx_head];
    std::uint64_t bytes = 0;
    std::size_t segs = 0;
    for (std::uint16_t i = 0; i < run; ++i) {
      bytes += rte_pktmbuf_pkt_len(first[i]);
      segs += first[i]->nb_segs;
    }
    const std::uint16_t sent = rte_eth_tx_burst(_config.port_id, _config.queue_id, first, run);
    for (std::uint16_t i = sent; i < run; ++i) {
      bytes -= rte_pktmbuf_pkt_len(first[i]);
      segs -= first[i]->nb_segs;
    }
    _tx_mbufs -= segs;
    _counters.tx_pkts.add(sent);
    _counters.tx_bytes.add(bytes);
    _tx_head = (_tx_head + sent) % kTxBacklog;
    _tx_count -= sent;
    if (sent < run) {
      // The tx queue is full: the rest waits for the next flush. Each
      // frame is counted the first time it is refused, not at every try.
      const std::size_t refused = run - sent;
      const std::size_t seen = _tx_refused > sent ? _tx_refused - sent : 0;
      _counters.tx_refused.add(refused - std::min(seen, refused));
      _tx_refused = refused;
      return;
    }
    _tx_refused = _tx_refused > run ? _tx_refused - run : 0;
  }
  _tx_head = 0;
}

void engine::drop(rte_mbuf* m, drop_reason why) noexcept {
  _counters.drop(why);
  rte_pktmbuf_free(m);
}

}  // namespace kbt::core
