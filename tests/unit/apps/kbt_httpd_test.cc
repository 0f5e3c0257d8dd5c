// kbt-httpd's request_target (apps/kbt-httpd/request_target.hh): the path
// of origin- and absolute-form targets (RFC 9112 §3.2), fed in pieces as
// http_parser hands them over, percent-decoded, ".." refused.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "kbt-httpd/request_target.hh"

namespace kbt::httpd {
namespace {

using verdict = request_target::verdict;

// Feeds `target` one byte at a time (the worst split) and decodes it.
verdict decode_split(request_target& t, std::string_view target) {
  t.reset();
  for (std::size_t i = 0; i < target.size(); ++i) t.append(target.substr(i, 1));
  return t.decode();
}

TEST(RequestTarget, OriginFormKeepsThePathWithoutTheQuery) {
  request_target t;
  ASSERT_EQ(decode_split(t, "/a/b.html?x=1#f"), verdict::ok);
  EXPECT_EQ(t.path(), "/a/b.html");
}

TEST(RequestTarget, AbsoluteFormKeepsThePath) {
  request_target t;
  ASSERT_EQ(decode_split(t, "http://example.com:8080/x/y?q"), verdict::ok);
  EXPECT_EQ(t.path(), "/x/y");
  ASSERT_EQ(decode_split(t, "HTTP://example.com"), verdict::ok);
  EXPECT_EQ(t.path(), "/");
  ASSERT_EQ(decode_split(t, "http://example.com?q"), verdict::ok);
  EXPECT_EQ(t.path(), "/");
}

TEST(RequestTarget, AsteriskAndAuthorityFormsAreInvalid) {
  request_target t;
  EXPECT_EQ(decode_split(t, "*"), verdict::invalid);
  EXPECT_EQ(decode_split(t, "example.com:443"), verdict::invalid);
  EXPECT_EQ(decode_split(t, "http:/x"), verdict::invalid);
}

TEST(RequestTarget, PercentDecoding) {
  request_target t;
  ASSERT_EQ(decode_split(t, "/a%20b%2Fc"), verdict::ok);
  EXPECT_EQ(t.path(), "/a b/c");
  EXPECT_EQ(decode_split(t, "/a%2"), verdict::invalid);
  EXPECT_EQ(decode_split(t, "/a%zz"), verdict::invalid);
  EXPECT_EQ(decode_split(t, "/a%00"), verdict::invalid);
}

TEST(RequestTarget, DotDotSegmentsAreRefused) {
  request_target t;
  EXPECT_EQ(decode_split(t, "/../etc/passwd"), verdict::escapes);
  EXPECT_EQ(decode_split(t, "/a/%2e%2e/%2e%2e/x"), verdict::escapes);
  EXPECT_EQ(decode_split(t, "/a/.."), verdict::escapes);
  ASSERT_EQ(decode_split(t, "/a..b/..c"), verdict::ok);  // not whole segments
}

TEST(RequestTarget, TooLongPathIsRememberedAndIndexAppends) {
  request_target t;
  EXPECT_EQ(decode_split(t, "/" + std::string(request_target::kMaxPath, 'a')), verdict::too_long);
  ASSERT_EQ(decode_split(t, "/sub/"), verdict::ok);
  ASSERT_TRUE(t.append_decoded("index.html"));
  EXPECT_EQ(t.path(), "/sub/index.html");
}

}  // namespace
}  // namespace kbt::httpd
