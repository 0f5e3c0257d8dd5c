#include "wire/addr.hh"

#include <gtest/gtest.h>

namespace kbt::wire {
namespace {

TEST(Ipv4Addr, ParsesDottedQuad) {
  auto a = parse_ipv4("198.18.0.2");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, 0xc6120002U);
  EXPECT_EQ(to_string(*a), "198.18.0.2");
}

TEST(Ipv4Addr, RejectsMalformed) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", "1.2.3.4 ", "+1.2.3.4",
                          "a.b.c.d", "1.2.3.-4", "0001.2.3.4"}) {
    EXPECT_FALSE(parse_ipv4(bad)) << bad;
  }
}

TEST(Ipv4Prefix, ParsesAndContains) {
  auto p = parse_ipv4_prefix("198.18.0.2/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 24);
  EXPECT_TRUE(p->contains(*parse_ipv4("198.18.0.200")));
  EXPECT_FALSE(p->contains(*parse_ipv4("198.18.1.2")));
  EXPECT_EQ(to_string(p->subnet_broadcast()), "198.18.0.255");
  EXPECT_FALSE(parse_ipv4_prefix("198.18.0.2/33"));
  EXPECT_FALSE(parse_ipv4_prefix("198.18.0.2/"));
  EXPECT_FALSE(parse_ipv4_prefix("198.18.0.2/2x"));
  EXPECT_EQ(parse_ipv4_prefix("10.0.0.1")->length, 32);
  EXPECT_EQ(parse_ipv4_prefix("0.0.0.0/0")->mask(), 0U);
}

TEST(MacAddr, FormatsAndClassifies) {
  mac_addr m{{0x02, 0x00, 0x5e, 0x10, 0x20, 0x30}};
  EXPECT_EQ(to_string(m), "02:00:5e:10:20:30");
  EXPECT_FALSE(m.is_multicast());
  EXPECT_TRUE(mac_addr::broadcast().is_broadcast());
  EXPECT_TRUE(mac_addr::broadcast().is_multicast());
}

}  // namespace
}  // namespace kbt::wire
