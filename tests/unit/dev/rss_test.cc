// A port's own RSS table, read back from the PMD.
#include "dev/rss.hh"

#include <gtest/gtest.h>
#include <rte_ethdev.h>

#include "base/startup_error.hh"
#include "dev/ring_port.hh"

namespace kbt::dev {
namespace {

TEST(RssOfPort, NeedsAPortWithRss) {
  EXPECT_THROW(rss_table_of_port(RTE_MAX_ETHPORTS - 1, 1), base::startup_error);
  // The ring PMD has no redirection table: the stack must steer in software.
  ring_port p = make_ring_port("rss_test_ring");
  EXPECT_THROW(rss_table_of_port(p.port_id, 1), base::startup_error);
  destroy_ring_port(p);
}

}  // namespace
}  // namespace kbt::dev
