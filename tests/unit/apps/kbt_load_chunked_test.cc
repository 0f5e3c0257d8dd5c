// kbt-load's response parser on chunked bodies (RFC 9112 §7.1): random chunk
// sizes, extensions and trailers, fed in random pieces as segments would
// bring them. Every case is seeded: a failure prints its seed, and
// KBT_CHUNKED_SEED=N replays that one case alone.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kbt-load/response_parser.hh"
#include "response_feeding.hh"

namespace kbt::load {
namespace {

using test_support::bytes;

struct message {
  std::string wire;
  std::uint64_t body = 0;  // decoded body bytes
  int status = 200;
};

// One chunked response: chunk sizes from 1 to `max_chunk`, hex in either case
// with leading zeros now and then, extensions, and trailers on some.
message chunked_response(std::mt19937_64& rng, std::uint32_t max_chunk) {
  std::uniform_int_distribution<std::uint32_t> size(1, max_chunk);
  std::uniform_int_distribution<int> coin(0, 3);
  message m;
  m.status = coin(rng) == 0 ? 404 : 200;
  m.wire = "HTTP/1.1 " + std::to_string(m.status) + " X\r\nTransfer-Encoding: chunked\r\n";
  if (coin(rng) == 0) m.wire += "Content-Length: 99\r\n";  // §6.3: chunked wins
  m.wire += "\r\n";
  const int chunks = std::uniform_int_distribution<int>(0, 8)(rng);
  for (int c = 0; c < chunks; ++c) {
    const std::uint32_t n = size(rng);
    char hex[32];
    std::snprintf(hex, sizeof hex, coin(rng) == 0 ? "%0*X" : "%0*x", coin(rng) + 1,
                  static_cast<unsigned>(n));
    m.wire += hex;
    if (coin(rng) == 0) m.wire += ";name=\"quoted;value\"";
    if (coin(rng) == 0) m.wire += " ;ext";
    m.wire += "\r\n";
    for (std::uint32_t k = 0; k < n; ++k) m.wire += static_cast<char>('a' + k % 26);
    m.wire += "\r\n";
    m.body += n;
  }
  m.wire += coin(rng) == 0 ? "000;last\r\n" : "0\r\n";
  if (coin(rng) == 0) m.wire += "Trailer-One: 1\r\nX-Checksum: abcdef\r\n";
  m.wire += "\r\n";
  return m;
}

struct outcome {
  std::vector<int> statuses;
  std::vector<std::uint64_t> bodies;
  bool error = false;
};

// Feeds `wire` in random pieces of 1 to `max_piece` bytes.
outcome feed_randomly(std::string_view wire, std::mt19937_64& rng, std::size_t max_piece) {
  std::uniform_int_distribution<std::size_t> piece_size(1, max_piece);
  outcome out;
  http_response_parser p;
  out.error = !test_support::feed_in_pieces(
      p, wire, [&] { return piece_size(rng); },
      [&](const http_response_parser& q) {
        out.statuses.push_back(q.status());
        out.bodies.push_back(q.body_bytes());
      });
  if (!p.idle()) out.error = true;  // something left half-read
  return out;
}

void run_case(std::uint64_t seed) {
  SCOPED_TRACE("KBT_CHUNKED_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  // Several responses back to back (pipelined keep-alive), one in three
  // with chunks larger than a segment.
  const int count = std::uniform_int_distribution<int>(1, 5)(rng);
  std::string wire;
  outcome want;
  for (int i = 0; i < count; ++i) {
    const message m = chunked_response(rng, seed % 3 == 0 ? 5000 : 40);
    wire += m.wire;
    want.statuses.push_back(m.status);
    want.bodies.push_back(m.body);
  }
  const std::size_t max_piece = seed % 2 == 0 ? 7 : 1500;
  const outcome got = feed_randomly(wire, rng, max_piece);
  EXPECT_FALSE(got.error);
  EXPECT_EQ(got.statuses, want.statuses);
  EXPECT_EQ(got.bodies, want.bodies);
}

TEST(ChunkedResponse, RandomChunksInRandomPieces) {
  if (const char* s = std::getenv("KBT_CHUNKED_SEED")) {
    run_case(std::strtoull(s, nullptr, 10));
    return;
  }
  for (std::uint64_t seed = 1; seed <= 2000; ++seed) {
    run_case(seed);
    if (HasFailure()) return;  // the first failing seed is the one to replay
  }
}

TEST(ChunkedResponse, SizeLineSplitAtEveryByte) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "1a;x=y\r\nabcdefghijklmnopqrstuvwxyz\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n";
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    http_response_parser p;
    std::string_view rest = wire;
    int complete = 0;
    while (!rest.empty()) {
      auto piece = bytes(rest.substr(0, step));
      rest.remove_prefix(piece.size());
      while (!piece.empty()) {
        const feed_result r = p.feed(piece);
        ASSERT_NE(r.state, parse_state::error) << "step " << step;
        piece = piece.subspan(r.consumed);
        if (r.state == parse_state::complete) {
          ++complete;
          EXPECT_EQ(p.body_bytes(), 26u + 16u) << "step " << step;
          p.reset();
        }
      }
    }
    EXPECT_EQ(complete, 1) << "step " << step;
  }
}

TEST(ChunkedResponse, BadFramingIsAnError) {
  auto error_of = [](std::string_view wire) {
    http_response_parser p;
    const feed_result r = p.feed(bytes(wire));
    return r.state == parse_state::error ? p.error() : parse_error::none;
  };
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(error_of(head + "g\r\n"), parse_error::bad_chunk);          // not hex
  EXPECT_EQ(error_of(head + ";x\r\n"), parse_error::bad_chunk);         // no size
  EXPECT_EQ(error_of(head + "3\r\nabcX"), parse_error::bad_chunk);      // no CRLF after data
  EXPECT_EQ(error_of(head + "3\r\nabc\rX"), parse_error::bad_chunk);    // CR, then not LF
  EXPECT_EQ(error_of(head + "1000000000000000\r\n"), parse_error::bad_chunk);  // 2^60
  EXPECT_EQ(error_of(head + "fffffffffffffff\r\n"), parse_error::none);  // 15 digits: fine
}

TEST(ChunkedResponse, InterimResponsesThenChunked) {
  const std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
  std::mt19937_64 rng(7);
  const outcome got = feed_randomly(wire, rng, 5);
  EXPECT_FALSE(got.error);
  EXPECT_EQ(got.statuses, (std::vector<int>{201}));
  EXPECT_EQ(got.bodies, (std::vector<std::uint64_t>{2}));
}

// RFC 9112 §6.3 item 1: a response to HEAD ends with its headers, whatever
// its Content-Length or Transfer-Encoding says.
TEST(ResponseParser, HeadResponsesHaveNoBody) {
  http_response_parser p;
  p.set_no_body(true);
  const std::string_view wire =
      "HTTP/1.1 200 OK\r\nContent-Length: 608\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  auto piece = bytes(wire);
  int complete = 0;
  while (!piece.empty()) {
    const feed_result r = p.feed(piece);
    ASSERT_NE(r.state, parse_state::error);
    piece = piece.subspan(r.consumed);
    if (r.state == parse_state::complete) {
      ++complete;
      EXPECT_EQ(p.body_bytes(), 0u);
      p.reset();
    }
  }
  EXPECT_EQ(complete, 2);
  EXPECT_TRUE(p.idle());
}

}  // namespace
}  // namespace kbt::load
