#include "api/eal_args.hh"

#include <gtest/gtest.h>

namespace kbt::api {
namespace {

TEST(EalArgs, NoArgumentsUseTheEmbeddedDefault) {
  const char* argv[] = {"kbt-httpd"};
  auto cl = split_command_line(1, argv);
  EXPECT_TRUE(cl.eal_defaulted);
  ASSERT_EQ(cl.app.size(), 1U);
  EXPECT_EQ(cl.eal.front(), "kbt-httpd");
  EXPECT_EQ(cl.eal.size(), 1 + embedded_eal_default().size());
  EXPECT_NE(std::find(cl.eal.begin(), cl.eal.end(), "--vdev=net_tap0,iface=kbt0"), cl.eal.end());
}

TEST(EalArgs, WithoutSeparatorEverythingIsTheApps) {
  const char* argv[] = {"kbt-httpd", "--port", "8080", "--help"};
  auto cl = split_command_line(4, argv);
  EXPECT_TRUE(cl.eal_defaulted);
  EXPECT_EQ(cl.app, (std::vector<std::string>{"kbt-httpd", "--port", "8080", "--help"}));
}

TEST(EalArgs, SeparatorSplitsEalFromApp) {
  const char* argv[] = {"kbt-httpd", "-l", "0-1", "--vdev=net_ring0", "--", "--port", "81"};
  auto cl = split_command_line(7, argv);
  EXPECT_FALSE(cl.eal_defaulted);
  EXPECT_EQ(cl.eal, (std::vector<std::string>{"kbt-httpd", "-l", "0-1", "--vdev=net_ring0"}));
  EXPECT_EQ(cl.app, (std::vector<std::string>{"kbt-httpd", "--port", "81"}));
}

TEST(EalArgs, EmptyEalBeforeSeparatorStillDefaults) {
  const char* argv[] = {"kbt-httpd", "--", "--port", "81", "--", "x"};
  auto cl = split_command_line(6, argv);
  EXPECT_TRUE(cl.eal_defaulted);
  // Only the first "--" separates; a later one belongs to the app.
  EXPECT_EQ(cl.app, (std::vector<std::string>{"kbt-httpd", "--port", "81", "--", "x"}));
}

}  // namespace
}  // namespace kbt::api
