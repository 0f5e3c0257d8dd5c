// api::detail::delivers_data: when an event hands data to the application,
// for handlers (dispatch) and worker threads (dispatch_external) alike.
#include <gtest/gtest.h>

#include "api/app.hh"

namespace kbt::api::detail {
namespace {

using namespace tcp::event;

TEST(DeliversData, ReadableDataGoesOutWhileReadingIsOn) {
  tcp::tcb c(1024, 4, 1024, 4);
  c.rx_paused = false;
  EXPECT_TRUE(delivers_data(tcp::handle(c), kReadable));
  EXPECT_TRUE(delivers_data(tcp::handle(c), kClosed));
  EXPECT_FALSE(delivers_data(tcp::handle(c), kWritable | kAcked | kPeerFin | kConnected));
}

TEST(DeliversData, PausedReadingHoldsDataBackUntilTheClose) {
  tcp::tcb c(1024, 4, 1024, 4);
  c.rx_paused = true;
  EXPECT_FALSE(delivers_data(tcp::handle(c), kReadable));
  // At the close it is the last chance: the data was freed unread before
  // (found by the soak for handlers; worker threads had the same gap).
  EXPECT_TRUE(delivers_data(tcp::handle(c), kClosed));
  EXPECT_TRUE(delivers_data(tcp::handle(c), kReadable | kClosed));
}

}  // namespace
}  // namespace kbt::api::detail
