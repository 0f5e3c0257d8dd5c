#include "base/rss_table.hh"

#include <rte_thash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <stdexcept>
#include <string>

namespace kbt::base {
namespace {

// rte_softrss reads key word j+1 for tuple word j: a 3-word tuple needs 4.
constexpr std::size_t kMinKeyBytes = 16;
// The largest power of two a uint16_t RETA size can hold.
constexpr std::size_t kMaxRetaSize = 32768;

void check_key(std::span<const std::uint8_t> key) {
  if (key.size() < kMinKeyBytes || key.size() % 4 != 0) {
    throw std::invalid_argument("rss_table: the key must be a multiple of 4 bytes and at least " +
                                std::to_string(kMinKeyBytes) + " bytes, got " +
                                std::to_string(key.size()));
  }
}

void check_reta_size(std::size_t size) {
  if (size == 0 || size > kMaxRetaSize || !std::has_single_bit(size)) {
    throw std::invalid_argument("rss_table: the RETA size must be a power of two up to " +
                                std::to_string(kMaxRetaSize) + ", got " + std::to_string(size));
  }
}

// reta[i] = i % queues: queues take turns, as most PMDs' default table does.
std::vector<std::uint16_t> round_robin_reta(std::uint16_t queues, std::uint16_t reta_size) {
  check_reta_size(reta_size);
  std::vector<std::uint16_t> reta(reta_size);
  for (std::size_t i = 0; i < reta.size(); ++i) {
    reta[i] = queues == 0 ? 0 : static_cast<std::uint16_t>(i % queues);
  }
  return reta;
}

// 0x6d5a repeated: the symmetric key of Woo & Park, "Scalable TCP Session
// Monitoring with Symmetric Receive-side Scaling" (2012).
constexpr std::array<std::uint8_t, 40> kSymmetricKey = [] {
  std::array<std::uint8_t, 40> k{};
  for (std::size_t i = 0; i < k.size(); i += 2) {
    k[i] = 0x6d;
    k[i + 1] = 0x5a;
  }
  return k;
}();

}  // namespace

std::span<const std::uint8_t> symmetric_rss_key() noexcept { return kSymmetricKey; }

rss_table::rss_table(std::uint16_t queues, std::span<const std::uint8_t> key,
                     std::uint16_t reta_size)
    : rss_table(round_robin_reta(queues, reta_size), queues, key) {}

rss_table::rss_table(std::span<const std::uint16_t> reta, std::uint16_t queues,
                     std::span<const std::uint8_t> key)
    : _key(key.begin(), key.end()), _reta(reta.begin(), reta.end()), _queues(queues) {
  if (queues == 0) throw std::invalid_argument("rss_table: need at least one queue");
  check_reta_size(reta.size());
  check_key(key);
  for (std::size_t i = 0; i < reta.size(); ++i) {
    if (reta[i] >= queues) {
      throw std::invalid_argument("rss_table: RETA entry " + std::to_string(i) + " is queue " +
                                  std::to_string(reta[i]) + " but there are only " +
                                  std::to_string(queues) + " queues");
    }
  }
  _mask = static_cast<std::uint32_t>(reta.size() - 1);
  // What rte_convert_rss_key does, without reading the byte array through a
  // uint32_t pointer (it has no 4-byte alignment): rte_softrss_be then skips
  // rte_softrss's byte swap per set bit.
  _key_be.resize(key.size() / 4);
  for (std::size_t w = 0; w < _key_be.size(); ++w) {
    _key_be[w] = (std::uint32_t{key[4 * w]} << 24) | (std::uint32_t{key[4 * w + 1]} << 16) |
                 (std::uint32_t{key[4 * w + 2]} << 8) | std::uint32_t{key[4 * w + 3]};
  }
}

std::uint32_t rss_table::hash(wire::ipv4_addr remote_ip, wire::ipv4_addr local_ip,
                              std::uint16_t remote_port, std::uint16_t local_port) const noexcept {
  // The words of an rte_ipv4_tuple {src_addr, dst_addr, {dport, sport}} on a
  // little-endian CPU, built without type punning through its union.
  std::array<std::uint32_t, 3> tuple = {
      remote_ip.value, local_ip.value,
      (std::uint32_t{remote_port} << 16) | std::uint32_t{local_port}};
  static_assert(sizeof(rte_ipv4_tuple) == sizeof(tuple));
  return rte_softrss_be(tuple.data(), static_cast<std::uint32_t>(tuple.size()),
                        reinterpret_cast<const std::uint8_t*>(_key_be.data()));
}

}  // namespace kbt::base
