#include "dev/port.hh"

#include <rte_errno.h>
#include <rte_ethdev.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "base/rss_table.hh"
#include "base/startup_error.hh"
#include "dev/offload_defects.hh"
#include "dev/port_error.hh"

namespace kbt::dev {
namespace {

port_offloads negotiate_offloads(const rte_eth_dev_info& info, rte_eth_conf& conf,
                                 std::uint16_t queues) {
  port_offloads got;
  auto rx = [&](std::uint64_t flag) {
    if ((info.rx_offload_capa & flag) == 0) return false;
    conf.rxmode.offloads |= flag;
    return true;
  };
  auto tx = [&](std::uint64_t flag) {
    if ((info.tx_offload_capa & flag) == 0) return false;
    conf.txmode.offloads |= flag;
    return true;
  };
  got.rx_ipv4_cksum = rx(RTE_ETH_RX_OFFLOAD_IPV4_CKSUM);
  got.rx_tcp_cksum = rx(RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
  got.tx_ipv4_cksum = tx(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
  got.tx_tcp_cksum = tx(RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
  // What the driver offers but gets wrong is not asked for (offload_defects.cc).
  got = without_known_defects(info.driver_name, got);
  if (!got.tx_tcp_cksum) conf.txmode.offloads &= ~RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  // Freeing tx mbufs without the per-packet refcount/pool checks is safe
  // for us only if the PMD can do it; it is a pure speed-up, so optional.
  tx(RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE);

  if (queues > 1) {
    const std::uint64_t want = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP;
    const std::uint64_t hf = info.flow_type_rss_offloads & want;
    if (hf == 0) {
      throw base::startup_error("port " + std::to_string(info.if_index) + " (" + info.driver_name +
                          ") cannot spread TCP over " + std::to_string(queues) +
                          " queues with RSS: run with one lcore (-l 0)");
    }
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = const_cast<std::uint8_t*>(base::symmetric_rss_key().data());
    conf.rx_adv_conf.rss_conf.rss_key_len = base::symmetric_rss_key().size();
    conf.rx_adv_conf.rss_conf.rss_hf = hf;
    got.rss = true;
  }
  return got;
}

}  // namespace

std::uint16_t first_port() {
  // rte_eth_find_next rather than RTE_ETH_FOREACH_DEV: the macro's casts
  // break -Wold-style-cast.
  const auto id = static_cast<std::uint16_t>(rte_eth_find_next(0));
  if (id < RTE_MAX_ETHPORTS) return id;
  throw base::startup_error(
      "no DPDK port found: give a device in the EAL arguments, e.g. "
      "--vdev=net_tap0,iface=kbt0, or bind a NIC to vfio-pci");
}

port_info open_port(const port_config& config, std::span<rte_mempool* const> pools) {
  const std::uint16_t id = config.port_id;
  if (!rte_eth_dev_is_valid_port(id)) {
    throw base::startup_error("port " + std::to_string(id) + " does not exist");
  }
  if (pools.size() != config.queues || config.queues == 0) {
    throw base::startup_error("open_port: need one mbuf pool per queue");
  }
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(id, &info); rc != 0) {
    throw base::startup_error(port_error(id, "rte_eth_dev_info_get", rc));
  }
  if (config.queues > info.max_rx_queues || config.queues > info.max_tx_queues) {
    throw base::startup_error("port " + std::to_string(id) + " (" + info.driver_name + ") has at most " +
                        std::to_string(std::min(info.max_rx_queues, info.max_tx_queues)) +
                        " queues; run with that many lcores or fewer");
  }

  rte_eth_conf conf{};
  port_info out;
  out.port_id = id;
  out.queues = config.queues;
  out.driver = info.driver_name;
  out.offloads = negotiate_offloads(info, conf, config.queues);

  if (int rc = rte_eth_dev_configure(id, config.queues, config.queues, &conf); rc != 0) {
    throw base::startup_error(port_error(id, "rte_eth_dev_configure", rc));
  }
  std::uint16_t rx_desc = config.rx_desc;
  std::uint16_t tx_desc = config.tx_desc;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rx_desc, &tx_desc); rc != 0) {
    throw base::startup_error(port_error(id, "rte_eth_dev_adjust_nb_rx_tx_desc", rc));
  }
  const int socket = rte_eth_dev_socket_id(id);
  for (std::uint16_t q = 0; q < config.queues; ++q) {
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    if (int rc = rte_eth_rx_queue_setup(id, q, rx_desc, socket, &rxconf, pools[q]); rc != 0) {
      throw base::startup_error(port_error(id, "rte_eth_rx_queue_setup", rc));
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(id, q, tx_desc, socket, &txconf); rc != 0) {
      throw base::startup_error(port_error(id, "rte_eth_tx_queue_setup", rc));
    }
  }
  if (std::uint16_t mtu = 0; rte_eth_dev_get_mtu(id, &mtu) == 0 && mtu != config.mtu) {
    const int rc = rte_eth_dev_set_mtu(id, config.mtu);
    // A shared-memory link (memif) has no MTU to set: it carries a frame of
    // any length as a chain of its buffers, and says so by taking chained
    // mbufs on transmit. Any other refusal is a start-up error.
    const bool chains = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
    if (rc != 0 && !(rc == -ENOTSUP && chains)) {
      throw base::startup_error(port_error(id, ("setting the MTU to " + std::to_string(config.mtu)).c_str(), rc));
    }
  }
  if (int rc = rte_eth_dev_start(id); rc != 0) {
    throw base::startup_error(port_error(id, "rte_eth_dev_start", rc));
  }
  rte_ether_addr mac{};
  if (int rc = rte_eth_macaddr_get(id, &mac); rc != 0) {
    throw base::startup_error(port_error(id, "rte_eth_macaddr_get", rc));
  }
  std::memcpy(out.mac.bytes.data(), mac.addr_bytes, out.mac.bytes.size());
  return out;
}

void close_port(std::uint16_t port_id) noexcept {
  rte_eth_dev_stop(port_id);
  rte_eth_dev_close(port_id);
}

}  // namespace kbt::dev
