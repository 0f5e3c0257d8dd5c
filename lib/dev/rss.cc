#include "dev/rss.hh"

#include <rte_ethdev.h>
#include <rte_thash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <stdexcept>
#include <string>

#include "dev/startup_error.hh"

namespace kbt::dev {
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

std::string port_error(std::uint16_t port_id, const char* step, int rc) {
  return "port " + std::to_string(port_id) + ": " + step + " failed: " + rte_strerror(-rc);
}

}  // namespace

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

rss_table rss_table::from_port(std::uint16_t port_id, std::uint16_t queues) {
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port_id, &info); rc != 0) {
    throw startup_error(port_error(port_id, "rte_eth_dev_info_get", rc));
  }
  const std::size_t size = info.reta_size;
  if (size == 0 || size > kMaxRetaSize || !std::has_single_bit(size)) {
    throw startup_error("port " + std::to_string(port_id) + " (" + info.driver_name +
                        ") reports an RSS redirection table of " + std::to_string(size) +
                        " entries; kbt needs a power of two: steer in software instead");
  }
  // The query fills 64-entry groups, each selected by its mask.
  std::vector<rte_eth_rss_reta_entry64> groups((size + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                               RTE_ETH_RETA_GROUP_SIZE);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::size_t n = std::min<std::size_t>(RTE_ETH_RETA_GROUP_SIZE, size - g * RTE_ETH_RETA_GROUP_SIZE);
    groups[g].mask = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
  }
  if (int rc = rte_eth_dev_rss_reta_query(port_id, groups.data(), static_cast<std::uint16_t>(size));
      rc != 0) {
    throw startup_error(port_error(port_id, "rte_eth_dev_rss_reta_query", rc));
  }
  std::vector<std::uint16_t> reta(size);
  for (std::size_t i = 0; i < size; ++i) {
    reta[i] = groups[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
    if (reta[i] >= queues) {
      throw startup_error("port " + std::to_string(port_id) + ": RETA entry " + std::to_string(i) +
                          " sends flows to queue " + std::to_string(reta[i]) + " but kbt runs " +
                          std::to_string(queues) + " queues");
    }
  }
  return rss_table(reta, queues, symmetric_rss_key());
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

}  // namespace kbt::dev
