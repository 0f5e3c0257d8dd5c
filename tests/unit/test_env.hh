#pragma once
// What unit tests share: one EAL for the whole binary (started in main.cc)
// and one mbuf pool, so every test works on real rte_mbufs, as the stack does.
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

namespace kbt::test {

// The pool every test draws from. Tests that must leave it as they found it
// compare available_mbufs() before and after.
rte_mempool* mbuf_pool() noexcept;
unsigned available_mbufs() noexcept;

// A single-segment mbuf holding exactly `bytes`.
rte_mbuf* make_mbuf(std::span<const std::uint8_t> bytes);
inline rte_mbuf* make_mbuf(std::initializer_list<std::uint8_t> bytes) {
  return make_mbuf(std::span<const std::uint8_t>(bytes.begin(), bytes.size()));
}

// The bytes of a single-segment mbuf, for comparing with expected vectors.
std::vector<std::uint8_t> mbuf_bytes(const rte_mbuf* m);

// Byte views for wire tests.
inline std::span<const std::byte> as_bytes(const std::vector<std::uint8_t>& v) noexcept {
  return std::as_bytes(std::span<const std::uint8_t>(v));
}

}  // namespace kbt::test
