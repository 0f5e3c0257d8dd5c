// The shared rig itself (tests/support/tcp_rig.hh): what it captures is
// parsed, and a packet a receiving kernel would drop for its checksum goes
// to the failure hook.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tcp_rig.hh"
#include "tcp_states.hh"
#include "test_env.hh"

namespace kbt::support {
namespace {

namespace flag = wire::tcp_flag;

struct failures {
  std::vector<std::string> what;
};
void record(void* ctx, const char* what) { static_cast<failures*>(ctx)->what.emplace_back(what); }

rig_config config(bool offload) {
  rig_config rc;
  rc.tcp.max_time_wait = 1024;
  rc.pool = kbt::test::mbuf_pool();
  rc.tx_cksum_offload = offload;
  return rc;
}

// connect()'s SYN as a fresh rig captured it; the rig is gone on return.
std::vector<captured_segment> captured_syn(bool offload, failures& f) {
  virtual_clock clock;
  tcp_rig rig(config(offload), clock, &record, &f);
  EXPECT_NE(rig.layer().connect(kPeerIp, kServerPort, rig.now(), kActivePort), nullptr);
  return rig.sent();
}

TEST(TcpRig, CapturedSegmentIsParsedWithGoodChecksums) {
  const unsigned before = kbt::test::available_mbufs();
  failures f;
  const auto v = captured_syn(false, f);
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].h.flags, flag::kSyn);
  EXPECT_EQ(v[0].h.src_port, kActivePort);
  EXPECT_EQ(v[0].h.dst_port, kServerPort);
  EXPECT_EQ(v[0].ip.src, kStackIp);
  EXPECT_EQ(v[0].next_hop, kPeerIp);
  EXPECT_TRUE(v[0].ip_checksum_ok);
  EXPECT_TRUE(v[0].tcp_checksum_ok);
  EXPECT_TRUE(f.what.empty());
  EXPECT_EQ(kbt::test::available_mbufs(), before);
}

// With checksums left to a NIC that is not there, the rig sees what the
// peer's kernel would see, and says so.
TEST(TcpRig, WrongChecksumsGoToTheFailureHook) {
  const unsigned before = kbt::test::available_mbufs();
  failures f;
  const auto v = captured_syn(true, f);
  ASSERT_EQ(v.size(), 1U);
  EXPECT_FALSE(v[0].ip_checksum_ok);
  EXPECT_FALSE(v[0].tcp_checksum_ok);
  ASSERT_EQ(f.what.size(), 2U);
  EXPECT_EQ(f.what[0], "the stack sent a wrong IPv4 header checksum");
  EXPECT_EQ(f.what[1], "the stack sent a wrong TCP checksum");
  EXPECT_EQ(kbt::test::available_mbufs(), before);
}

// A builder that does not reach its state says so through the hook: with
// the one TCB taken, connect() fails and SYN_SENT is never reached.
TEST(TcpRig, BuilderThatMissesItsStateFails) {
  failures f;
  virtual_clock clock;
  rig_config rc = config(false);
  rc.max_conns = 1;
  tcp_rig rig(rc, clock, &record, &f);
  ASSERT_NE(rig.layer().connect(kPeerIp, kServerPort, rig.now(), 50000), nullptr);
  (void)rig.sent();
  (void)syn_sent(rig);
  ASSERT_FALSE(f.what.empty());
  EXPECT_EQ(f.what[0], "connect() failed");
}

}  // namespace
}  // namespace kbt::support
