#include "dev/rss.hh"

#include <rte_ethdev.h>

#include <algorithm>
#include <bit>
#include <string>
#include <vector>

#include "base/startup_error.hh"
#include "dev/port_error.hh"

namespace kbt::dev {
namespace {

// The largest power of two a uint16_t RETA size can hold.
constexpr std::size_t kMaxRetaSize = 32768;

}  // namespace

base::rss_table rss_table_of_port(std::uint16_t port_id, std::uint16_t queues) {
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port_id, &info); rc != 0) {
    throw base::startup_error(port_error(port_id, "rte_eth_dev_info_get", rc));
  }
  const std::size_t size = info.reta_size;
  if (size == 0 || size > kMaxRetaSize || !std::has_single_bit(size)) {
    throw base::startup_error("port " + std::to_string(port_id) + " (" + info.driver_name +
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
    throw base::startup_error(port_error(port_id, "rte_eth_dev_rss_reta_query", rc));
  }
  std::vector<std::uint16_t> reta(size);
  for (std::size_t i = 0; i < size; ++i) {
    reta[i] = groups[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
    if (reta[i] >= queues) {
      throw base::startup_error("port " + std::to_string(port_id) + ": RETA entry " + std::to_string(i) +
                          " sends flows to queue " + std::to_string(reta[i]) + " but kbt runs " +
                          std::to_string(queues) + " queues");
    }
  }
  return base::rss_table(reta, queues, base::symmetric_rss_key());
}

}  // namespace kbt::dev
