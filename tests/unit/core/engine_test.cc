// The per-core engine on a real ethdev (DPDK's net_ring driver): frames go in
// through the rx ring, the engine polls, and what it sent is read back from
// the tx ring. Frames marked "scapy:" were made with /usr/bin/python3 scapy:
//   M = '02:00:00:00:00:02' (the stack), P = '02:00:00:00:00:01' (the peer).
#include "core/engine.hh"

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include <string>
#include <vector>

#include "dev/port.hh"
#include "dev/ring_port.hh"
#include "segment_factory.hh"
#include "test_env.hh"
#include "wire/arp.hh"
#include "wire/ether.hh"
#include "wire/icmp.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::core {
namespace {

using bytes = std::vector<std::uint8_t>;
constexpr wire::mac_addr kStackMac{{0x02, 0, 0, 0, 0, 0x02}};
constexpr wire::mac_addr kPeerMac{{0x02, 0, 0, 0, 0, 0x01}};
constexpr auto kStackIp = wire::ipv4_addr::from_octets(198, 18, 0, 2);
constexpr auto kPeerIp = wire::ipv4_addr::from_octets(198, 18, 0, 1);

// scapy: Ether(dst='ff:ff:ff:ff:ff:ff',src=P)/ARP(op=1,hwsrc=P,psrc='198.18.0.1',
//                                              hwdst='00:00:00:00:00:00',pdst='198.18.0.2')
const bytes kArpRequest = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xc6, 0x12, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x02};
// scapy: Ether(dst=P,src=M)/ARP(op=2,hwsrc=M,psrc='198.18.0.2',hwdst=P,pdst='198.18.0.1')
const bytes kArpReply = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0xc6, 0x12, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x01};
// scapy: Ether(dst=M,src=P)/IP(src='198.18.0.1',dst='198.18.0.2',id=7,ttl=64)/
//        ICMP(type=8,id=0x1234,seq=5)/b'kbt-ping-payload'
const bytes kEchoRequest = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
    0x00, 0x00, 0x2c, 0x00, 0x07, 0x00, 0x00, 0x40, 0x01, 0xee, 0xa2, 0xc6, 0x12, 0x00, 0x01,
    0xc6, 0x12, 0x00, 0x02, 0x08, 0x00, 0xca, 0xa8, 0x12, 0x34, 0x00, 0x05, 0x6b, 0x62, 0x74,
    0x2d, 0x70, 0x69, 0x6e, 0x67, 0x2d, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64};
// scapy: Ether(dst=P,src=M)/IP(src='198.18.0.2',dst='198.18.0.1',id=7,ttl=64)/
//        ICMP(type=0,id=0x1234,seq=5)/b'kbt-ping-payload'
const bytes kEchoReply = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
    0x00, 0x00, 0x2c, 0x00, 0x07, 0x00, 0x00, 0x40, 0x01, 0xee, 0xa2, 0xc6, 0x12, 0x00, 0x02,
    0xc6, 0x12, 0x00, 0x01, 0x00, 0x00, 0xd2, 0xa8, 0x12, 0x34, 0x00, 0x05, 0x6b, 0x62, 0x74,
    0x2d, 0x70, 0x69, 0x6e, 0x67, 0x2d, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64};

// An IPv4 frame P -> M with the given fragment fields and payload (the
// header checksum computed here); `payload` is the part this fragment carries.
bytes ip_fragment(std::uint16_t id, std::uint16_t offset, bool more, std::uint8_t proto,
                  const bytes& payload) {
  bytes f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
  const std::size_t total = 20 + payload.size();
  const std::uint16_t ff = static_cast<std::uint16_t>((more ? 0x2000 : 0) | (offset / 8));
  bytes ip = {0x45, 0, static_cast<std::uint8_t>(total >> 8), static_cast<std::uint8_t>(total),
              static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id),
              static_cast<std::uint8_t>(ff >> 8), static_cast<std::uint8_t>(ff), 64, proto, 0, 0,
              198, 18, 0, 1, 198, 18, 0, 2};
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += (ip[i] << 8) | ip[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = static_cast<std::uint8_t>(~sum >> 8);
  ip[11] = static_cast<std::uint8_t>(~sum);
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

// The ones' complement sum of `b` (RFC 1071), folded; 0xffff over a message
// that holds its own valid checksum.
std::uint16_t ones_sum(const std::uint8_t* b, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (n % 2 != 0) sum += b[n - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

class EngineTest : public testing::Test {
 protected:
  void SetUp() override {
    _mbufs_before = test::available_mbufs();
    _ring = dev::make_ring_port("engine_test_" + std::to_string(_serial++));
    dev::port_config pc;
    pc.port_id = _ring.port_id;
    rte_mempool* pools[] = {test::mbuf_pool()};
    const auto info = dev::open_port(pc, pools);
    engine_config& ec = _config;
    ec.port_id = _ring.port_id;
    ec.pool = test::mbuf_pool();
    ec.mac = kStackMac;
    ec.ip = {kStackIp, 24};
    ec.offloads = info.offloads;
    _engine = std::make_unique<engine>(ec, _counters);
  }

  void TearDown() override {
    _engine.reset();
    dev::destroy_ring_port(_ring);
    EXPECT_EQ(test::available_mbufs(), _mbufs_before) << "mbufs leaked";
  }

  // Puts frames on the wire towards the stack and lets it poll once.
  void receive(const std::vector<bytes>& frames) {
    for (const auto& f : frames) {
      ASSERT_EQ(rte_ring_enqueue(_ring.to_port, test::make_mbuf(f)), 0);
    }
    _engine->poll(_now);
  }
  void receive(const bytes& frame) { receive(std::vector<bytes>{frame}); }
  void ping_in_fragments(std::size_t data, std::size_t expect_fragments);

  // Everything the stack transmitted since the last call; with `flags`, the
  // mbufs' ol_flags too.
  std::vector<bytes> sent(std::vector<std::uint64_t>* flags = nullptr) {
    std::vector<bytes> out;
    void* obj = nullptr;
    while (rte_ring_dequeue(_ring.from_port, &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      // The whole chain: a fragment is a header mbuf and attached data.
      bytes b(rte_pktmbuf_pkt_len(m));
      const auto* p = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, 0, b.size(), b.data()));
      if (p != b.data()) std::copy(p, p + b.size(), b.begin());
      out.push_back(std::move(b));
      if (flags != nullptr) flags->push_back(m->ol_flags);
      rte_pktmbuf_free(m);
    }
    return out;
  }

  std::uint64_t dropped(drop_reason r) const {
    return _counters.drops[static_cast<std::size_t>(r)].get();
  }

  static inline int _serial = 0;
  unsigned _mbufs_before = 0;
  dev::ring_port _ring;
  engine_config _config;
  core_counters _counters;
  std::unique_ptr<engine> _engine;
  base::instant _now = base::instant_from_ns(1'000'000'000);
};

TEST_F(EngineTest, AnswersArpRequestForOurAddress) {
  receive(kArpRequest);
  const auto out = sent();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0], kArpReply);
  EXPECT_EQ(_counters.arp_replies_out.get(), 1U);
  // RFC 826 merge: the requester is now known without asking.
  EXPECT_NE(_engine->neighbours().lookup(kPeerIp, base::ns_since_start(_now)), nullptr);
}

TEST_F(EngineTest, IgnoresArpRequestForAnotherAddress) {
  bytes req = kArpRequest;
  req.back() = 0x09;  // who-has 198.18.0.9
  receive(req);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::arp_not_for_us), 1U);
  // Not addressed to us: RFC 826 creates no entry for the sender.
  EXPECT_EQ(_engine->neighbours().lookup(kPeerIp, base::ns_since_start(_now)), nullptr);
}

TEST_F(EngineTest, AnswersPingWithExactReply) {
  receive(kEchoRequest);
  std::vector<std::uint64_t> flags;
  const auto out = sent(&flags);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0], kEchoReply);
  EXPECT_EQ(flags[0], 0U) << "no offload asked of a port that offers none";
  EXPECT_EQ(_counters.icmp_echo_replies.get(), 1U);
}

TEST_F(EngineTest, PingReplyLeavesIpChecksumToTheNicWhenOffered) {
  _engine.reset();
  _config.offloads.tx_ipv4_cksum = true;
  _engine = std::make_unique<engine>(_config, _counters);
  receive(kEchoRequest);
  std::vector<std::uint64_t> flags;
  auto out = sent(&flags);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(flags[0] & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM),
            RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
  // The checksum field stays zero for the NIC; everything else is the reply.
  EXPECT_EQ(out[0][24], 0);
  EXPECT_EQ(out[0][25], 0);
  out[0][24] = kEchoReply[24];
  out[0][25] = kEchoReply[25];
  EXPECT_EQ(out[0], kEchoReply);
}

TEST_F(EngineTest, PingReplyDropsIpOptionsAndEthernetPadding) {
  // scapy: Ether(dst=M,src=P)/IP(src='198.18.0.1',dst='198.18.0.2',id=7,ttl=64,
  //        options=[IPOption_RR(routers=['0.0.0.0'])])/ICMP(type=8,id=0x1234,seq=5)/b'kbt-ping-payload'
  // then 10 bytes of Ethernet padding appended.
  bytes req = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
               0x47, 0x00, 0x00, 0x34, 0x00, 0x07, 0x00, 0x00, 0x40, 0x01, 0xe1, 0x93, 0xc6, 0x12,
               0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x07, 0x07, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
               0x08, 0x00, 0xca, 0xa8, 0x12, 0x34, 0x00, 0x05, 0x6b, 0x62, 0x74, 0x2d, 0x70, 0x69,
               0x6e, 0x67, 0x2d, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64};
  req.resize(req.size() + 10, 0);
  receive(req);
  const auto out = sent();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0], kEchoReply);
  EXPECT_EQ(_counters.ip_with_options.get(), 1U);
}

TEST_F(EngineTest, PingOnVlanIsAnsweredOnTheSameVlan) {
  // scapy: Ether(dst=M,src=P)/Dot1Q(vlan=42)/IP(...)/ICMP(...) as kEchoRequest
  bytes req = kEchoRequest;
  const bytes tag = {0x81, 0x00, 0x00, 0x2a};
  req.insert(req.begin() + 12, tag.begin(), tag.end());
  bytes want = kEchoReply;
  want.insert(want.begin() + 12, tag.begin(), tag.end());
  receive(req);
  const auto out = sent();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0], want);
}

TEST_F(EngineTest, BadIpChecksumIsCountedAndNotAnswered) {
  bytes req = kEchoRequest;
  req[24] ^= 0x01;  // IPv4 header checksum
  receive(req);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::ip_bad_checksum), 1U);
  EXPECT_EQ(_counters.drops_total(), 1U);
}

TEST_F(EngineTest, TruncatedIpHeaderIsCounted) {
  bytes req(kEchoRequest.begin(), kEchoRequest.begin() + 14 + 12);
  receive(req);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::ip_truncated), 1U);
}

TEST_F(EngineTest, IpTotalLengthThatLiesIsCounted) {
  bytes req = kEchoRequest;
  req[17] = 0x60;  // total length 96 > the 44 bytes present (checksum fixed below)
  // scapy: the same packet with IP(len=96): checksum 0xee6e
  req[24] = 0xee;
  req[25] = 0x6e;
  receive(req);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::ip_bad_total_len), 1U);
}

TEST_F(EngineTest, LoneFragmentIsHeldUntilItsTimeout) {
  // scapy: Ether(dst=M,src=P)/IP(src='198.18.0.1',dst='198.18.0.2',id=7,ttl=64,flags='MF')/
  //        ICMP(type=8,id=0x1234,seq=5)/b'kbt-ping-payload'
  bytes req = kEchoRequest;
  req[20] = 0x20;  // MF
  req[24] = 0xce;
  req[25] = 0xa2;
  receive(req);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_counters.ip_frags_in.get(), 1U);
  EXPECT_EQ(_counters.ip_frags_held.get(), 1U);
  EXPECT_EQ(_counters.drops_total(), 0U);
  // Linux's ipfrag_time, 30 s: then it is freed and counted (TearDown checks
  // that the mbuf is back).
  _now += base::nanos{31'000'000'000ULL};
  _engine->poll(_now);
  EXPECT_EQ(_counters.ip_frags_held.get(), 0U);
  EXPECT_EQ(dropped(drop_reason::ip_frag_timeout), 1U);
}

// An echo request of `data` bytes (ping -s), cut into fragments of at most
// `mtu` bytes as Linux sends it; then the reply must come back the same way:
// fragments within the MTU, valid header checksums, and reassembled an echo
// reply with the same payload and a valid ICMP checksum.

TEST_F(EngineTest, FragmentedPingOf1473BytesIsAnsweredInFragments) {
  ping_in_fragments(1473, 2);
  EXPECT_EQ(_counters.ip_reassembled.get(), 1U);
}

TEST_F(EngineTest, FragmentedPingOf8000BytesIsAnsweredFromTheChain) {
  ping_in_fragments(8000, 6);
  EXPECT_EQ(_counters.ip_reassembled.get(), 1U);
}

TEST_F(EngineTest, FragmentPastTheLargestDatagramIsDropped) {
  // RFC 791 §3.2: offset 65,528 + 28 bytes is past 65,535 (ping of death).
  receive(ip_fragment(9, 65528, false, 1, bytes(8, 0x79)));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::ip_frag_too_big), 1U);
  EXPECT_EQ(_counters.ip_frags_held.get(), 0U);
}

TEST_F(EngineTest, OverlappingFragmentsAreDroppedWithTheirDatagram) {
  receive({ip_fragment(9, 0, true, 17, bytes(16, 1)), ip_fragment(9, 8, true, 17, bytes(16, 2))});
  EXPECT_EQ(_counters.ip_frags_held.get(), 2U);
  receive(ip_fragment(9, 24, false, 17, bytes(8, 3)));
  EXPECT_EQ(dropped(drop_reason::ip_frag_invalid), 3U);
  EXPECT_EQ(_counters.ip_frags_held.get(), 0U);
  EXPECT_EQ(_counters.ip_reassembled.get(), 0U);
}

TEST_F(EngineTest, FragmentsBeyondMaxFlowsAreCountedAsTableFull) {
  _engine.reset();
  _config.reassembly.max_flows = 4;
  _engine = std::make_unique<engine>(_config, _counters);
  std::vector<bytes> frames;
  for (std::uint16_t id = 0; id < 6; ++id) frames.push_back(ip_fragment(id, 0, true, 17, bytes(8, 0)));
  receive(frames);
  EXPECT_EQ(_counters.ip_frags_in.get(), 6U);
  EXPECT_EQ(_counters.ip_frags_held.get(), 4U);
  EXPECT_EQ(dropped(drop_reason::ip_frag_table_full), 2U);
  // The engine's destruction frees the four held (TearDown counts the mbufs).
}

// The ICMP error `out` carries: type 3 with `code`, valid checksums, from us
// to the peer, quoting all of `datagram` (the original IPv4 datagram).
void expect_unreachable(const bytes& out, std::uint8_t code, const bytes& datagram) {
  ASSERT_EQ(out.size(), 14 + 28 + datagram.size());
  EXPECT_EQ(bytes(out.begin(), out.begin() + 6), (bytes{2, 0, 0, 0, 0, 1}));
  EXPECT_EQ(ones_sum(out.data() + 14, 20), 0xffff) << "IPv4 header checksum";
  EXPECT_EQ(out[23], 1);
  EXPECT_EQ(bytes(out.begin() + 26, out.begin() + 34), (bytes{198, 18, 0, 2, 198, 18, 0, 1}));
  EXPECT_EQ(out[34], 3);
  EXPECT_EQ(out[35], code);
  EXPECT_EQ(ones_sum(out.data() + 34, out.size() - 34), 0xffff) << "ICMP checksum";
  EXPECT_EQ(bytes(out.begin() + 42, out.end()), datagram);
}

// scapy: UDP(sport=40000,dport=9)/b'abcd' with chksum=0 (RFC 768: none).
const bytes kUdpToPort9 = {0x9c, 0x40, 0x00, 0x09, 0x00, 0x0c, 0x00, 0x00, 'a', 'b', 'c', 'd'};

TEST_F(EngineTest, UdpGetsPortUnreachableQuotingTheDatagram) {
  receive(kArpRequest);
  (void)sent();
  const bytes frame = ip_fragment(5, 0, false, 17, kUdpToPort9);
  receive(frame);
  const auto out = sent();
  ASSERT_EQ(out.size(), 1U);
  expect_unreachable(out[0], 3, bytes(frame.begin() + 14, frame.end()));
  EXPECT_EQ(dropped(drop_reason::udp_no_port), 1U);
  EXPECT_EQ(_counters.icmp_unreachable_out.get(), 1U);
}

TEST_F(EngineTest, UnknownProtocolGetsProtocolUnreachable) {
  receive(kArpRequest);
  (void)sent();
  const bytes frame = ip_fragment(6, 0, false, 253, bytes(8, 0x55));
  receive(frame);
  const auto out = sent();
  ASSERT_EQ(out.size(), 1U);
  expect_unreachable(out[0], 2, bytes(frame.begin() + 14, frame.end()));
  EXPECT_EQ(dropped(drop_reason::ip_unknown_protocol), 1U);
}

TEST_F(EngineTest, UdpWithBadChecksumGetsNoUnreachable) {
  receive(kArpRequest);
  (void)sent();
  bytes udp = kUdpToPort9;
  udp[7] = 0x01;  // a checksum that is wrong
  receive(ip_fragment(5, 0, false, 17, udp));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::udp_malformed), 1U);
}

TEST_F(EngineTest, NoUnreachableForALinkLayerBroadcast) {
  receive(kArpRequest);
  (void)sent();
  bytes frame = ip_fragment(5, 0, false, 17, kUdpToPort9);
  std::fill(frame.begin(), frame.begin() + 6, 0xff);
  receive(frame);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::udp_no_port), 1U);
  EXPECT_EQ(_counters.icmp_unreachable_out.get(), 0U);
}

TEST_F(EngineTest, UnreachablesBeyondTheBurstAreCountedNotSent) {
  receive(kArpRequest);
  (void)sent();
  std::size_t out = 0;
  for (int round = 0; round < 4; ++round) {  // 4 x 25 at the same instant
    receive(std::vector<bytes>(25, ip_fragment(5, 0, false, 17, kUdpToPort9)));
    out += sent().size();
  }
  EXPECT_EQ(out, 50U);  // icmp_msgs_burst
  EXPECT_EQ(_counters.icmp_unreachable_out.get(), 50U);
  EXPECT_EQ(_counters.icmp_errors_rate_limited.get(), 50U);
  EXPECT_EQ(dropped(drop_reason::udp_no_port), 100U);
}

TEST_F(EngineTest, TcpWithBadDataOffsetIsCounted) {
  // scapy: Ether(dst=M,src=P)/IP(src='198.18.0.1',dst='198.18.0.2',id=1)/
  //        TCP(sport=40000,dport=80,flags='S',seq=1000,dataofs=3)
  const bytes seg = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
                     0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06,
                     0xee, 0xa7, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40,
                     0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x30, 0x02,
                     0x20, 0x00, 0x83, 0x42, 0x00, 0x00};
  receive(seg);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::tcp_bad_data_offset), 1U);
}

TEST_F(EngineTest, FramesForOtherHostsAreCounted) {
  bytes other_mac = kEchoRequest;
  other_mac[5] = 0x77;
  bytes other_ip = kEchoRequest;
  // scapy: kEchoRequest with IP(dst='198.18.0.3'): header checksum 0xeea1
  other_ip[33] = 0x03;
  other_ip[24] = 0xee;
  other_ip[25] = 0xa1;
  bytes ipv6 = kEchoRequest;
  ipv6[12] = 0x86;
  ipv6[13] = 0xdd;
  receive({other_mac, other_ip, ipv6});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::eth_not_for_us), 1U);
  EXPECT_EQ(dropped(drop_reason::ip_not_for_us), 1U);
  EXPECT_EQ(dropped(drop_reason::eth_unknown_type), 1U);
  EXPECT_EQ(_counters.rx_pkts.get(), 3U);
}

TEST_F(EngineTest, AnnounceSendsGratuitousArp) {
  _engine->announce(_now);
  const auto out = sent();
  ASSERT_EQ(out.size(), 1U);
  const auto eth = wire::parse_ether(test::as_bytes(out[0]));
  ASSERT_TRUE(eth);
  EXPECT_TRUE(eth->dst.is_broadcast());
  EXPECT_EQ(eth->src, kStackMac);
  const auto arp = wire::parse_arp(test::as_bytes(out[0]).subspan(14));
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->op, wire::arp_op::request);
  EXPECT_EQ(arp->sender_ip, kStackIp);
  EXPECT_EQ(arp->target_ip, kStackIp);  // RFC 5227 §2.3 announcement
  EXPECT_EQ(arp->sender_mac, kStackMac);
}

// An IPv4 packet built by the stack towards an unresolved neighbour: an ARP
// request goes out first, the packet waits, and leaves once the reply names
// the neighbour's MAC.
TEST_F(EngineTest, OutgoingPacketWaitsForArpResolution) {
  // The IPv4 packet alone: the engine prepends the Ethernet header.
  rte_mbuf* m = test::make_mbuf(bytes(kEchoReply.begin() + 14, kEchoReply.end()));
  _engine->send_ipv4(m, kPeerIp, _now);
  _engine->flush();
  auto out = sent();
  ASSERT_EQ(out.size(), 1U);
  const auto arp = wire::parse_arp(test::as_bytes(out[0]).subspan(14));
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->op, wire::arp_op::request);
  EXPECT_EQ(arp->target_ip, kPeerIp);

  // scapy: Ether(dst=M,src=P)/ARP(op=2,hwsrc=P,psrc='198.18.0.1',hwdst=M,pdst='198.18.0.2')
  const bytes reply = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
                       0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00,
                       0x00, 0x00, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
                       0x00, 0x02, 0xc6, 0x12, 0x00, 0x02};
  receive(reply);
  out = sent();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0], kEchoReply);  // destination MAC filled with the peer's
}

TEST_F(EngineTest, OffLinkWithoutGatewayIsNoRoute) {
  rte_mbuf* m = test::make_mbuf(bytes(kEchoReply.begin() + 14, kEchoReply.end()));
  _engine->send_ipv4(m, wire::ipv4_addr::from_octets(198, 19, 0, 1), _now);
  _engine->flush();
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::no_route), 1U);
}

TEST_F(EngineTest, CountsRxAndTxBytes) {
  receive({kEchoRequest, kArpRequest});
  EXPECT_EQ(sent().size(), 2U);
  EXPECT_EQ(_counters.rx_pkts.get(), 2U);
  EXPECT_EQ(_counters.rx_bytes.get(), kEchoRequest.size() + kArpRequest.size());
  EXPECT_EQ(_counters.tx_pkts.get(), 2U);
  EXPECT_EQ(_counters.tx_bytes.get(), kEchoReply.size() + kArpReply.size());
}

// ---- martian sources and destinations (ip/martian.hh) ----------------------

// One of every kind the classifier names, ours (198.18.0.2/24) aside.
const std::vector<wire::ipv4_addr> kMartians = {
    wire::ipv4_addr::from_octets(0, 0, 0, 0),          // this network
    wire::ipv4_addr::from_octets(0, 1, 2, 3),          // a host on this network
    wire::ipv4_addr::from_octets(127, 0, 0, 1),        // loopback
    wire::ipv4_addr::from_octets(224, 0, 0, 1),        // multicast
    wire::ipv4_addr::from_octets(239, 255, 255, 255),  // multicast
    wire::ipv4_addr::from_octets(240, 0, 0, 1),        // class E
    wire::ipv4_addr::from_octets(255, 255, 255, 255),  // limited broadcast
    wire::ipv4_addr::from_octets(198, 18, 0, 0),       // our subnet's network address
    wire::ipv4_addr::from_octets(198, 18, 0, 255),     // our subnet's directed broadcast
};

bytes with_ether(std::vector<std::uint8_t> ip_packet, std::uint16_t ether_type) {
  bytes f(wire::kEtherHeaderLen);
  wire::ether_repr er;
  er.dst = kStackMac;
  er.src = kPeerMac;
  er.ether_type = ether_type;
  (void)wire::emit_ether(er, std::as_writable_bytes(std::span<std::uint8_t>(f)));
  f.insert(f.end(), ip_packet.begin(), ip_packet.end());
  return f;
}

// A SYN to `dport` on the stack from `src`, checksums valid.
bytes syn_from(wire::ipv4_addr src, std::uint16_t sport = 40000, std::uint16_t dport = 80) {
  return with_ether(support::build_ipv4_tcp({.src = src,
                                              .dst = kStackIp,
                                              .src_port = sport,
                                              .dst_port = dport,
                                              .flags = wire::tcp_flag::kSyn,
                                              .seq = 1000}),
                    wire::kEthertypeIpv4);
}

// kEchoRequest with another IPv4 source, or destination (the ICMP checksum
// covers neither).
bytes echo_from(wire::ipv4_addr src, wire::ipv4_addr dst = kStackIp) {
  bytes f = kEchoRequest;
  wire::ipv4_repr ip;
  ip.src = src;
  ip.dst = dst;
  ip.protocol = wire::kIpProtoIcmp;
  ip.id = 7;
  ip.total_length = static_cast<std::uint16_t>(f.size() - wire::kEtherHeaderLen);
  (void)wire::emit_ipv4_header(ip, wire::tx_checksum::full,
                               std::as_writable_bytes(std::span<std::uint8_t>(f)).subspan(14));
  return f;
}

// An ARP packet from kPeerMac naming `sender_mac` and `sender_ip` as its sender.
bytes arp_from(wire::arp_op op, const wire::mac_addr& sender_mac, wire::ipv4_addr sender_ip,
               wire::ipv4_addr target_ip = kStackIp) {
  std::vector<std::uint8_t> body(wire::kArpLen);
  wire::arp_repr a;
  a.op = op;
  a.sender_mac = sender_mac;
  a.sender_ip = sender_ip;
  a.target_ip = target_ip;
  if (op == wire::arp_op::reply) a.target_mac = kStackMac;
  (void)wire::emit_arp(a, std::as_writable_bytes(std::span<std::uint8_t>(body)));
  return with_ether(body, wire::kEthertypeArp);
}

// The stack with TCP and a listener on port 80, as kbt-httpd runs it.
class EngineMartianTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    start(tcp::syncookies_mode::automatic);
  }
  void start(tcp::syncookies_mode cookies) {
    _engine.reset();
    _config.tcp = true;
    _config.tcp_layer.tcp.syncookies = cookies;
    _engine = std::make_unique<engine>(_config, _counters);
    ASSERT_TRUE(_engine->tcp()->listen(80));
  }

  // Nothing left the stack and nothing was kept: no frame (SYN-ACK, RST,
  // echo reply, ARP request), no TCB, no SYN-queue entry, no cookie, no
  // neighbour entry of any state.
  void expect_no_trace() {
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(_engine->tcp()->connections(), 0U);
    EXPECT_EQ(_engine->tcp()->syn_queue_length(80), 0U);
    EXPECT_EQ(_engine->tcp()->counters().segs_in.get(), 0U);
    EXPECT_EQ(_engine->tcp()->counters().syncookies_sent.get(), 0U);
    EXPECT_EQ(_engine->neighbours().size(), 0U);
    EXPECT_EQ(_counters.arp_requests_out.get(), 0U);
    EXPECT_EQ(_counters.icmp_echo_replies.get(), 0U);
    EXPECT_EQ(_counters.tx_pkts.get(), 0U);
  }
};

// The control the tests below rely on: the same SYN and ping from a real
// host are answered (the SYN-ACK waits for the host's MAC, hence the ARP
// request) and the SYN leaves a SYN_RCVD TCB.
TEST_F(EngineMartianTest, SynAndPingFromAHostAreAnswered) {
  ASSERT_EQ(echo_from(kPeerIp), kEchoRequest);
  receive({syn_from(kPeerIp), echo_from(kPeerIp)});
  EXPECT_EQ(sent().size(), 2U);  // the ARP request for the SYN-ACK, the echo reply
  EXPECT_EQ(_counters.arp_requests_out.get(), 1U);
  EXPECT_EQ(_counters.icmp_echo_replies.get(), 1U);
  EXPECT_EQ(_engine->tcp()->connections(), 1U);
  EXPECT_EQ(_counters.drops_total(), 0U);
}

TEST_F(EngineMartianTest, SynAndPingFromMartianSourcesLeaveNoTrace) {
  std::uint64_t n = 0;
  for (const auto src : kMartians) {
    SCOPED_TRACE(wire::to_string(src));
    receive({syn_from(src), echo_from(src)});
    n += 2;
    expect_no_trace();
    EXPECT_EQ(dropped(drop_reason::ip_martian_source), n);
    EXPECT_EQ(_counters.drops_total(), n) << "counted under another reason too";
  }
}

TEST_F(EngineMartianTest, MartianSynGetsNoCookieEither) {
  start(tcp::syncookies_mode::always);
  for (const auto src : kMartians) {
    SCOPED_TRACE(wire::to_string(src));
    receive(syn_from(src));
    expect_no_trace();
  }
  EXPECT_EQ(dropped(drop_reason::ip_martian_source), kMartians.size());
  EXPECT_EQ(_counters.drops_total(), kMartians.size());
}

// The land attack: a SYN from our own address and port to themselves.
TEST_F(EngineMartianTest, LandSynIsDroppedAsLand) {
  receive({syn_from(kStackIp, 80, 80), echo_from(kStackIp)});
  expect_no_trace();
  EXPECT_EQ(dropped(drop_reason::ip_land), 2U);
  EXPECT_EQ(_counters.drops_total(), 2U);
}

TEST_F(EngineMartianTest, ArpFromMartianSenderIsNeitherLearnedNorAnswered) {
  std::uint64_t n = 0;
  for (const auto src : kMartians) {
    if (src.is_zero()) continue;  // a probe: the next test
    SCOPED_TRACE(wire::to_string(src));
    receive({arp_from(wire::arp_op::request, kPeerMac, src),
             arp_from(wire::arp_op::reply, kPeerMac, src)});
    n += 2;
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(_engine->neighbours().size(), 0U);
    EXPECT_EQ(_engine->neighbours().lookup(src, base::ns_since_start(_now)), nullptr);
    EXPECT_EQ(dropped(drop_reason::arp_martian_sender), n);
    EXPECT_EQ(_counters.drops_total(), n);
  }
  EXPECT_EQ(_counters.arp_replies_out.get(), 0U);
}

// RFC 5227 §2.1.1: "who has 198.18.0.2? tell 0.0.0.0" is answered, so the
// prober learns the address is taken; 0.0.0.0 is not learned.
TEST_F(EngineMartianTest, ArpProbeForOurAddressIsAnsweredAndNotLearned) {
  receive(arp_from(wire::arp_op::request, kPeerMac, wire::ipv4_addr{}));
  const auto out = sent();
  ASSERT_EQ(out.size(), 1U);
  const auto eth = wire::parse_ether(test::as_bytes(out[0]));
  ASSERT_TRUE(eth);
  EXPECT_EQ(eth->dst, kPeerMac);
  const auto arp = wire::parse_arp(test::as_bytes(out[0]).subspan(14));
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->op, wire::arp_op::reply);
  EXPECT_EQ(arp->sender_ip, kStackIp);
  EXPECT_EQ(arp->sender_mac, kStackMac);
  EXPECT_TRUE(arp->target_ip.is_zero());
  EXPECT_EQ(_engine->neighbours().size(), 0U);
  EXPECT_EQ(_counters.drops_total(), 0U);
}

// Another MAC claiming 198.18.0.2 (RFC 5227 §2.4): its gratuitous request
// and its reply are not answered and teach the cache nothing.
TEST_F(EngineMartianTest, ArpClaimingOurAddressIsAConflict) {
  receive({arp_from(wire::arp_op::request, kPeerMac, kStackIp),
           arp_from(wire::arp_op::reply, kPeerMac, kStackIp)});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_engine->neighbours().size(), 0U);
  EXPECT_EQ(dropped(drop_reason::arp_address_conflict), 2U);
  EXPECT_EQ(_counters.drops_total(), 2U);
}

TEST_F(EngineMartianTest, NothingIsSentToAMartianDestination) {
  auto destinations = kMartians;
  destinations.push_back(kStackIp);
  std::uint64_t n = 0;
  for (const auto dst : destinations) {
    SCOPED_TRACE(wire::to_string(dst));
    rte_mbuf* m = test::make_mbuf(bytes(kEchoReply.begin() + 14, kEchoReply.end()));
    _engine->send_ipv4(m, dst, _now);
    _engine->flush();
    ++n;
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(_engine->neighbours().size(), 0U) << "an ARP resolution was started";
    EXPECT_EQ(dropped(drop_reason::ip_martian_destination), n);
    EXPECT_EQ(_counters.drops_total(), n);
  }
}

// tcp_layer::connect() cannot ask ip/ (tcp/ sees only wire/ and base/): the
// connection opens, and its SYN stops at the engine.
TEST_F(EngineMartianTest, ConnectToAMartianSendsNothing) {
  ASSERT_NE(_engine->tcp()->connect(wire::ipv4_addr::from_octets(127, 0, 0, 1), 80, _now),
            nullptr);
  _engine->flush_all();
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_engine->neighbours().size(), 0U);
  EXPECT_EQ(dropped(drop_reason::ip_martian_destination), 1U);
}

// ---- source addresses (ip/source_range.hh) --------------------------------

// The stack with 198.18.0.10-198.18.0.12 as source addresses besides its own
// 198.18.0.2, as kbt-load --source-ips runs it.
class EngineSourcesTest : public EngineMartianTest {
 protected:
  static constexpr wire::ipv4_range kSources{wire::ipv4_addr::from_octets(198, 18, 0, 10), 3};
  void SetUp() override {
    EngineTest::SetUp();
    _config.sources = kSources;
    start(tcp::syncookies_mode::automatic);
  }
  static wire::ipv4_addr source(std::uint8_t last) {
    return wire::ipv4_addr::from_octets(198, 18, 0, last);
  }
  // kEchoRequest to `dst` instead of the stack's own address.
  static bytes echo_to(wire::ipv4_addr dst) { return echo_from(kPeerIp, dst); }
};

TEST_F(EngineSourcesTest, ArpAndPingAreAnsweredFromEachSourceAddress) {
  for (const std::uint8_t last : {10, 11, 12}) {
    SCOPED_TRACE(static_cast<int>(last));
    receive({arp_from(wire::arp_op::request, kPeerMac, kPeerIp, source(last)),
             echo_to(source(last))});
    const auto out = sent();
    ASSERT_EQ(out.size(), 2U);
    const auto arp = wire::parse_arp(test::as_bytes(out[0]).subspan(14));
    ASSERT_TRUE(arp);
    EXPECT_EQ(arp->op, wire::arp_op::reply);
    EXPECT_EQ(arp->sender_ip, source(last));  // the address asked for, not 198.18.0.2
    EXPECT_EQ(arp->sender_mac, kStackMac);
    const auto ip = wire::parse_ipv4_header(test::as_bytes(out[1]).subspan(14), true);
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->src, source(last));
    EXPECT_EQ(ip->dst, kPeerIp);
  }
  EXPECT_EQ(_counters.arp_replies_out.get(), 3U);
  EXPECT_EQ(_counters.icmp_echo_replies.get(), 3U);
  EXPECT_EQ(_counters.drops_total(), 0U);
}

TEST_F(EngineSourcesTest, AddressesJustOutsideTheRangeAreNotOurs) {
  for (const std::uint8_t last : {9, 13}) {
    receive({arp_from(wire::arp_op::request, kPeerMac, kPeerIp, source(last)),
             echo_to(source(last))});
  }
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::arp_not_for_us), 2U);
  EXPECT_EQ(dropped(drop_reason::ip_not_for_us), 2U);
}

TEST_F(EngineSourcesTest, ASourceAddressAsSenderIsOurOwn) {
  // RFC 5227 §2.4 conflict and the land attack, as for 198.18.0.2.
  receive({arp_from(wire::arp_op::request, kPeerMac, source(11)), echo_from(source(11)),
           syn_from(source(12))});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(dropped(drop_reason::arp_address_conflict), 1U);
  EXPECT_EQ(dropped(drop_reason::ip_land), 2U);
}

TEST_F(EngineSourcesTest, AnnounceCoversEverySourceAddress) {
  _engine->announce(_now);
  std::vector<wire::ipv4_addr> announced;
  for (const auto& f : sent()) {
    const auto arp = wire::parse_arp(test::as_bytes(f).subspan(14));
    ASSERT_TRUE(arp);
    EXPECT_EQ(arp->sender_ip, arp->target_ip);  // RFC 5227 §2.3 announcement
    announced.push_back(arp->target_ip);
  }
  EXPECT_EQ(announced, (std::vector<wire::ipv4_addr>{kStackIp, source(10), source(11),
                                                     source(12)}));
}

// Active opens take the sources in turn; the SYN-ACK to a source address
// reaches its connection.
TEST_F(EngineSourcesTest, ActiveOpensTakeTheSourcesInTurnAndTheirAnswersArrive) {
  receive(kArpRequest);  // learns the peer's MAC: the SYNs leave at once
  sent();
  std::vector<tcp::tcb*> conns;
  for (int i = 0; i < 4; ++i) conns.push_back(_engine->tcp()->connect(kPeerIp, 80, _now));
  _engine->flush_all();
  const auto syns = sent();
  ASSERT_EQ(syns.size(), 4U);
  const wire::ipv4_addr expect[] = {source(10), source(11), source(12), source(10)};
  for (int i = 0; i < 4; ++i) {
    ASSERT_NE(conns[i], nullptr);
    EXPECT_EQ(conns[i]->tuple.local_ip, expect[i]);
    const auto ip = wire::parse_ipv4_header(test::as_bytes(syns[i]).subspan(14), true);
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->src, expect[i]);
  }
  const tcp::tcb& c = *conns[1];
  const auto syn = wire::parse_tcp(test::as_bytes(syns[1]).subspan(34), c.tuple.local_ip,
                                   kPeerIp, true);
  ASSERT_TRUE(syn);
  bytes syn_ack = with_ether(support::build_ipv4_tcp({.src = kPeerIp,
                                                       .dst = c.tuple.local_ip,
                                                       .src_port = 80,
                                                       .dst_port = c.tuple.local_port,
                                                       .flags = wire::tcp_flag::kSyn |
                                                                wire::tcp_flag::kAck,
                                                       .seq = 5000,
                                                       .ack = syn->seq.value + 1}),
                             wire::kEthertypeIpv4);
  receive(syn_ack);
  EXPECT_EQ(c.state, tcp::tcp_state::established);
  EXPECT_EQ(_counters.drops_total(), 0U);
}

// ---- the loop's work: tx bursts and next-hop lookups ----------------------

// The stack with TCP, the peer's MAC known, and every rte_eth_tx_burst call
// on its port recorded (a DPDK tx callback runs once per call).
class EngineLoopTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    _engine.reset();
    _config.tcp = true;
    _engine = std::make_unique<engine>(_config, _counters);
    receive(kArpRequest);  // learns the peer's MAC
    sent();
    _callback = rte_eth_add_tx_callback(_ring.port_id, 0, &EngineLoopTest::record_burst, &_bursts);
    ASSERT_NE(_callback, nullptr);
  }
  // The port id comes back in the next test, and closing the port leaves its
  // callbacks in place: this one goes with the fixture that it writes to.
  void TearDown() override {
    if (_callback != nullptr) {
      EXPECT_EQ(rte_eth_remove_tx_callback(_ring.port_id, 0, _callback), 0);
      rte_free(const_cast<rte_eth_rxtx_callback*>(_callback));  // ours once removed (DPDK doc)
    }
    EngineTest::TearDown();
  }
  static std::uint16_t record_burst(std::uint16_t, std::uint16_t, rte_mbuf**, std::uint16_t n,
                                    void* bursts) {
    static_cast<std::vector<std::uint16_t>*>(bursts)->push_back(n);
    return n;
  }
  // One iteration with `pings` echo requests in the rx ring and an
  // application hook that opens `connects` connections to the peer.
  void iterate(std::size_t pings, int connects) {
    for (std::size_t i = 0; i < pings; ++i) {
      ASSERT_EQ(rte_ring_enqueue(_ring.to_port, test::make_mbuf(kEchoRequest)), 0);
    }
    struct app {
      int connects;
      int opened = 0;
    } a{connects};
    _engine->poll(
        _now,
        [](engine& e, base::instant now, void* ctx) {
          auto* x = static_cast<app*>(ctx);
          for (int i = 0; i < x->connects; ++i) {
            x->opened += e.tcp()->connect(kPeerIp, 80, now) != nullptr ? 1 : 0;
          }
        },
        &a);
    ASSERT_EQ(a.opened, connects);
  }
  std::uint64_t arp_lookups() const {
    const auto& c = _engine->neighbours().counters();
    return c.hits + c.misses;  // one of the two per resolve()
  }
  std::vector<std::uint16_t> _bursts;
  const rte_eth_rxtx_callback* _callback = nullptr;
};

// Echo replies made by input and SYNs made by the application's hook leave
// in one burst: the hook runs before the iteration's output, not after it
// with a burst of its own (the loop made two before).
TEST_F(EngineLoopTest, OneTxBurstPerIteration) {
  iterate(3, 3);
  EXPECT_EQ(sent().size(), 6U);
  EXPECT_EQ(_bursts, (std::vector<std::uint16_t>{6}));
  EXPECT_EQ(_counters.tx_pkts.get(), 7U);  // with the ARP reply of SetUp
}

// More than a burst's worth: full bursts as they fill, then one with the
// rest, and no burst for the hook's frames alone.
TEST_F(EngineLoopTest, OneTxBurstPerIterationUnderLoad) {
  iterate(40, 5);
  EXPECT_EQ(sent().size(), 45U);
  EXPECT_EQ(_bursts, (std::vector<std::uint16_t>{engine::kBurst, 45 - engine::kBurst}));
  _bursts.clear();
  iterate(0, 0);  // nothing queued: no burst at all
  EXPECT_TRUE(_bursts.empty());
}

// TCP's output batch asks the neighbour cache once per run of segments to
// one next hop, and each segment still carries its own neighbour's MAC.
TEST_F(EngineLoopTest, NextHopResolvedOncePerDestinationPerBatch) {
  const auto other_ip = wire::ipv4_addr::from_octets(198, 18, 0, 3);
  const wire::mac_addr other_mac{{0x02, 0, 0, 0, 0, 0x03}};
  receive(arp_from(wire::arp_op::request, other_mac, other_ip));
  sent();
  const std::uint64_t before = arp_lookups();
  for (int i = 0; i < 3; ++i) ASSERT_NE(_engine->tcp()->connect(kPeerIp, 80, _now), nullptr);
  for (int i = 0; i < 2; ++i) ASSERT_NE(_engine->tcp()->connect(other_ip, 80, _now), nullptr);
  _engine->flush_all();
  EXPECT_EQ(arp_lookups() - before, 2U);
  const auto out = sent();
  ASSERT_EQ(out.size(), 5U);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto eth = wire::parse_ether(test::as_bytes(out[i]));
    ASSERT_TRUE(eth);
    EXPECT_EQ(eth->dst, i < 3 ? kPeerMac : other_mac) << "segment " << i;
  }
}

// A next hop still unresolved is asked per segment: each waits in its
// queue behind the one before, none overtakes, one ARP request goes out.
TEST_F(EngineLoopTest, SegmentsToAnUnresolvedNextHopAllWaitInOrder) {
  const auto far_ip = wire::ipv4_addr::from_octets(198, 18, 0, 4);
  const wire::mac_addr far_mac{{0x02, 0, 0, 0, 0, 0x04}};
  const std::uint64_t before = arp_lookups();
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < 3; ++i) {
    tcp::tcb* c = _engine->tcp()->connect(far_ip, 80, _now);
    ASSERT_NE(c, nullptr);
    ports.push_back(c->tuple.local_port);
  }
  _engine->flush_all();
  EXPECT_EQ(arp_lookups() - before, 3U);
  EXPECT_EQ(sent().size(), 1U);  // the ARP request
  EXPECT_EQ(_counters.arp_requests_out.get(), 1U);
  receive(arp_from(wire::arp_op::reply, far_mac, far_ip));
  const auto out = sent();
  ASSERT_EQ(out.size(), 3U);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto tcp = wire::parse_tcp(test::as_bytes(out[i]).subspan(34), kStackIp, far_ip, true);
    ASSERT_TRUE(tcp);
    EXPECT_EQ(tcp->src_port, ports[i]) << "segment " << i;
  }
}

// engine_config::tcp_layer.tcp.cc (the apps' --cc) is what every connection
// runs: after a timeout with 40,000 bytes in flight NewReno keeps half
// (RFC 5681 §3.1 eq. 4), CUBIC 0.7 of it (RFC 9438 §4.6 and §4.8).
TEST_F(EngineTest, ConnectionsRunTheConfiguredCongestionControl) {
  for (const auto algo : {tcp::cc_algorithm::newreno, tcp::cc_algorithm::cubic}) {
    SCOPED_TRACE(std::string(tcp::to_string(algo)));
    _engine.reset();
    _config.tcp = true;
    _config.tcp_layer.tcp.cc = algo;
    _engine = std::make_unique<engine>(_config, _counters);
    tcp::tcb* c = _engine->tcp()->connect(kPeerIp, 80, _now);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->cc.algorithm(), algo);
    c->cc.on_rto(40'000, base::ns_since_start(_now));
    EXPECT_EQ(c->cc.ssthresh(), algo == tcp::cc_algorithm::newreno ? 20'000U : 28'000U);
    _engine->flush_all();
    sent();  // the ARP request; the SYN waits for the answer
  }
}

void EngineTest::ping_in_fragments(std::size_t data, std::size_t expect_fragments) {
  // ICMP echo request id 0x1234 seq 1 with `data` bytes of payload.
  bytes icmp = {8, 0, 0, 0, 0x12, 0x34, 0, 1};
  for (std::size_t i = 0; i < data; ++i) icmp.push_back(static_cast<std::uint8_t>(i * 7));
  const std::uint16_t ck = static_cast<std::uint16_t>(~ones_sum(icmp.data(), icmp.size()));
  icmp[2] = static_cast<std::uint8_t>(ck >> 8);
  icmp[3] = static_cast<std::uint8_t>(ck);
  std::vector<bytes> frames;
  for (std::size_t off = 0; off < icmp.size(); off += 1480) {
    const std::size_t n = std::min<std::size_t>(1480, icmp.size() - off);
    frames.push_back(ip_fragment(77, static_cast<std::uint16_t>(off), off + n < icmp.size(), 1,
                                 bytes(icmp.begin() + off, icmp.begin() + off + n)));
  }
  receive(frames);
  const auto out = sent();
  ASSERT_EQ(out.size(), expect_fragments);
  bytes whole(icmp.size(), 0);
  std::size_t got = 0;
  for (const auto& f : out) {
    ASSERT_GE(f.size(), 34U);
    EXPECT_LE(f.size() - 14, 1500U);
    EXPECT_EQ(ones_sum(f.data() + 14, 20), 0xffff) << "IPv4 header checksum";
    EXPECT_EQ(f[23], 1);                                // ICMP
    EXPECT_EQ(bytes(f.begin() + 26, f.begin() + 30), (bytes{198, 18, 0, 2}));
    EXPECT_EQ(bytes(f.begin() + 30, f.begin() + 34), (bytes{198, 18, 0, 1}));
    const std::size_t total = (f[16] << 8) | f[17];
    const std::size_t off = (((f[20] << 8) | f[21]) & 0x1fff) * 8;
    ASSERT_LE(off + total - 20, whole.size());
    std::copy(f.begin() + 34, f.begin() + 14 + total, whole.begin() + off);
    got += total - 20;
  }
  ASSERT_EQ(got, icmp.size());
  EXPECT_EQ(whole[0], 0) << "echo reply";
  EXPECT_EQ(ones_sum(whole.data(), whole.size()), 0xffff) << "ICMP checksum";
  EXPECT_TRUE(std::equal(whole.begin() + 4, whole.end(), icmp.begin() + 4));
}

}  // namespace

}  // namespace kbt::core
