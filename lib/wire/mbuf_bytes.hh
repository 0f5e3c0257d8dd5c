#pragma once
// Byte views of an mbuf's first segment, the bridge between DPDK's rte_mbuf
// and the span-based wire views.
#include <rte_mbuf.h>

#include <cstddef>
#include <span>

namespace kbt::wire {

inline std::span<std::byte> mbuf_bytes(rte_mbuf* m) noexcept {
  return {rte_pktmbuf_mtod(m, std::byte*), rte_pktmbuf_data_len(m)};
}

inline std::span<const std::byte> mbuf_bytes(const rte_mbuf* m) noexcept {
  return {rte_pktmbuf_mtod(m, const std::byte*), rte_pktmbuf_data_len(m)};
}

}  // namespace kbt::wire
