#pragma once
// One core's connections: the pool of TCBs made at start-up and the table
// (an rte_hash) from 4-tuple to TCB, looked up one by one or in bulk. It
// knows nothing of the protocol: tcp_layer decides when a TCB is taken,
// removed from the table and given back.
#include <rte_hash.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tcp/config.hh"
#include "tcp/tcb.hh"
#include "tcp/tuple.hh"

namespace kbt::tcp {

class connection_table {
 public:
  // Throws base::startup_error when DPDK refuses the table. `name` must be
  // unique in the process (rte_hash names are global).
  connection_table(const std::string& name, std::uint32_t max_conns, const tcp_config& t);
  ~connection_table();
  connection_table(const connection_table&) = delete;
  connection_table& operator=(const connection_table&) = delete;

  tcb* find(const four_tuple& t) const noexcept {
    void* data = nullptr;
    if (rte_hash_lookup_data(_table, &t, &data) < 0) return nullptr;
    return static_cast<tcb*>(data);
  }
  // One rte_hash call for the burst; bit i of the result set when keys[i]
  // has a connection (then found[i] is it).
  std::uint64_t find_bulk(std::span<const void*> keys, void** found) const noexcept;
  // Bumped on every add and remove: an answer of find_bulk is stale once
  // the version moved.
  std::uint64_t version() const noexcept { return _version; }

  // A free TCB, now in the table under `t` (holds_table_entry set), with a
  // new generation; nullptr when none is free or the table refuses.
  tcb* take(const four_tuple& t) noexcept;
  // Off the table, its key slot free again; no-op when it holds no entry.
  void remove(tcb& c) noexcept;
  // Back to the pool, which must be off the table already.
  void give_back(tcb& c) noexcept;

  bool exhausted() const noexcept { return _free.empty(); }
  std::size_t live() const noexcept { return _pool.size() - _free.size(); }
  std::size_t capacity() const noexcept { return _pool.size(); }
  // The TCB in slot `index` (in use or not), or nullptr past the pool.
  tcb* at(std::uint32_t index) const noexcept {
    return index < _pool.size() ? _pool[index].get() : nullptr;
  }
  // The next slot from a cursor that goes round the pool, so that no slot
  // is favoured by whoever scans it for something to evict.
  tcb& next_in_rotation() noexcept {
    tcb& c = *_pool[_cursor];
    _cursor = _cursor + 1 == _pool.size() ? 0 : _cursor + 1;
    return c;
  }

 private:
  rte_hash* _table = nullptr;
  std::uint64_t _version = 0;
  std::vector<std::unique_ptr<tcb>> _pool;
  std::vector<tcb*> _free;
  std::size_t _cursor = 0;
};

}  // namespace kbt::tcp
