#include "test_env.hh"

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>

namespace kbt::test {
namespace {
rte_mempool* g_pool = nullptr;
}

void set_mbuf_pool(rte_mempool* pool) noexcept { g_pool = pool; }

rte_mempool* mbuf_pool() noexcept { return g_pool; }

unsigned available_mbufs() noexcept { return rte_mempool_avail_count(g_pool); }

rte_mbuf* make_mbuf(std::span<const std::uint8_t> bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  if (m == nullptr) throw std::runtime_error("test mbuf pool exhausted");
  char* dst = rte_pktmbuf_append(m, static_cast<std::uint16_t>(bytes.size()));
  if (dst == nullptr) {
    rte_pktmbuf_free(m);
    throw std::runtime_error("test packet larger than one mbuf");
  }
  if (!bytes.empty()) std::memcpy(dst, bytes.data(), bytes.size());
  return m;
}

std::vector<std::uint8_t> mbuf_bytes(const rte_mbuf* m) {
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  return {p, p + rte_pktmbuf_data_len(m)};
}

}  // namespace kbt::test
