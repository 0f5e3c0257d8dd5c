#include "segment_factory.hh"

#include <algorithm>
#include <array>
#include <cstring>

#include "wire/checksum.hh"
#include "wire/endian.hh"

namespace kbt::support {
namespace {

namespace flag = wire::tcp_flag;

// The TCP header with raw option bytes: emit_tcp() only writes options it
// can represent, so the fields go in one by one and the checksum last.
std::vector<std::uint8_t> build_raw_options(const segment_spec& s) {
  std::array<std::uint8_t, wire::kTcpMaxOptionsLen> opts{};
  const std::size_t n = std::min(s.raw_options.size(), opts.size());
  std::memcpy(opts.data(), s.raw_options.data(), n);
  const std::size_t opts_len = (n + 3) & ~std::size_t{3};  // zeros (EOL) pad to a word
  const std::size_t tcp_len = wire::kTcpMinHeaderLen + opts_len;
  const std::size_t total = wire::kIpv4MinHeaderLen + tcp_len + s.payload.size();
  std::vector<std::uint8_t> packet(total);
  auto* p = reinterpret_cast<std::byte*>(packet.data());
  if (p == nullptr) return packet;  // never (total >= 40); tells the compiler so
  wire::ipv4_repr ip;
  ip.src = s.src;
  ip.dst = s.dst;
  ip.protocol = wire::kIpProtoTcp;
  ip.total_length = static_cast<std::uint16_t>(total);
  (void)wire::emit_ipv4_header(ip, wire::tx_checksum::full, {p, wire::kIpv4MinHeaderLen});
  std::byte* t = p + wire::kIpv4MinHeaderLen;
  using namespace wire::tcp_field;
  wire::store_be<std::uint16_t>(t + kSrcPort, s.src_port);
  wire::store_be<std::uint16_t>(t + kDstPort, s.dst_port);
  wire::store_be<std::uint32_t>(t + kSeq, s.seq);
  wire::store_be<std::uint32_t>(t + kAck, s.ack);
  t[kDataOffset] = std::byte{static_cast<std::uint8_t>((tcp_len / 4) << 4)};
  t[kFlags] = std::byte{s.flags};
  wire::store_be<std::uint16_t>(t + kWindow, s.window);
  wire::store_be<std::uint16_t>(t + kChecksum, 0);
  wire::store_be<std::uint16_t>(t + kUrgent, s.urgent);
  if (opts_len > 0) std::memcpy(t + kOptions, opts.data(), opts_len);
  if (!s.payload.empty()) std::memcpy(t + tcp_len, s.payload.data(), s.payload.size());
  const std::uint16_t sum = wire::ipv4_l4_checksum(s.src, s.dst, wire::kIpProtoTcp,
                                                   {t, tcp_len + s.payload.size()});
  wire::store_be<std::uint16_t>(t + kChecksum, sum);
  return packet;
}

segment_spec make(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
                  const wire::tcp_options& o) {
  segment_spec s;
  s.flags = flags;
  s.seq = seq;
  s.ack = ack;
  s.options = o;
  return s;
}

}  // namespace

std::vector<std::uint8_t> build_ipv4_tcp(const segment_spec& s) {
  if (!s.raw_options.empty()) return build_raw_options(s);
  wire::tcp_repr r;
  r.src_port = s.src_port;
  r.dst_port = s.dst_port;
  r.seq = wire::seq32{s.seq};
  r.ack = wire::seq32{s.ack};
  r.flags = s.flags;
  r.window = s.window;
  r.urgent = s.urgent;
  r.options = s.options;
  const std::size_t tcp_len = wire::tcp_header_len(r);
  const std::size_t total = wire::kIpv4MinHeaderLen + tcp_len + s.payload.size();
  std::vector<std::uint8_t> packet(total);
  const auto out = std::as_writable_bytes(std::span(packet));
  wire::ipv4_repr ip;
  ip.src = s.src;
  ip.dst = s.dst;
  ip.protocol = wire::kIpProtoTcp;
  ip.total_length = static_cast<std::uint16_t>(total);
  (void)wire::emit_ipv4_header(ip, wire::tx_checksum::full, out);
  (void)wire::emit_tcp(r, ip.src, ip.dst, s.payload, wire::tx_checksum::full,
                       out.subspan(wire::kIpv4MinHeaderLen));
  if (!s.payload.empty()) {
    std::memcpy(packet.data() + wire::kIpv4MinHeaderLen + tcp_len, s.payload.data(),
                s.payload.size());
  }
  return packet;
}

segment_spec syn(std::uint32_t seq, const wire::tcp_options& o) {
  return make(flag::kSyn, seq, 0, o);
}
segment_spec syn_ack(std::uint32_t seq, std::uint32_t ack, const wire::tcp_options& o) {
  return make(flag::kSyn | flag::kAck, seq, ack, o);
}
segment_spec ack(std::uint32_t seq, std::uint32_t ack, const wire::tcp_options& o) {
  return make(flag::kAck, seq, ack, o);
}
segment_spec data(std::uint32_t seq, std::uint32_t ack, std::span<const std::byte> payload,
                  const wire::tcp_options& o) {
  segment_spec s = make(flag::kAck | flag::kPsh, seq, ack, o);
  s.payload = payload;
  return s;
}
segment_spec fin(std::uint32_t seq, std::uint32_t ack, const wire::tcp_options& o) {
  return make(flag::kFin | flag::kAck, seq, ack, o);
}
segment_spec rst(std::uint32_t seq) { return make(flag::kRst, seq, 0, {}); }

prepared_segment prepare(const segment_spec& s, bool* ok) {
  prepared_segment p;
  p.bytes = build_ipv4_tcp(s);
  const auto span = std::as_bytes(std::span(p.bytes));
  const auto ip = wire::parse_ipv4_header(span);
  bool good = static_cast<bool>(ip);
  if (ip) {
    p.ip = *ip;
    const auto seg = wire::parse_tcp(span.subspan(ip->header_len, ip->payload_len()), ip->src,
                                     ip->dst);
    good = static_cast<bool>(seg);
    if (seg) p.tcp = *seg;
  }
  if (ok != nullptr) *ok = good;
  return p;
}

rte_mbuf* to_mbuf(std::span<const std::uint8_t> bytes, rte_mempool* pool) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  char* d = rte_pktmbuf_append(m, static_cast<std::uint16_t>(bytes.size()));
  if (d == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(d, bytes.data(), bytes.size());
  return m;
}

}  // namespace kbt::support
