#include "tcp/connection_table.hh"

#include <rte_errno.h>
#include <rte_jhash.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "base/startup_error.hh"

namespace kbt::tcp {
namespace {

std::uint32_t tuple_hash(const void* key, std::uint32_t, std::uint32_t seed) {
  // Copied out as words rather than read through a cast pointer: the key's
  // ports are uint16_t, and aliasing them as uint32_t is undefined.
  std::uint32_t w[3];
  std::memcpy(w, key, sizeof w);
  return rte_jhash_3words(w[0], w[1], w[2], seed);
}

}  // namespace

connection_table::connection_table(const std::string& name, std::uint32_t max_conns,
                                   const tcp_config& t) {
  rte_hash_parameters p{};
  p.name = name.c_str();
  // rte_hash needs at least 8 entries; a little slack keeps cuckoo inserts cheap.
  p.entries = std::max<std::uint32_t>(8, max_conns + max_conns / 8);
  p.key_len = sizeof(four_tuple);
  p.hash_func = tuple_hash;
  p.socket_id = SOCKET_ID_ANY;
  // The telemetry thread reads the table while the owning core writes it.
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
  _table = rte_hash_create(&p);
  if (_table == nullptr) {
    throw base::startup_error("connection table for " + std::to_string(max_conns) +
                              " connections: " + rte_strerror(rte_errno));
  }
  _pool.reserve(max_conns);
  _free.reserve(max_conns);
  for (std::uint32_t i = 0; i < max_conns; ++i) {
    _pool.push_back(std::make_unique<tcb>(t.snd_buffer, t.snd_mbufs, t.rcv_buffer,
                                          std::min(t.ooo_segments, t.rcv_mbufs)));
    _pool.back()->index = i;
  }
  for (std::uint32_t i = max_conns; i > 0; --i) _free.push_back(_pool[i - 1].get());
}

connection_table::~connection_table() { rte_hash_free(_table); }

std::uint64_t connection_table::find_bulk(std::span<const void*> keys,
                                          void** found) const noexcept {
  std::uint64_t hits = 0;
  if (!keys.empty()) {
    rte_hash_lookup_bulk_data(_table, keys.data(), static_cast<std::uint32_t>(keys.size()), &hits,
                              found);
  }
  return hits;
}

tcb* connection_table::take(const four_tuple& t) noexcept {
  if (_free.empty()) return nullptr;
  tcb* c = _free.back();
  if (rte_hash_add_key_data(_table, &t, c) < 0) return nullptr;
  _free.pop_back();
  ++_version;
  ++c->generation;
  c->holds_table_entry = true;
  c->tuple = t;
  return c;
}

void connection_table::remove(tcb& c) noexcept {
  // Once off the table, the tuple may already belong to a new connection
  // (RFC 6191 reuse from TIME_WAIT): deleting by tuple again would take that
  // one's entry (found by fuzz_tcp_listen_cookies_never).
  if (!c.holds_table_entry) return;
  c.holds_table_entry = false;
  const std::int32_t pos = rte_hash_del_key(_table, &c.tuple);
  if (pos < 0) return;
  // With RW_CONCURRENCY_LF, rte_hash keeps a deleted key's slot until it is
  // freed explicitly, for readers that may still look at it. The only
  // reader of this table is the owning core (telemetry reads counters, not
  // the table), so the slot is free at once; a reader on another thread
  // would need rte_hash_rcu_qsbr_add here instead.
  rte_hash_free_key_with_position(_table, pos);
  ++_version;
}

void connection_table::give_back(tcb& c) noexcept { _free.push_back(&c); }

}  // namespace kbt::tcp
