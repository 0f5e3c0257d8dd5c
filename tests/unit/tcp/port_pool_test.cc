// RSS-aware source ports: every port handed out brings the reply back to the
// taking core (checked by hashing the full tuple, not through the pool's
// classes), cores never share a port for one destination, and freed ports
// queue up behind the others.
#include "tcp/port_pool.hh"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

namespace kbt::tcp {
namespace {

using base::rss_table;
using wire::ipv4_addr;

struct destination {
  ipv4_addr local;
  ipv4_addr remote;
  std::uint16_t remote_port;
};

std::vector<destination> random_destinations(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<destination> out(n);
  for (auto& d : out) {
    d = {ipv4_addr{static_cast<std::uint32_t>(rng())}, ipv4_addr{static_cast<std::uint32_t>(rng())},
         static_cast<std::uint16_t>(rng())};
  }
  return out;
}

// The core the reply to local:port -> d lands on, from the full tuple.
std::uint16_t reply_core(const rss_table& rss, const destination& d, std::uint16_t port) {
  return rss.queue_of_hash(rss.hash(d.remote, d.local, d.remote_port, port));
}

// Brute force over the range: the ports whose replies from d land on `core`.
std::size_t suitable_ports(const rss_table& rss, const destination& d, std::uint16_t core,
                           std::uint16_t first = port_pool::kFirst,
                           std::uint16_t last = port_pool::kLast) {
  std::size_t n = 0;
  for (std::uint32_t p = first; p <= last; ++p) {
    if (reply_core(rss, d, static_cast<std::uint16_t>(p)) == core) ++n;
  }
  return n;
}

// A port's class as the pool defines it, recomputed from the hash.
std::uint32_t port_class(const rss_table& rss, std::uint16_t port) {
  return rss.hash({}, {}, 0, port) & rss.reta_mask();
}

std::vector<std::uint16_t> take_all(port_pool& pool, const destination& d) {
  std::vector<std::uint16_t> out;
  while (auto p = pool.take(d.local, d.remote, d.remote_port)) out.push_back(*p);
  return out;
}

TEST(PortPool, EveryPortBringsTheReplyToItsCore) {
  for (std::uint16_t queues : {2, 4}) {
    const rss_table rss(queues);
    for (std::uint16_t core = 0; core < queues; ++core) {
      port_pool pool(rss, core);
      std::set<std::uint16_t> seen;
      for (const auto& d : random_destinations(8, 100U + core)) {
        for (int i = 0; i < 300; ++i) {
          const auto p = pool.take(d.local, d.remote, d.remote_port);
          ASSERT_TRUE(p.has_value());
          ASSERT_GE(*p, port_pool::kFirst);
          ASSERT_LE(*p, port_pool::kLast);
          ASSERT_EQ(reply_core(rss, d, *p), core) << "port " << *p << ", " << queues << " queues";
          ASSERT_TRUE(seen.insert(*p).second) << "port " << *p << " handed out twice";
          ASSERT_TRUE(pool.is_taken(*p));
        }
      }
      EXPECT_EQ(pool.available(), std::size_t{port_pool::kLast} - port_pool::kFirst + 1 - seen.size());
    }
  }
}

TEST(PortPool, CoresNeverShareAPortForOneDestination) {
  for (std::uint16_t queues : {2, 4}) {
    const rss_table rss(queues);
    for (const auto& d : random_destinations(4, 7)) {
      std::set<std::uint16_t> all;
      std::size_t total = 0;
      for (std::uint16_t core = 0; core < queues; ++core) {
        port_pool pool(rss, core);
        const auto ports = take_all(pool, d);
        total += ports.size();
        all.insert(ports.begin(), ports.end());
      }
      EXPECT_EQ(all.size(), total) << "a port was taken by two cores";
      // Every port suits exactly one core, so together they use the whole range.
      EXPECT_EQ(total, std::size_t{port_pool::kLast} - port_pool::kFirst + 1);
    }
  }
}

TEST(PortPool, TakesExactlyTheSuitablePortsThenNone) {
  for (std::uint16_t queues : {2, 4}) {
    const rss_table rss(queues);
    const auto d = random_destinations(1, queues)[0];
    for (std::uint16_t core = 0; core < queues; ++core) {
      port_pool pool(rss, core);
      const std::size_t expected = suitable_ports(rss, d, core);
      EXPECT_EQ(take_all(pool, d).size(), expected);
      EXPECT_FALSE(pool.take(d.local, d.remote, d.remote_port).has_value());
      EXPECT_EQ(pool.available(),
                std::size_t{port_pool::kLast} - port_pool::kFirst + 1 - expected);
    }
  }
}

TEST(PortPool, GivenBackPortsReturnInFifoOrderWithinTheirClass) {
  const rss_table rss(2);
  const auto d = random_destinations(1, 3)[0];
  port_pool pool(rss, 0);
  const auto taken = take_all(pool, d);
  // Three taken ports of one class.
  std::vector<std::uint16_t> same;
  for (std::uint16_t p : taken) {
    if (port_class(rss, p) == port_class(rss, taken.front())) same.push_back(p);
    if (same.size() == 3) break;
  }
  ASSERT_EQ(same.size(), 3U);
  pool.give_back(same[2]);
  pool.give_back(same[0]);
  pool.give_back(same[1]);
  EXPECT_EQ(pool.take(d.local, d.remote, d.remote_port), same[2]);
  EXPECT_EQ(pool.take(d.local, d.remote, d.remote_port), same[0]);
  EXPECT_EQ(pool.take(d.local, d.remote, d.remote_port), same[1]);
  EXPECT_FALSE(pool.take(d.local, d.remote, d.remote_port).has_value());
  EXPECT_EQ(pool.ignored_give_backs(), 0U);
}

TEST(PortPool, ReleasedPortIsTheLastOfItsClassToBeReused) {
  const rss_table rss(2);
  const auto d = random_destinations(1, 5)[0];
  port_pool pool(rss, 1);
  const auto first = pool.take(d.local, d.remote, d.remote_port);
  ASSERT_TRUE(first.has_value());
  pool.give_back(*first);
  EXPECT_FALSE(pool.is_taken(*first));
  const auto rest = take_all(pool, d);
  std::uint16_t last_of_class = 0;
  for (std::uint16_t p : rest) {
    if (port_class(rss, p) == port_class(rss, *first)) last_of_class = p;
  }
  EXPECT_EQ(last_of_class, *first);
}

TEST(PortPool, IgnoresAndCountsBadGiveBacks) {
  const rss_table rss(2);
  const auto d = random_destinations(1, 9)[0];
  port_pool pool(rss, 0, 40000, 40999);
  const auto p = pool.take(d.local, d.remote, d.remote_port);
  ASSERT_TRUE(p.has_value());
  const std::size_t free_after_take = pool.available();
  pool.give_back(*p);
  pool.give_back(*p);  // twice
  pool.give_back(39999);  // below the range
  pool.give_back(41000);  // above it
  EXPECT_EQ(pool.ignored_give_backs(), 3U);
  EXPECT_EQ(pool.available(), free_after_take + 1);
  EXPECT_FALSE(pool.is_taken(*p));
  EXPECT_FALSE(pool.is_taken(39999));
  // The port is in its class once, not twice.
  std::size_t count = 0;
  for (std::uint16_t q : take_all(pool, d)) count += q == *p ? 1U : 0U;
  EXPECT_EQ(count, 1U);
}

TEST(PortPool, UnevenRetaStillSteers) {
  // A NIC table that is not i % n: nearly everything to queue 0.
  std::vector<std::uint16_t> reta(128, 0);
  reta[5] = 1;
  reta[77] = 1;
  reta[100] = 1;
  const rss_table rss(reta, 2);
  for (const auto& d : random_destinations(4, 13)) {
    for (std::uint16_t core = 0; core < 2; ++core) {
      port_pool pool(rss, core);
      const auto ports = take_all(pool, d);
      EXPECT_EQ(ports.size(), suitable_ports(rss, d, core)) << "core " << core;
      for (std::uint16_t p : ports) ASSERT_EQ(reply_core(rss, d, p), core) << "port " << p;
    }
  }
}

TEST(PortPool, CoreWithoutRetaEntriesGetsNoPort) {
  std::vector<std::uint16_t> reta(64);
  for (std::size_t i = 0; i < reta.size(); ++i) reta[i] = static_cast<std::uint16_t>(i % 2);
  const rss_table rss(reta, 3);  // queue 2 receives nothing
  port_pool pool(rss, 2);
  const auto d = random_destinations(1, 17)[0];
  EXPECT_FALSE(pool.take(d.local, d.remote, d.remote_port).has_value());
  EXPECT_EQ(pool.available(), std::size_t{port_pool::kLast} - port_pool::kFirst + 1);
}

TEST(PortPool, SmallRangeAndSingleQueue) {
  // One queue: every port suits core 0, handed out until the range is spent.
  const rss_table rss(1);
  port_pool pool(rss, 0, 1000, 1009);
  const auto d = random_destinations(1, 19)[0];
  const auto ports = take_all(pool, d);
  EXPECT_EQ(std::set<std::uint16_t>(ports.begin(), ports.end()).size(), 10U);
  EXPECT_EQ(pool.available(), 0U);
  EXPECT_EQ(pool.core(), 0);
}

TEST(PortPool, RejectsBadArguments) {
  const rss_table rss(2);
  EXPECT_THROW(port_pool(rss, 0, 2000, 1999), std::invalid_argument);
  EXPECT_THROW(port_pool(rss, 0, 0, 100), std::invalid_argument);
  EXPECT_THROW(port_pool(rss, 2), std::invalid_argument);
  EXPECT_NO_THROW(port_pool(rss, 1, 65535, 65535));
}

// Several source addresses: each has the whole range to itself.
TEST(PortPool, EverySourceHasTheWholeRange) {
  const rss_table rss(1);
  port_pool pool(rss, 0, 1000, 1009, 3);
  EXPECT_EQ(pool.sources(), 3U);
  EXPECT_EQ(pool.available(), 30U);
  const auto d = random_destinations(1, 23)[0];
  for (std::uint32_t s = 0; s < 3; ++s) {
    std::set<std::uint16_t> ports;
    while (auto p = pool.take(ipv4_addr{d.local.value + s}, d.remote, d.remote_port, s)) {
      ports.insert(*p);
      EXPECT_TRUE(pool.is_taken(*p, s));
    }
    EXPECT_EQ(ports.size(), 10U) << "source " << s;
    EXPECT_EQ(pool.available(s), 0U);
  }
  EXPECT_EQ(pool.available(), 0U);
  // A source past the last one has nothing.
  EXPECT_FALSE(pool.take(d.local, d.remote, d.remote_port, 3).has_value());
  EXPECT_EQ(pool.available(3), 0U);
}

// The reply's core depends on the source address too: each source's ports
// suit the core for its own address.
TEST(PortPool, EachSourceSteersByItsOwnAddress) {
  const rss_table rss(4);
  const auto d = random_destinations(1, 29)[0];
  for (std::uint16_t core = 0; core < 4; ++core) {
    port_pool pool(rss, core, port_pool::kFirst, port_pool::kLast, 3);
    for (std::uint32_t s = 0; s < 3; ++s) {
      const destination from_s{ipv4_addr{d.local.value + 7 * s}, d.remote, d.remote_port};
      std::size_t n = 0;
      while (auto p = pool.take(from_s.local, d.remote, d.remote_port, s)) {
        ASSERT_EQ(reply_core(rss, from_s, *p), core) << "source " << s << " port " << *p;
        ++n;
      }
      EXPECT_EQ(n, suitable_ports(rss, from_s, core)) << "source " << s;
    }
  }
}

TEST(PortPool, APortGoesBackToItsOwnSource) {
  const rss_table rss(1);
  port_pool pool(rss, 0, 1000, 1009, 2);
  const auto d = random_destinations(1, 31)[0];
  const auto p = pool.take(d.local, d.remote, d.remote_port, 1);
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(pool.is_taken(*p, 0));
  EXPECT_TRUE(pool.is_taken(*p, 1));
  pool.give_back(*p, 0);  // not taken there
  pool.give_back(*p, 2);  // no such source
  EXPECT_EQ(pool.ignored_give_backs(), 2U);
  EXPECT_EQ(pool.available(1), 9U);
  pool.give_back(*p, 1);
  EXPECT_EQ(pool.available(1), 10U);
  EXPECT_EQ(pool.ignored_give_backs(), 2U);
}

TEST(PortPool, RejectsNoSource) {
  const rss_table rss(1);
  EXPECT_THROW(port_pool(rss, 0, 1000, 1009, 0), std::invalid_argument);
}

}  // namespace
}  // namespace kbt::tcp
