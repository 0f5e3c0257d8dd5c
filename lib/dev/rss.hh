#pragma once
// The flow -> queue map of a port that does RSS itself: its redirection
// table read back, with the symmetric key open_port programmed.
#include <cstdint>

#include "base/rss_table.hh"

namespace kbt::dev {

// The port's own RETA (rte_eth_dev_rss_reta_query). Throws
// base::startup_error when the table cannot be read or does not fit `queues`.
base::rss_table rss_table_of_port(std::uint16_t port_id, std::uint16_t queues);

}  // namespace kbt::dev
