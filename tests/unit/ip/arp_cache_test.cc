#include "ip/arp_cache.hh"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <vector>

#include "test_env.hh"

namespace kbt::ip {
namespace {

using wire::ipv4_addr;
using wire::mac_addr;

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kSec = 1'000 * kMs;
// Start far from zero so `now - something` never wraps in the tests.
constexpr std::uint64_t kT0 = 1'000 * kSec;

constexpr ipv4_addr host(std::uint8_t last) noexcept {
  return ipv4_addr::from_octets(198, 18, 0, last);
}
constexpr mac_addr mac_of(std::uint8_t last) noexcept {
  return {{0x02, 0x00, 0x5e, 0x00, 0x00, last}};
}

// A one-byte packet whose byte tells the packets apart.
rte_mbuf* tagged(std::uint8_t tag) { return test::make_mbuf({tag}); }
std::uint8_t tag_of(const rte_mbuf* m) { return test::mbuf_bytes(m).at(0); }

void free_all(std::span<rte_mbuf*> pkts) {
  for (rte_mbuf* m : pkts) rte_pktmbuf_free(m);
}

// Every test builds its caches as locals, so they are destroyed before
// TearDown checks that the pool got every mbuf back.
class ArpCache : public ::testing::Test {
 protected:
  void SetUp() override { _mbufs_before = test::available_mbufs(); }
  void TearDown() override {
    EXPECT_EQ(test::available_mbufs(), _mbufs_before) << "mbufs leaked or double-freed";
  }

 private:
  unsigned _mbufs_before = 0;
};

TEST_F(ArpCache, ResolveOfUnknownNeighbourQueuesAndAsksForRequest) {
  arp_cache cache;
  const resolve_result r = cache.resolve(host(1), tagged(1), kT0);
  EXPECT_EQ(r.status, resolve_status::queued_send_request);
  EXPECT_TRUE(r.send_request());
  EXPECT_FALSE(r.ready());
  EXPECT_EQ(r.mac, nullptr);
  EXPECT_EQ(cache.lookup(host(1), kT0), nullptr);
  EXPECT_EQ(cache.size(), 1U);
  EXPECT_EQ(cache.queued_packets(), 1U);
  EXPECT_EQ(cache.counters().misses, 1U);
  EXPECT_EQ(cache.counters().hits, 0U);
  EXPECT_EQ(cache.counters().requests_needed, 1U);
  EXPECT_EQ(cache.counters().queued, 1U);
}

TEST_F(ArpCache, SecondPacketIsQueuedWithoutNewRequest) {
  arp_cache cache;
  ASSERT_EQ(cache.resolve(host(1), tagged(1), kT0).status, resolve_status::queued_send_request);
  const resolve_result r = cache.resolve(host(1), tagged(2), kT0 + 100 * kMs);
  EXPECT_EQ(r.status, resolve_status::queued);
  EXPECT_FALSE(r.send_request());
  EXPECT_EQ(cache.counters().requests_needed, 1U);
  EXPECT_EQ(cache.counters().queued, 2U);
  EXPECT_EQ(cache.queued_packets(), 2U);
  EXPECT_EQ(cache.size(), 1U);
}

TEST_F(ArpCache, UpdateReleasesQueuedPacketsInOrder) {
  arp_cache cache;
  for (std::uint8_t t = 1; t <= 3; ++t) cache.resolve(host(1), tagged(t), kT0 + t * kMs);
  // A packet for another neighbour must stay where it is.
  cache.resolve(host(2), tagged(9), kT0);

  std::array<rte_mbuf*, 8> out{};
  const std::size_t n = cache.update(host(1), mac_of(1), kT0 + 10 * kMs, true, out);
  ASSERT_EQ(n, 3U);
  EXPECT_EQ(tag_of(out[0]), 1);
  EXPECT_EQ(tag_of(out[1]), 2);
  EXPECT_EQ(tag_of(out[2]), 3);
  EXPECT_EQ(cache.queued_packets(), 1U);
  free_all(std::span(out).first(n));

  // A second update has nothing left to release.
  EXPECT_EQ(cache.update(host(1), mac_of(1), kT0 + 20 * kMs, true, out), 0U);
}

TEST_F(ArpCache, UpdateFreesWhatDoesNotFitInTheOutputSpan) {
  arp_cache cache;
  for (std::uint8_t t = 1; t <= 3; ++t) cache.resolve(host(1), tagged(t), kT0);
  std::array<rte_mbuf*, 2> out{};
  const std::size_t n = cache.update(host(1), mac_of(1), kT0, false, out);
  ASSERT_EQ(n, 2U);
  EXPECT_EQ(tag_of(out[0]), 1);
  EXPECT_EQ(tag_of(out[1]), 2);
  EXPECT_EQ(cache.counters().queue_drops, 1U);
  EXPECT_EQ(cache.queued_packets(), 0U);
  free_all(out);
}

TEST_F(ArpCache, LookupAndResolveHitAfterUpdate) {
  arp_cache cache;
  cache.resolve(host(1), tagged(1), kT0);
  std::array<rte_mbuf*, 8> out{};
  const std::size_t n = cache.update(host(1), mac_of(1), kT0 + kMs, false, out);
  free_all(std::span(out).first(n));

  const mac_addr* m = cache.lookup(host(1), kT0 + 2 * kMs);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(*m, mac_of(1));

  rte_mbuf* pkt = tagged(2);
  const resolve_result r = cache.resolve(host(1), pkt, kT0 + 3 * kMs);
  EXPECT_EQ(r.status, resolve_status::ready);
  ASSERT_NE(r.mac, nullptr);
  EXPECT_EQ(*r.mac, mac_of(1));
  EXPECT_EQ(cache.counters().hits, 1U);
  EXPECT_EQ(cache.counters().misses, 1U);
  EXPECT_EQ(cache.queued_packets(), 0U);
  rte_pktmbuf_free(pkt);  // `ready` leaves the packet with the caller
}

TEST_F(ArpCache, EntryExpiresAfterReachableTime) {
  arp_cache_config cfg;
  cfg.reachable_time_ns = 5 * kSec;
  arp_cache cache(cfg);
  std::array<rte_mbuf*, 8> out{};
  ASSERT_EQ(cache.update(host(1), mac_of(1), kT0, true, out), 0U);

  EXPECT_NE(cache.lookup(host(1), kT0 + 5 * kSec - 1), nullptr);
  EXPECT_EQ(cache.lookup(host(1), kT0 + 5 * kSec), nullptr);

  // Expired behaves as absent: the next packet starts a new resolution.
  const resolve_result r = cache.resolve(host(1), tagged(1), kT0 + 5 * kSec);
  EXPECT_EQ(r.status, resolve_status::queued_send_request);
  EXPECT_EQ(cache.counters().misses, 1U);

  // A confirmation refreshes the lifetime from its own time.
  const std::size_t n = cache.update(host(1), mac_of(1), kT0 + 6 * kSec, false, out);
  ASSERT_EQ(n, 1U);
  free_all(std::span(out).first(n));
  EXPECT_NE(cache.lookup(host(1), kT0 + 11 * kSec - 1), nullptr);

  // expire() reclaims it once the lifetime is over, not before.
  EXPECT_EQ(cache.expire(kT0 + 11 * kSec - 1, {}), 0U);
  EXPECT_EQ(cache.size(), 1U);
  EXPECT_EQ(cache.expire(kT0 + 11 * kSec, {}), 0U);
  EXPECT_EQ(cache.size(), 0U);
  EXPECT_EQ(cache.counters().expirations, 1U);
}

TEST_F(ArpCache, PacketBeyondPerNeighbourBoundIsDroppedAndFreed) {
  arp_cache_config cfg;
  cfg.queue_per_neighbour = 4;
  arp_cache cache(cfg);
  for (std::uint8_t t = 1; t <= 4; ++t) {
    EXPECT_NE(cache.resolve(host(1), tagged(t), kT0).status, resolve_status::dropped);
  }
  rte_mbuf* extra = tagged(5);
  const unsigned before = test::available_mbufs();
  const resolve_result r = cache.resolve(host(1), extra, kT0 + kMs);
  EXPECT_EQ(r.status, resolve_status::dropped);
  EXPECT_FALSE(r.send_request());
  EXPECT_EQ(test::available_mbufs(), before + 1) << "the dropped mbuf goes back to its pool";
  EXPECT_EQ(cache.counters().queue_drops, 1U);
  EXPECT_EQ(cache.queued_packets(), 4U);

  std::array<rte_mbuf*, 8> out{};
  const std::size_t n = cache.update(host(1), mac_of(1), kT0 + 2 * kMs, true, out);
  ASSERT_EQ(n, 4U);
  EXPECT_EQ(tag_of(out[3]), 4);
  free_all(std::span(out).first(n));
}

// Found by the benchmark: kbt-load's 100 connections' SYNs to one
// neighbour, with room for 8, lost 92 to a 1 s SYN retransmission.
TEST_F(ArpCache, DefaultQueueHoldsTheSynsOfAHundredConnections) {
  arp_cache cache;
  for (int t = 0; t < 100; ++t) {
    EXPECT_NE(cache.resolve(host(1), tagged(static_cast<std::uint8_t>(t)), kT0).status,
              resolve_status::dropped);
  }
  EXPECT_EQ(cache.counters().queue_drops, 0U);
  std::array<rte_mbuf*, arp_cache_config::kMaxQueuePerNeighbour> out{};
  const std::size_t n = cache.update(host(1), mac_of(1), kT0 + kMs, true, out);
  ASSERT_EQ(n, 100U);
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(tag_of(out[i]), i);
  free_all(std::span(out).first(n));
}

TEST_F(ArpCache, QueueBoundAboveTheMaximumIsRefused) {
  arp_cache_config cfg;
  cfg.queue_per_neighbour = arp_cache_config::kMaxQueuePerNeighbour + 1;
  EXPECT_THROW(arp_cache{cfg}, std::invalid_argument);
}

TEST_F(ArpCache, GlobalQueueBoundDropsButStillAsksForRequest) {
  arp_cache_config cfg;
  cfg.queue_total = 3;
  arp_cache cache(cfg);
  cache.resolve(host(1), tagged(1), kT0);
  cache.resolve(host(1), tagged(2), kT0);
  cache.resolve(host(2), tagged(3), kT0);
  EXPECT_EQ(cache.queued_packets(), 3U);

  // No room left anywhere: the packet goes, but the new neighbour still
  // needs its request so that later packets find it resolved.
  const resolve_result r = cache.resolve(host(3), tagged(4), kT0);
  EXPECT_EQ(r.status, resolve_status::dropped_send_request);
  EXPECT_TRUE(r.send_request());
  EXPECT_EQ(cache.size(), 3U);
  EXPECT_EQ(cache.counters().queue_drops, 1U);
  EXPECT_EQ(cache.counters().requests_needed, 3U);
  EXPECT_EQ(cache.resolve(host(3), tagged(5), kT0).status, resolve_status::dropped);
  EXPECT_EQ(cache.counters().queue_drops, 2U);

  // Room comes back when a neighbour resolves.
  std::array<rte_mbuf*, 8> out{};
  const std::size_t n = cache.update(host(1), mac_of(1), kT0, true, out);
  ASSERT_EQ(n, 2U);
  free_all(std::span(out).first(n));
  EXPECT_EQ(cache.resolve(host(3), tagged(6), kT0).status, resolve_status::queued);
}

TEST_F(ArpCache, ExpireAsksForRetryEachSecondThenGivesUp) {
  arp_cache cache;  // defaults: 3 requests, 1 s apart
  cache.resolve(host(1), tagged(1), kT0);  // request 1
  cache.resolve(host(1), tagged(2), kT0);
  std::array<ipv4_addr, 4> retry{};

  EXPECT_EQ(cache.expire(kT0 + kSec - 1, retry), 0U);
  ASSERT_EQ(cache.expire(kT0 + kSec, retry), 1U);  // request 2
  EXPECT_EQ(retry[0], host(1));
  EXPECT_EQ(cache.expire(kT0 + kSec + 500 * kMs, retry), 0U) << "at most one request per second";
  ASSERT_EQ(cache.expire(kT0 + 2 * kSec, retry), 1U);  // request 3
  EXPECT_EQ(cache.expire(kT0 + 3 * kSec - 1, retry), 0U);
  EXPECT_EQ(cache.size(), 1U);
  EXPECT_EQ(cache.counters().requests_needed, 3U);

  const unsigned before = test::available_mbufs();
  EXPECT_EQ(cache.expire(kT0 + 3 * kSec, retry), 0U) << "no fourth request";
  EXPECT_EQ(cache.size(), 0U);
  EXPECT_EQ(cache.queued_packets(), 0U);
  EXPECT_EQ(test::available_mbufs(), before + 2);
  EXPECT_EQ(cache.counters().resolution_failures, 1U);
  EXPECT_EQ(cache.counters().queue_drops, 2U);
  EXPECT_EQ(cache.counters().requests_needed, 3U);
}

TEST_F(ArpCache, ResolveAsksForRetryOnceIntervalHasPassed) {
  arp_cache_config cfg;
  cfg.max_requests = 2;
  arp_cache cache(cfg);
  std::array<ipv4_addr, 4> retry{};
  EXPECT_EQ(cache.resolve(host(1), tagged(1), kT0).status, resolve_status::queued_send_request);
  EXPECT_EQ(cache.resolve(host(1), tagged(2), kT0 + kSec - 1).status, resolve_status::queued);
  EXPECT_EQ(cache.resolve(host(1), tagged(3), kT0 + kSec).status,
            resolve_status::queued_send_request);
  EXPECT_EQ(cache.expire(kT0 + kSec + 500 * kMs, retry), 0U) << "the retry already went out";
  EXPECT_EQ(cache.counters().requests_needed, 2U);

  // Both requests unanswered: the old packets are given up and this one
  // starts over, still at one request per second.
  EXPECT_EQ(cache.resolve(host(1), tagged(4), kT0 + 2 * kSec).status,
            resolve_status::queued_send_request);
  EXPECT_EQ(cache.counters().resolution_failures, 1U);
  EXPECT_EQ(cache.counters().queue_drops, 3U);
  EXPECT_EQ(cache.queued_packets(), 1U);
  EXPECT_EQ(cache.counters().requests_needed, 3U);
}

TEST_F(ArpCache, RetriesThatDoNotFitStayDue) {
  arp_cache cache;
  for (std::uint8_t h = 1; h <= 3; ++h) cache.resolve(host(h), tagged(h), kT0);
  std::array<ipv4_addr, 1> retry{};
  std::vector<ipv4_addr> asked;
  for (int round = 0; round < 3; ++round) {
    ASSERT_EQ(cache.expire(kT0 + kSec, retry), 1U);
    asked.push_back(retry[0]);
  }
  EXPECT_EQ(cache.expire(kT0 + kSec, retry), 0U);
  EXPECT_EQ(asked, (std::vector<ipv4_addr>{host(1), host(2), host(3)}));
  EXPECT_EQ(cache.counters().requests_needed, 6U);
}

TEST_F(ArpCache, UpdateWithoutCreateDoesNotCreate) {
  arp_cache cache;
  std::array<rte_mbuf*, 8> out{};
  EXPECT_EQ(cache.update(host(1), mac_of(1), kT0, false, out), 0U);
  EXPECT_EQ(cache.size(), 0U);
  EXPECT_EQ(cache.lookup(host(1), kT0), nullptr);

  // ...but it does refresh an entry that exists (RFC 826 merge), MAC included.
  cache.update(host(1), mac_of(1), kT0, true, out);
  cache.update(host(1), mac_of(7), kT0 + 30 * kSec, false, out);
  const mac_addr* m = cache.lookup(host(1), kT0 + 80 * kSec);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(*m, mac_of(7));

  // An expired entry counts as absent.
  EXPECT_EQ(cache.update(host(1), mac_of(8), kT0 + 200 * kSec, false, out), 0U);
  EXPECT_EQ(cache.lookup(host(1), kT0 + 200 * kSec), nullptr);
}

TEST_F(ArpCache, UpdateIgnoresMulticastAndZeroMac) {
  arp_cache cache;
  cache.resolve(host(1), tagged(1), kT0);
  std::array<rte_mbuf*, 8> out{};
  EXPECT_EQ(cache.update(host(1), mac_addr::broadcast(), kT0, true, out), 0U);
  EXPECT_EQ(cache.update(host(1), mac_addr{}, kT0, true, out), 0U);
  EXPECT_EQ(cache.update(host(2), mac_addr{{0x01, 0x00, 0x5e, 0, 0, 1}}, kT0, true, out), 0U);
  EXPECT_EQ(cache.lookup(host(1), kT0), nullptr);
  EXPECT_EQ(cache.size(), 1U);
  EXPECT_EQ(cache.queued_packets(), 1U);
}

TEST_F(ArpCache, EvictsLeastRecentlyConfirmedWhenFull) {
  arp_cache_config cfg;
  cfg.capacity = 4;
  arp_cache cache(cfg);
  std::array<rte_mbuf*, 8> out{};
  for (std::uint8_t h = 1; h <= 4; ++h) cache.update(host(h), mac_of(h), kT0 + h * kMs, true, out);
  // Re-confirming .1 makes .2 the least recently confirmed.
  cache.update(host(1), mac_of(1), kT0 + 10 * kMs, false, out);

  cache.update(host(5), mac_of(5), kT0 + 11 * kMs, true, out);
  EXPECT_EQ(cache.size(), 4U);
  EXPECT_EQ(cache.counters().evictions, 1U);
  EXPECT_EQ(cache.lookup(host(2), kT0 + 12 * kMs), nullptr);
  for (std::uint8_t h : {1, 3, 4, 5}) {
    EXPECT_NE(cache.lookup(host(h), kT0 + 12 * kMs), nullptr) << int{h};
  }
}

TEST_F(ArpCache, EvictionSparesNeighboursWithQueuedPackets) {
  arp_cache_config cfg;
  cfg.capacity = 2;
  arp_cache cache(cfg);
  std::array<rte_mbuf*, 8> out{};
  cache.resolve(host(1), tagged(1), kT0);  // oldest, holds a packet
  cache.update(host(2), mac_of(2), kT0 + kMs, true, out);
  // Full: the reachable .2 goes although the pending .1 is older.
  cache.update(host(3), mac_of(3), kT0 + 2 * kMs, true, out);
  EXPECT_EQ(cache.counters().evictions, 1U);
  EXPECT_EQ(cache.lookup(host(2), kT0 + 3 * kMs), nullptr);
  EXPECT_EQ(cache.queued_packets(), 1U);

  cache.resolve(host(4), tagged(4), kT0 + 4 * kMs);  // evicts the reachable .3
  EXPECT_EQ(cache.counters().evictions, 2U);
  // With only packet-holding entries left, an unsolicited entry is not created.
  EXPECT_EQ(cache.update(host(5), mac_of(5), kT0 + 5 * kMs, true, out), 0U);
  EXPECT_EQ(cache.size(), 2U);
  EXPECT_EQ(cache.lookup(host(5), kT0 + 5 * kMs), nullptr);
  EXPECT_EQ(cache.queued_packets(), 2U);

  // A packet that must go somewhere takes the oldest pending neighbour's place.
  const unsigned before = test::available_mbufs();
  EXPECT_EQ(cache.resolve(host(6), tagged(6), kT0 + 6 * kMs).status,
            resolve_status::queued_send_request);
  EXPECT_EQ(test::available_mbufs(), before);  // tag 6 allocated and queued, tag 1 freed
  EXPECT_EQ(cache.counters().evictions, 3U);
  EXPECT_EQ(cache.counters().queue_drops, 1U);
  const std::size_t n = cache.update(host(4), mac_of(4), kT0 + 7 * kMs, false, out);
  ASSERT_EQ(n, 1U);
  EXPECT_EQ(tag_of(out[0]), 4);
  free_all(std::span(out).first(n));
}

TEST_F(ArpCache, CollidingAddressesEvictWithinProbeWindow) {
  arp_cache_config cfg;
  cfg.capacity = 64;
  cfg.hash_seed = 1;  // slot = top bits of the address: a whole /24 shares one home slot
  cfg.reachable_time_ns = 10 * kSec;
  arp_cache cache(cfg);
  std::array<rte_mbuf*, 8> out{};
  for (std::uint8_t h = 1; h <= 16; ++h) cache.update(host(h), mac_of(h), kT0 + h * kMs, true, out);
  EXPECT_EQ(cache.size(), 16U);
  EXPECT_EQ(cache.counters().evictions, 0U);

  // The probe window (16 slots) is full although the table is not.
  cache.update(host(17), mac_of(17), kT0 + 17 * kMs, true, out);
  EXPECT_EQ(cache.size(), 16U);
  EXPECT_EQ(cache.counters().evictions, 1U);
  EXPECT_EQ(cache.lookup(host(1), kT0 + 20 * kMs), nullptr);
  for (std::uint8_t h = 2; h <= 17; ++h) {
    EXPECT_NE(cache.lookup(host(h), kT0 + 20 * kMs), nullptr) << int{h};
  }

  // Erasing from the front of the run shifts the rest back: still all found.
  for (std::uint8_t h = 2; h <= 17; h = static_cast<std::uint8_t>(h + 2)) {
    cache.update(host(h), mac_of(h), kT0 + 5 * kSec, false, out);  // keep the even ones
  }
  cache.expire(kT0 + 10 * kSec + 17 * kMs, {});
  EXPECT_EQ(cache.size(), 8U);
  for (std::uint8_t h = 2; h <= 17; ++h) {
    EXPECT_EQ(cache.lookup(host(h), kT0 + 11 * kSec) != nullptr, h % 2 == 0) << int{h};
  }
}

TEST_F(ArpCache, ProbeWindowEvictionSparesQueuedPackets) {
  arp_cache_config cfg;
  cfg.capacity = 64;
  cfg.hash_seed = 1;  // one home slot for the whole /24
  arp_cache cache(cfg);
  std::array<rte_mbuf*, 8> out{};
  cache.resolve(host(1), tagged(1), kT0);  // oldest in the window, holds a packet
  for (std::uint8_t h = 2; h <= 16; ++h) cache.update(host(h), mac_of(h), kT0 + h * kMs, true, out);
  cache.update(host(17), mac_of(17), kT0 + 17 * kMs, true, out);
  EXPECT_EQ(cache.counters().evictions, 1U);
  EXPECT_EQ(cache.lookup(host(2), kT0 + 18 * kMs), nullptr) << "oldest without packets goes";
  EXPECT_NE(cache.lookup(host(17), kT0 + 18 * kMs), nullptr);
  EXPECT_EQ(cache.queued_packets(), 1U);
  const std::size_t n = cache.update(host(1), mac_of(1), kT0 + 19 * kMs, false, out);
  ASSERT_EQ(n, 1U) << "the pending neighbour kept its packet";
  free_all(std::span(out).first(n));
}

TEST_F(ArpCache, ProbeWindowFullOfPendingNeighbours) {
  arp_cache_config cfg;
  cfg.capacity = 64;
  cfg.hash_seed = 1;
  arp_cache cache(cfg);
  std::array<rte_mbuf*, 8> out{};
  for (std::uint8_t h = 1; h <= 16; ++h) cache.resolve(host(h), tagged(h), kT0 + h * kMs);
  // Not for an unsolicited entry...
  EXPECT_EQ(cache.update(host(17), mac_of(17), kT0 + 17 * kMs, true, out), 0U);
  EXPECT_EQ(cache.size(), 16U);
  EXPECT_EQ(cache.counters().evictions, 0U);
  // ...but a packet that must go somewhere replaces the oldest pending one.
  EXPECT_EQ(cache.resolve(host(17), tagged(17), kT0 + 18 * kMs).status,
            resolve_status::queued_send_request);
  EXPECT_EQ(cache.counters().evictions, 1U);
  EXPECT_EQ(cache.counters().queue_drops, 1U);
  EXPECT_EQ(cache.update(host(1), mac_of(1), kT0 + 19 * kMs, false, out), 0U);
  const std::size_t n = cache.update(host(2), mac_of(2), kT0 + 19 * kMs, false, out);
  ASSERT_EQ(n, 1U);
  EXPECT_EQ(tag_of(out[0]), 2);
  free_all(std::span(out).first(n));
}

// Random churn over a small, collision-heavy table: an entry just confirmed
// is always found, and the table never holds an address twice or loses one.
TEST_F(ArpCache, RandomChurnKeepsTableConsistent) {
  for (std::uint32_t seed : {1U, 0x9e3779b1U}) {
    arp_cache_config cfg;
    cfg.capacity = 32;
    cfg.hash_seed = seed;
    cfg.reachable_time_ns = 50 * kMs;
    arp_cache cache(cfg);
    std::mt19937 rng(seed);
    std::array<rte_mbuf*, 8> out{};
    std::uint64_t now = kT0;
    for (int i = 0; i < 20000; ++i) {
      now += kMs;
      const ipv4_addr ip = ipv4_addr::from_octets(198, 18, static_cast<std::uint8_t>(rng() % 2),
                                                  static_cast<std::uint8_t>(rng() % 48));
      switch (rng() % 4) {
        case 0:
          cache.expire(now, {});
          break;
        case 1: {
          rte_mbuf* pkt = tagged(0);
          if (cache.resolve(ip, pkt, now).ready()) rte_pktmbuf_free(pkt);
          break;
        }
        default: {
          const std::size_t size_before = cache.size();
          const std::size_t queued_before = cache.queued_packets();
          const std::uint64_t evictions_before = cache.counters().evictions;
          const std::size_t n = cache.update(ip, mac_of(1), now, true, out);
          free_all(std::span(out).first(n));
          if (cache.lookup(ip, now) == nullptr) {
            // Only a refused creation (every candidate victim holds packets)
            // may leave the address unresolved, and then nothing changed.
            ASSERT_EQ(n, 0U) << i;
            ASSERT_EQ(cache.size(), size_before) << i;
            ASSERT_EQ(cache.queued_packets(), queued_before) << i;
            ASSERT_EQ(cache.counters().evictions, evictions_before) << i;
          }
          break;
        }
      }
      ASSERT_LE(cache.size(), cfg.capacity);
    }
    // Count distinct addresses the table answers for: must equal size().
    cache.expire(now, {});
    std::size_t live = 0;
    for (std::uint32_t b = 0; b < 2; ++b) {
      for (std::uint32_t last = 0; last < 48; ++last) {
        const ipv4_addr ip = ipv4_addr::from_octets(198, 18, static_cast<std::uint8_t>(b),
                                                    static_cast<std::uint8_t>(last));
        const std::size_t n = cache.update(ip, mac_of(2), now, false, out);  // confirm if present
        free_all(std::span(out).first(n));
        if (cache.lookup(ip, now) != nullptr) ++live;
      }
    }
    EXPECT_EQ(live, cache.size()) << "seed " << seed;
  }
}

TEST_F(ArpCache, DestructorFreesQueuedPackets) {
  const unsigned before = test::available_mbufs();
  {
    arp_cache cache;
    for (std::uint8_t h = 1; h <= 3; ++h) {
      for (std::uint8_t t = 0; t < 5; ++t) cache.resolve(host(h), tagged(t), kT0);
    }
    EXPECT_EQ(cache.queued_packets(), 15U);
    EXPECT_EQ(test::available_mbufs(), before - 15);
  }
  EXPECT_EQ(test::available_mbufs(), before);
}

TEST_F(ArpCache, RejectsUnusableConfig) {
  arp_cache_config cfg;
  cfg.capacity = 0;
  EXPECT_THROW(arp_cache{cfg}, std::invalid_argument);
  cfg = {};
  cfg.max_requests = 0;
  EXPECT_THROW(arp_cache{cfg}, std::invalid_argument);
  cfg = {};
  cfg.retry_interval_ns = 0;
  EXPECT_THROW(arp_cache{cfg}, std::invalid_argument);
}

}  // namespace
}  // namespace kbt::ip
