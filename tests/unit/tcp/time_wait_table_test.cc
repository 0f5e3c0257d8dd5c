// Compact TIME-WAIT records (RFC 9293 §3.10.7.4): an open-addressing index
// with backward-shift deletion and an expiry FIFO, driven by a virtual clock
// (now is just an instant passed in).
#include "tcp/time_wait_table.hh"

#include <gtest/gtest.h>
#include <rte_jhash.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "tcp/config.hh"

namespace kbt::tcp {
namespace {

using wire::ipv4_addr;
using wire::seq32;

constexpr base::nanos kLifetime{60 * kSec};  // Linux's TIME_WAIT
constexpr std::uint32_t kSeed = 0x6191'1337U;

// The instant `ns` after the loop clock's start.
constexpr base::instant at(std::uint64_t ns) { return base::instant_from_ns(ns); }

// We are 198.18.0.1:80; the k-th peer varies its address and port.
four_tuple tuple_n(std::uint32_t k) {
  return four_tuple{.local_ip = ipv4_addr::from_octets(198, 18, 0, 1),
                    .remote_ip = ipv4_addr{0x0a000000U + (k >> 14)},
                    .local_port = 80,
                    .remote_port = static_cast<std::uint16_t>(1024 + (k & 0x3fffU))};
}

time_wait_record record_n(std::uint32_t k) {
  time_wait_record r;
  r.tuple = tuple_n(k);
  r.snd_nxt = seq32{1000 + k};
  r.rcv_nxt = seq32{2000 + k};
  r.ts_recent = 3000 + k;
  r.ts_offset = 4000 + k;
  r.window = static_cast<std::uint16_t>(k);
  r.last_invalid_ack_ms = 5000 + k;
  r.ts_ok = true;
  r.port_from_pool = (k & 1) != 0;
  return r;
}

TEST(TimeWaitRecord, FitsInACacheLine) {
  static_assert(sizeof(time_wait_record) <= 64);
  EXPECT_LE(sizeof(time_wait_record), 64U);
  std::printf("sizeof(time_wait_record) = %zu\n", sizeof(time_wait_record));
}

TEST(TimeWaitTable, RejectsCapacityOutOfRange) {
  EXPECT_THROW(time_wait_table(0, kLifetime, kSeed), std::invalid_argument);
  EXPECT_THROW(time_wait_table(time_wait_table::kMaxCapacity + 1, kLifetime, kSeed),
               std::invalid_argument);
  const time_wait_table one(1, kLifetime, kSeed);
  EXPECT_EQ(one.capacity(), 1U);
  EXPECT_EQ(one.lifetime(), kLifetime);
  // A random seed (no seed given) works the same.
  time_wait_table unseeded(8, kLifetime);
  ASSERT_NE(unseeded.insert(record_n(1), at(0)), nullptr);
  EXPECT_NE(unseeded.find(tuple_n(1)), nullptr);
}

TEST(TimeWaitTable, MemoryIsRecordsPlusIndex) {
  // 2048 slots: the power of two >= 2 * 1000. Small arrays are rounded to
  // cache lines (both already are here).
  const time_wait_table t(1000, kLifetime, kSeed);
  EXPECT_EQ(t.memory_bytes(), 1000 * sizeof(time_wait_record) + 2048 * sizeof(std::uint32_t));
  const time_wait_table t2(1024, kLifetime, kSeed);
  EXPECT_EQ(t2.memory_bytes(), 1024 * sizeof(time_wait_record) + 2048 * sizeof(std::uint32_t));
  // Arrays of 2 MiB and more are rounded to 2 MiB (huge pages): 100000
  // records take 5.6 MB -> 6 MiB, 262144 slots exactly 1 MiB.
  const time_wait_table t3(100'000, kLifetime, kSeed);
  EXPECT_EQ(t3.memory_bytes(), (std::size_t{6} << 20) + (std::size_t{1} << 20));
}

TEST(TimeWaitTable, InsertFindErase) {
  time_wait_table t(16, kLifetime, kSeed);
  EXPECT_EQ(t.find(tuple_n(5)), nullptr);
  EXPECT_EQ(t.oldest(), nullptr);

  time_wait_record* r = t.insert(record_n(5), at(123));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(t.size(), 1U);
  EXPECT_EQ(t.find(tuple_n(5)), r);
  EXPECT_EQ(t.oldest(), r);
  EXPECT_EQ(t.find(tuple_n(6)), nullptr);
  // Every field copied; the deadline is insert time + lifetime.
  EXPECT_EQ(r->tuple, tuple_n(5));
  EXPECT_EQ(r->snd_nxt, seq32{1005});
  EXPECT_EQ(r->rcv_nxt, seq32{2005});
  EXPECT_EQ(r->ts_recent, 3005U);
  EXPECT_EQ(r->ts_offset, 4005U);
  EXPECT_EQ(r->window, 5);
  EXPECT_EQ(r->last_invalid_ack_ms, 5005U);
  EXPECT_TRUE(r->ts_ok);
  EXPECT_TRUE(r->port_from_pool);
  EXPECT_EQ(r->deadline, at(123) + kLifetime);

  // The reverse direction of the same connection is another tuple.
  four_tuple rev = tuple_n(5);
  std::swap(rev.local_ip, rev.remote_ip);
  std::swap(rev.local_port, rev.remote_port);
  EXPECT_EQ(t.find(rev), nullptr);

  t.erase(*r);
  EXPECT_EQ(t.size(), 0U);
  EXPECT_EQ(t.find(tuple_n(5)), nullptr);
  EXPECT_EQ(t.oldest(), nullptr);
  EXPECT_TRUE(t.check_invariants());
}

TEST(TimeWaitTable, DuplicateInsertRefused) {
  time_wait_table t(16, kLifetime, kSeed);
  time_wait_record* first = t.insert(record_n(1), at(0));
  ASSERT_NE(first, nullptr);
  time_wait_record dup = record_n(1);
  dup.snd_nxt = seq32{99};
  EXPECT_EQ(t.insert(dup, at(10)), nullptr);
  EXPECT_EQ(t.size(), 1U);
  // The first one is untouched, deadline included.
  EXPECT_EQ(t.find(tuple_n(1)), first);
  EXPECT_EQ(first->snd_nxt, seq32{1001});
  EXPECT_EQ(first->deadline, at(0) + kLifetime);
  EXPECT_TRUE(t.check_invariants());
}

TEST(TimeWaitTable, FullTableRefusesUntilErase) {
  time_wait_table t(4, kLifetime, kSeed);
  for (std::uint32_t k = 0; k < 4; ++k) ASSERT_NE(t.insert(record_n(k), at(k)), nullptr);
  EXPECT_EQ(t.size(), 4U);
  EXPECT_EQ(t.insert(record_n(4), at(5)), nullptr);
  EXPECT_EQ(t.find(tuple_n(4)), nullptr);
  t.erase(*t.find(tuple_n(2)));
  time_wait_record* r = t.insert(record_n(4), at(6));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(t.find(tuple_n(4)), r);
  EXPECT_EQ(t.find(tuple_n(2)), nullptr);
  for (const std::uint32_t k : {0U, 1U, 3U}) EXPECT_NE(t.find(tuple_n(k)), nullptr) << k;
  EXPECT_EQ(t.insert(record_n(5), at(7)), nullptr);
  EXPECT_TRUE(t.check_invariants());
}

TEST(TimeWaitTable, IgnoresTheCallersBookkeepingFields) {
  time_wait_table t(8, kLifetime, kSeed);
  time_wait_record junk = record_n(3);
  junk.hash = 0xdeadbeefU;
  junk.fifo_prev = 5;
  junk.fifo_next = 6;
  junk.deadline = at(1);
  time_wait_record* r = t.insert(junk, at(100));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->deadline, at(100) + kLifetime);
  EXPECT_EQ(t.find(tuple_n(3)), r);
  EXPECT_TRUE(t.check_invariants());
}

TEST(TimeWaitTable, RestartMovesTheDeadline) {
  time_wait_table t(8, kLifetime, kSeed);
  time_wait_record* a = t.insert(record_n(0), at(0));
  ASSERT_NE(t.insert(record_n(1), at(10)), nullptr);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(t.oldest(), a);
  // A retransmitted FIN at 50 ns restarts a's 2MSL (RFC 9293 §3.10.7.4).
  t.restart(*a, at(50));
  EXPECT_EQ(a->deadline, at(50) + kLifetime);
  EXPECT_EQ(t.oldest()->tuple, tuple_n(1));
  EXPECT_TRUE(t.check_invariants());

  std::vector<four_tuple> gone;
  const auto collect = [&gone](const time_wait_record& r) { gone.push_back(r.tuple); };
  // a's first deadline passes: only the other record goes.
  EXPECT_EQ(t.expire(at(10) + kLifetime, 100, collect), 1U);
  ASSERT_EQ(gone.size(), 1U);
  EXPECT_EQ(gone[0], tuple_n(1));
  EXPECT_EQ(t.find(tuple_n(0)), a);
  EXPECT_EQ(t.expire(at(50) + kLifetime - base::nanos{1}, 100, collect), 0U);
  EXPECT_EQ(t.find(tuple_n(0)), a);
  // At the new deadline, a goes.
  EXPECT_EQ(t.expire(at(50) + kLifetime, 100, collect), 1U);
  ASSERT_EQ(gone.size(), 2U);
  EXPECT_EQ(gone[1], tuple_n(0));
  EXPECT_EQ(t.size(), 0U);
  EXPECT_TRUE(t.check_invariants());
}

TEST(TimeWaitTable, RestartOfTheNewestOnlyMovesItsDeadline) {
  time_wait_table t(8, kLifetime, kSeed);
  ASSERT_NE(t.insert(record_n(0), at(0)), nullptr);
  time_wait_record* b = t.insert(record_n(1), at(1));
  t.restart(*b, at(2));
  EXPECT_EQ(b->deadline, at(2) + kLifetime);
  EXPECT_EQ(t.oldest()->tuple, tuple_n(0));
  EXPECT_TRUE(t.check_invariants());
}

TEST(TimeWaitTable, ExpireRespectsMaxAndOrder) {
  time_wait_table t(32, kLifetime, kSeed);
  for (std::uint32_t k = 0; k < 10; ++k) ASSERT_NE(t.insert(record_n(k), at(k)), nullptr);
  std::vector<std::uint32_t> order;
  const auto collect = [&order](const time_wait_record& r) {
    // The record is whole while f runs.
    order.push_back(r.snd_nxt.value - 1000);
  };
  EXPECT_EQ(t.expire(at(100) + kLifetime, 0, collect), 0U);
  EXPECT_EQ(t.expire(at(100) + kLifetime, 3, collect), 3U);
  EXPECT_EQ(order, (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(t.size(), 7U);
  EXPECT_EQ(t.oldest()->tuple, tuple_n(3));
  // Only those due by now: records 3..5 have deadlines kLifetime + 3..5.
  EXPECT_EQ(t.expire(at(5) + kLifetime, 100, collect), 3U);
  EXPECT_EQ(order, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(t.expire(at(100) + kLifetime, 100, collect), 4U);
  EXPECT_EQ(order, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(t.size(), 0U);
  EXPECT_EQ(t.oldest(), nullptr);
  EXPECT_EQ(t.expire(at(0) + kLifetime * 10, 100, collect), 0U);
  EXPECT_TRUE(t.check_invariants());
}

TEST(TimeWaitTable, ErasedRecordsDoNotExpire) {
  time_wait_table t(8, kLifetime, kSeed);
  for (std::uint32_t k = 0; k < 3; ++k) ASSERT_NE(t.insert(record_n(k), at(k)), nullptr);
  t.erase(*t.find(tuple_n(0)));  // the head
  t.erase(*t.find(tuple_n(2)));  // the tail
  std::vector<four_tuple> gone;
  EXPECT_EQ(t.expire(at(0) + kLifetime * 2, 100,
                     [&gone](const time_wait_record& r) { gone.push_back(r.tuple); }),
            1U);
  ASSERT_EQ(gone.size(), 1U);
  EXPECT_EQ(gone[0], tuple_n(1));
  EXPECT_TRUE(t.check_invariants());
}

// The index hash as the header documents it (rte_jhash_3words over the
// tuple's three words, the table's seed), to aim keys at chosen slots.
std::uint32_t home_slot(const four_tuple& t, std::uint32_t seed, std::uint32_t slots) {
  std::uint32_t w[3];
  std::memcpy(w, &t, sizeof w);
  return rte_jhash_3words(w[0], w[1], w[2], seed) & (slots - 1);
}

TEST(TimeWaitTable, CollidingKeysSurviveBackwardShift) {
  // 512 records, 1024 slots. 300 keys whose home is one of the last four
  // slots form one cluster that wraps past slot 0; erasing them in random
  // order exercises every case of the backward shift, cyclic ones included.
  constexpr std::uint32_t kCap = 512;
  constexpr std::uint32_t kSlots = 1024;
  time_wait_table t(kCap, kLifetime, kSeed);
  std::vector<std::uint32_t> keys;
  for (std::uint32_t k = 0; keys.size() < 300; ++k) {
    if (home_slot(tuple_n(k), kSeed, kSlots) >= kSlots - 4) keys.push_back(k);
  }
  // Some keys elsewhere, in and around the cluster's wrapped end.
  for (std::uint32_t k = 1'000'000; keys.size() < 400; ++k) {
    if (home_slot(tuple_n(k), kSeed, kSlots) < 200) keys.push_back(k);
  }
  std::mt19937 rng(6191);
  std::shuffle(keys.begin(), keys.end(), rng);
  for (const std::uint32_t k : keys) ASSERT_NE(t.insert(record_n(k), at(0)), nullptr);
  ASSERT_TRUE(t.check_invariants());

  std::set<std::uint32_t> present(keys.begin(), keys.end());
  std::shuffle(keys.begin(), keys.end(), rng);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    time_wait_record* r = t.find(tuple_n(keys[i]));
    ASSERT_NE(r, nullptr);
    t.erase(*r);
    present.erase(keys[i]);
    ASSERT_EQ(t.find(tuple_n(keys[i])), nullptr);
    // Every other key: still found, at its own record.
    for (const std::uint32_t k : present) {
      const time_wait_record* q = t.find(tuple_n(k));
      ASSERT_NE(q, nullptr) << "key " << k << " lost after erasing " << i + 1;
      ASSERT_EQ(q->snd_nxt, seq32{1000 + k});
    }
    if (i % 16 == 0) {
      ASSERT_TRUE(t.check_invariants()) << "after erasing " << i + 1;
    }
  }
  EXPECT_EQ(t.size(), 0U);
  EXPECT_TRUE(t.check_invariants());
}

// Random inserts, finds, erases, restarts and expiries against a model (the
// set of present keys with their deadlines), fixed seeds, on tables from one
// record (two slots: everything collides) to a thousand.
TEST(TimeWaitTable, MatchesAModelUnderRandomOps) {
  for (const std::uint32_t cap : {1U, 2U, 7U, 64U, 1000U}) {
    SCOPED_TRACE(testing::Message() << "capacity " << cap);
    time_wait_table t(cap, kLifetime, kSeed + cap);
    std::map<std::uint32_t, base::instant> model;  // key -> deadline
    std::mt19937 rng(cap);
    const std::uint32_t universe = 3 * cap + 2;  // absent keys are common too
    base::instant now = at(0);
    const auto pick = [&rng](std::uint32_t n) {  // 0 .. n - 1
      return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng);
    };
    for (int op = 0; op < 5000; ++op) {
      now += base::nanos{
          std::uniform_int_distribution<std::uint64_t>(0, kLifetime.count() / cap / 2)(rng)};
      const std::uint32_t k = pick(universe);
      const auto it = model.find(k);
      switch (pick(5)) {
        case 0:
        case 1: {  // insert
          time_wait_record* r = t.insert(record_n(k), now);
          if (it != model.end() || model.size() == cap) {
            ASSERT_EQ(r, nullptr) << "op " << op;
          } else {
            ASSERT_NE(r, nullptr) << "op " << op;
            model.emplace(k, now + kLifetime);
          }
          break;
        }
        case 2: {  // erase a random present key
          if (model.empty()) break;
          auto victim = model.begin();
          std::advance(victim, pick(static_cast<std::uint32_t>(model.size())));
          time_wait_record* r = t.find(tuple_n(victim->first));
          ASSERT_NE(r, nullptr) << "op " << op;
          t.erase(*r);
          model.erase(victim);
          break;
        }
        case 3: {  // restart
          time_wait_record* r = t.find(tuple_n(k));
          ASSERT_EQ(r != nullptr, it != model.end()) << "op " << op;
          if (r != nullptr) {
            t.restart(*r, now);
            it->second = now + kLifetime;
          }
          break;
        }
        default: {  // expire, bounded
          const std::size_t max = pick(4);
          std::vector<std::uint32_t> gone;
          const std::size_t n = t.expire(now, max, [&gone](const time_wait_record& r) {
            gone.push_back(r.snd_nxt.value - 1000);
          });
          ASSERT_EQ(n, gone.size());
          // The model's due keys, earliest deadline first.
          std::vector<std::pair<base::instant, std::uint32_t>> due;
          for (const auto& [key, deadline] : model) {
            if (deadline <= now) due.emplace_back(deadline, key);
          }
          std::sort(due.begin(), due.end());
          ASSERT_EQ(n, std::min(max, due.size())) << "op " << op;
          for (std::size_t i = 0; i < n; ++i) {
            ASSERT_TRUE(model.contains(gone[i])) << "op " << op;
            // Equal deadlines may go in either order; the deadline may not.
            ASSERT_EQ(model.at(gone[i]), due[i].first) << "op " << op;
          }
          for (const std::uint32_t g : gone) model.erase(g);
          break;
        }
      }
      ASSERT_EQ(t.size(), model.size()) << "op " << op;
      if (op % 50 == 0 || cap <= 64) {
        ASSERT_TRUE(t.check_invariants()) << "op " << op;
        for (std::uint32_t q = 0; q < universe; ++q) {
          const time_wait_record* r = t.find(tuple_n(q));
          const auto m = model.find(q);
          ASSERT_EQ(r != nullptr, m != model.end()) << "op " << op << " key " << q;
          if (r != nullptr) {
            ASSERT_EQ(r->deadline, m->second) << "op " << op;
          }
        }
      }
    }
  }
}

TEST(TimeWaitTable, OneMillionRecordsFitIn128MB) {
  constexpr std::uint32_t kCount = 1'000'000;
  time_wait_table t(kCount, kLifetime, kSeed);
  const base::instant t0 = at(5 * kSec);
  for (std::uint32_t k = 0; k < kCount; ++k) {
    ASSERT_NE(t.insert(record_n(k), t0), nullptr) << "record " << k;
  }
  EXPECT_EQ(t.size(), kCount);
  EXPECT_EQ(t.insert(record_n(kCount), t0), nullptr);  // full

  const std::size_t bytes = t.memory_bytes();
  const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  const double per_record = static_cast<double>(bytes) / kCount;
  std::printf("time_wait_table: %u records, %zu bytes (%.1f MiB, %.1f bytes/record)\n", kCount,
              bytes, mib, per_record);
  RecordProperty("memory_bytes", std::to_string(bytes));
  RecordProperty("bytes_per_record", std::to_string(per_record));
  EXPECT_LT(bytes, std::size_t{128} << 20);

  // A sample of hits (every 97th) and misses.
  for (std::uint32_t k = 0; k < kCount; k += 97) {
    const time_wait_record* r = t.find(tuple_n(k));
    ASSERT_NE(r, nullptr) << k;
    ASSERT_EQ(r->rcv_nxt, seq32{2000 + k});
  }
  for (std::uint32_t k = kCount; k < kCount + 10'000; ++k) ASSERT_EQ(t.find(tuple_n(k)), nullptr);

  // Virtual time: 1 ns before the deadline nothing goes, at it everything,
  // in bounded chunks.
  std::size_t seen = 0;
  const auto count = [&seen](const time_wait_record&) { ++seen; };
  EXPECT_EQ(t.expire(t0 + kLifetime - base::nanos{1}, kCount, count), 0U);
  EXPECT_EQ(t.size(), kCount);
  constexpr std::size_t kChunk = 65'536;
  std::size_t expired = 0;
  for (std::size_t round = 0; round <= kCount / kChunk + 1 && t.size() > 0; ++round) {
    const std::size_t n = t.expire(t0 + kLifetime, kChunk, count);
    EXPECT_LE(n, kChunk);
    expired += n;
  }
  EXPECT_EQ(expired, kCount);
  EXPECT_EQ(seen, kCount);
  EXPECT_EQ(t.size(), 0U);
  EXPECT_EQ(t.oldest(), nullptr);
  EXPECT_EQ(t.find(tuple_n(0)), nullptr);
  EXPECT_EQ(t.find(tuple_n(kCount - 1)), nullptr);
  // Empty again and reusable.
  ASSERT_NE(t.insert(record_n(7), t0 + kLifetime), nullptr);
  EXPECT_TRUE(t.check_invariants());
}

}  // namespace
}  // namespace kbt::tcp
