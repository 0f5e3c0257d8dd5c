// --source-ips: the FIRST-LAST text form, and the checks that keep the
// addresses on the interface's link (ip/source_range.hh), each error naming
// what is wrong; and the range as the martian classifier's "own".
#include "ip/source_range.hh"

#include <gtest/gtest.h>

#include "ip/martian.hh"

namespace kbt::ip {
namespace {

using wire::ipv4_addr;
using wire::ipv4_range;

constexpr ipv4_addr ip(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
  return ipv4_addr::from_octets(a, b, c, d);
}
constexpr wire::ipv4_prefix kIface{ip(198, 18, 0, 3), 24};

std::optional<ipv4_range> parse(std::string_view text, std::string* error = nullptr) {
  std::string e;
  auto r = parse_ipv4_range(text, e);
  if (error != nullptr) *error = e;
  return r;
}

TEST(SourceRange, ParsesFirstLastAndOneAddress) {
  EXPECT_EQ(parse("198.18.0.10-198.18.0.13"), (ipv4_range{ip(198, 18, 0, 10), 4}));
  EXPECT_EQ(parse("198.18.0.10-198.18.0.10"), (ipv4_range{ip(198, 18, 0, 10), 1}));
  EXPECT_EQ(parse("198.18.0.7"), (ipv4_range{ip(198, 18, 0, 7), 1}));
  // Across an octet boundary: a range is consecutive 32-bit values.
  EXPECT_EQ(parse("10.0.0.255-10.0.1.1"), (ipv4_range{ip(10, 0, 0, 255), 3}));
}

TEST(SourceRange, RejectsMalformedText) {
  for (const char* bad : {"", "-", "198.18.0.10-", "-198.18.0.10", "198.18.0.10-198.18.0",
                          "198.18.0.10 - 198.18.0.12", "198.18.0.10-198.18.0.12-198.18.0.13",
                          "198.18.0.300", "198.18.0.10/24"}) {
    std::string error;
    EXPECT_FALSE(parse(bad, &error).has_value()) << bad;
    EXPECT_NE(error.find("is not FIRST-LAST"), std::string::npos) << bad << ": " << error;
  }
}

TEST(SourceRange, RejectsAReversedRange) {
  std::string error;
  EXPECT_FALSE(parse("198.18.0.13-198.18.0.10", &error).has_value());
  EXPECT_NE(error.find("reversed"), std::string::npos) << error;
}

TEST(SourceRange, ContainsIsExactlyTheRange) {
  const ipv4_range r{ip(198, 18, 0, 10), 4};
  EXPECT_FALSE(r.contains(ip(198, 18, 0, 9)));
  EXPECT_TRUE(r.contains(ip(198, 18, 0, 10)));
  EXPECT_TRUE(r.contains(ip(198, 18, 0, 13)));
  EXPECT_FALSE(r.contains(ip(198, 18, 0, 14)));
  EXPECT_FALSE(r.contains(ip(0, 0, 0, 0)));  // far below: the subtraction wraps
  EXPECT_EQ(r.last(), ip(198, 18, 0, 13));
  EXPECT_EQ(r.at(2), ip(198, 18, 0, 12));
  EXPECT_FALSE(ipv4_range{}.contains(ip(0, 0, 0, 0)));  // empty holds nothing
}

TEST(SourceRange, AcceptsHostAddressesOfTheSubnet) {
  EXPECT_EQ(check_source_range({ip(198, 18, 0, 10), 4}, kIface, ip(198, 18, 0, 2)), "");
  // The interface's own address may be one of them; the subnet's whole host
  // part may be used.
  EXPECT_EQ(check_source_range({ip(198, 18, 0, 1), 254}, kIface), "");
  EXPECT_EQ(check_source_range({ip(198, 18, 0, 3), 1}, kIface, ip(198, 18, 0, 2)), "");
}

void expect_error(const ipv4_range& r, std::optional<ipv4_addr> peer, const std::string& what) {
  const std::string error = check_source_range(r, kIface, peer);
  EXPECT_NE(error.find(what), std::string::npos) << "got: '" << error << "', want: " << what;
}

TEST(SourceRange, RejectsRangesOffTheSubnet) {
  expect_error({ip(198, 18, 1, 10), 2}, std::nullopt, "198.18.1.10 is outside --ip's subnet 198.18.0.0/24");
  // Starts inside, ends outside.
  expect_error({ip(198, 18, 0, 250), 10}, std::nullopt, "198.18.1.3 is outside");
}

TEST(SourceRange, RejectsTheSubnetsNetworkAndBroadcastAddresses) {
  expect_error({ip(198, 18, 0, 0), 3}, std::nullopt, "198.18.0.0 is not a host address of 198.18.0.0/24");
  expect_error({ip(198, 18, 0, 250), 6}, std::nullopt, "198.18.0.255 is not a host address");
}

TEST(SourceRange, RejectsTheTargetsAddress) {
  expect_error({ip(198, 18, 0, 1), 4}, ip(198, 18, 0, 2), "contains the peer's address 198.18.0.2");
  expect_error({ip(198, 18, 0, 2), 1}, ip(198, 18, 0, 2), "contains the peer's address");
}

TEST(SourceRange, RejectsMoreThanTheLimit) {
  const wire::ipv4_prefix wide{ip(10, 0, 0, 1), 16};
  EXPECT_EQ(check_source_range({ip(10, 0, 1, 0), kMaxSourceAddresses}, wide), "");
  const std::string error = check_source_range({ip(10, 0, 1, 0), kMaxSourceAddresses + 1}, wide);
  EXPECT_NE(error.find("holds 257 addresses, more than the 256 allowed"), std::string::npos)
      << error;
  EXPECT_NE(check_source_range({}, wide).find("empty"), std::string::npos);
}

TEST(SourceRange, MartianClassifierCountsTheRangeAsOurOwn) {
  constexpr ipv4_range r{ip(198, 18, 0, 10), 2};
  static_assert(classify(ip(198, 18, 0, 11), kIface, r) == address_class::own);
  EXPECT_EQ(classify(ip(198, 18, 0, 10), kIface, r), address_class::own);
  EXPECT_EQ(classify(ip(198, 18, 0, 3), kIface, r), address_class::own);
  EXPECT_EQ(classify(ip(198, 18, 0, 12), kIface, r), address_class::unicast);
  EXPECT_EQ(classify(ip(127, 0, 0, 1), kIface, r), address_class::loopback);
}

}  // namespace
}  // namespace kbt::ip
