// kbt-load's pieces that need no stack: the log-linear latency histogram,
// the incremental HTTP response parser (responses split anywhere, several
// in one piece) and the --url parser.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kbt-load/latency_histogram.hh"
#include "kbt-load/response_parser.hh"
#include "kbt-load/url.hh"
#include "response_feeding.hh"

namespace kbt::load {
namespace {

// ---- latency_histogram

TEST(LatencyHistogram, SmallValuesAreExact) {
  latency_histogram h;
  for (std::uint64_t v = 0; v < 100; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.value_at_percentile(50), 49u);
  EXPECT_EQ(h.value_at_percentile(100), 99u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 99u);
}

TEST(LatencyHistogram, BucketsHoldTheirValuesWithinOnePart128) {
  const std::uint64_t values[] = {128, 129, 255, 256, 1000, 123456, 987654321,
                                  latency_histogram::kMaxTrackable};
  for (std::uint64_t v : values) {
    const std::size_t i = latency_histogram::index_of(v);
    ASSERT_LT(i, latency_histogram::kBuckets);
    const std::uint64_t top = latency_histogram::highest_in(i);
    EXPECT_GE(top, v);
    EXPECT_LE(static_cast<double>(top - v), static_cast<double>(v) / 128.0) << v;
    if (i > 0) {
      EXPECT_LT(latency_histogram::highest_in(i - 1), v) << v;
    }
  }
}

TEST(LatencyHistogram, PercentilesOfAUniformSpread) {
  latency_histogram h;
  for (std::uint64_t v = 1; v <= 100'000; ++v) h.record(v * 1000);  // 1 us .. 100 ms in ns
  const auto near = [](std::uint64_t got, double want) {
    return std::abs(static_cast<double>(got) - want) <= want / 100.0;
  };
  EXPECT_TRUE(near(h.value_at_percentile(50), 50e6)) << h.value_at_percentile(50);
  EXPECT_TRUE(near(h.value_at_percentile(99), 99e6)) << h.value_at_percentile(99);
  EXPECT_TRUE(near(h.value_at_percentile(99.9), 99.9e6)) << h.value_at_percentile(99.9);
  EXPECT_EQ(h.value_at_percentile(100), 100'000'000u);  // never above max
  EXPECT_NEAR(h.mean(), 50'000'500.0, 1.0);
}

TEST(LatencyHistogram, MergeAddsAndHugeValuesClamp) {
  latency_histogram a;
  latency_histogram b;
  a.record(10);
  b.record(std::uint64_t{1} << 50);  // past the top bucket: counted there, max exact
  a.merge(b);
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.max(), std::uint64_t{1} << 50);
  EXPECT_EQ(a.value_at_percentile(50), 10u);
  EXPECT_EQ(a.value_at_percentile(100), latency_histogram::kMaxTrackable);
  EXPECT_EQ(latency_histogram{}.value_at_percentile(99), 0u);
}

// ---- http_response_parser

using test_support::bytes;

struct parsed {
  std::vector<int> statuses;
  std::vector<bool> closes;
  bool error = false;
};

// Feeds `wire` in pieces of `step` bytes, as segments would bring it.
parsed parse_in_pieces(std::string_view wire, std::size_t step) {
  parsed out;
  http_response_parser p;
  out.error = !test_support::feed_in_pieces(
      p, wire, [step] { return step; },
      [&](const http_response_parser& q) {
        out.statuses.push_back(q.status());
        out.closes.push_back(q.closes());
      });
  return out;
}

constexpr std::string_view kTwo =
    "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\n\r\nhello"
    "HTTP/1.1 404 Not Found\r\ncontent-length:3\r\nConnection: keep-alive, Close\r\n\r\nno!";

TEST(ResponseParser, SeveralResponsesInOnePiece) {
  const parsed got = parse_in_pieces(kTwo, kTwo.size());
  EXPECT_FALSE(got.error);
  EXPECT_EQ(got.statuses, (std::vector<int>{200, 404}));
  EXPECT_EQ(got.closes, (std::vector<bool>{false, true}));
}

TEST(ResponseParser, ResponsesSplitAtEveryByte) {
  for (std::size_t step = 1; step < 20; ++step) {
    const parsed got = parse_in_pieces(kTwo, step);
    EXPECT_FALSE(got.error) << step;
    EXPECT_EQ(got.statuses, (std::vector<int>{200, 404})) << step;
  }
}

TEST(ResponseParser, NoBodyFor204AndInterim100) {
  const parsed got = parse_in_pieces(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n"
      "HTTP/1.0 301 Moved\r\nContent-Length: 0\r\n\r\n",
      7);
  EXPECT_FALSE(got.error);
  EXPECT_EQ(got.statuses, (std::vector<int>{204, 301}));
  EXPECT_EQ(got.closes, (std::vector<bool>{false, true}));  // HTTP/1.0: closes
}

TEST(ResponseParser, BodyUntilCloseEndsAtEof) {
  http_response_parser p;
  const feed_result r = p.feed(bytes("HTTP/1.1 200 OK\r\n\r\nsome body"));
  EXPECT_EQ(r.state, parse_state::need_more);
  EXPECT_TRUE(p.finish_at_eof());
  EXPECT_EQ(p.body_bytes(), 9u);
  EXPECT_TRUE(p.closes());

  http_response_parser cut;
  cut.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"));
  EXPECT_FALSE(cut.finish_at_eof());
}

TEST(ResponseParser, Errors) {
  const auto error_of = [](std::string_view wire) {
    http_response_parser p;
    return p.feed(bytes(wire)).state == parse_state::error ? p.error() : parse_error::none;
  };
  EXPECT_EQ(error_of("GARBAGE\r\n"), parse_error::bad_status_line);
  EXPECT_EQ(error_of("HTTP/1.1 2x0 OK\r\n"), parse_error::bad_status_line);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n"), parse_error::bad_content_length);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n"),
            parse_error::bad_content_length);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), parse_error::bad_chunk);
  // A long header line we do not read is skipped, not an error.
  const std::string long_header =
      "HTTP/1.1 200 OK\r\nX-Long: " + std::string(1000, 'a') + "\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(parse_in_pieces(long_header, 100).statuses, (std::vector<int>{200}));
  // Whole lines are read where they lie, without the line buffer: the same
  // limits must hold there.
  EXPECT_EQ(parse_in_pieces(long_header, long_header.size()).statuses, (std::vector<int>{200}));
  const std::string long_status = "HTTP/1.1 200 " + std::string(300, 'K') + "\r\n\r\n";
  EXPECT_EQ(error_of(long_status), parse_error::header_too_long);
  EXPECT_TRUE(parse_in_pieces(long_status, 10).error);
}

TEST(ResponseParser, ResetAfterALineSplitAcrossPiecesStartsClean) {
  http_response_parser p;
  EXPECT_EQ(p.feed(bytes("HTTP/1.1 200 OK\r\nContent-Len")).state, parse_state::need_more);
  EXPECT_FALSE(p.idle());
  p.reset();
  EXPECT_TRUE(p.idle());
  const feed_result r = p.feed(bytes("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"));
  EXPECT_EQ(r.state, parse_state::complete);
  EXPECT_EQ(p.status(), 201);
  EXPECT_EQ(p.body_bytes(), 2u);
}

// ---- parse_url

TEST(ParseUrl, Forms) {
  std::string error;
  auto t = parse_url("http://198.18.0.1:8080/index.html?x=1#frag", error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->ip, wire::ipv4_addr::from_octets(198, 18, 0, 1));
  EXPECT_EQ(t->port, 8080);
  EXPECT_EQ(t->host, "198.18.0.1:8080");
  EXPECT_EQ(t->path, "/index.html?x=1");

  t = parse_url("http://10.0.0.1", error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->port, 80);
  EXPECT_EQ(t->path, "/");

  for (std::string_view bad : {"https://10.0.0.1/", "10.0.0.1/", "http://example.com/",
                               "http://10.0.0.1:0/", "http://10.0.0.1:99999/", "http://:80/",
                               "http://u@10.0.0.1/", "http://224.0.0.1/"}) {
    error.clear();
    EXPECT_FALSE(parse_url(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    EXPECT_EQ(error.find('\n'), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace kbt::load
