// parse_tcp_options on arbitrary option bytes (up to the 40 a header can
// hold, and past it, since the parser must not assume the bound), then
// emit -> parse: the emitter's output must parse to the same options (SACK
// blocks that do not fit beside the others excepted, by design) and be a
// fixed point: emitting the reparsed options gives the same bytes.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "fuzz_check.hh"
#include "wire/tcp_options.hh"

using namespace kbt::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = std::as_bytes(std::span(data, size));
  const auto opts = parse_tcp_options(in);
  if (!opts) return 0;
  FUZZ_CHECK(opts->sack_count <= kTcpMaxSackBlocks, "sack_count %u", opts->sack_count);

  const std::size_t len = tcp_options_len(*opts);
  FUZZ_CHECK(len <= kTcpMaxOptionsLen && len % 4 == 0, "tcp_options_len %zu", len);
  std::array<std::byte, kTcpMaxOptionsLen> out{};
  const auto n = emit_tcp_options(*opts, out);
  FUZZ_CHECK(n && *n == len, "emit_tcp_options wrote %zu, tcp_options_len said %zu",
             n ? *n : 0, len);
  FUZZ_CHECK(!emit_tcp_options(*opts, std::span(out).first(len == 0 ? 0 : len - 1)) || len == 0,
             "emit_tcp_options accepted a buffer shorter than tcp_options_len");

  const auto again = parse_tcp_options(std::span(out).first(len));
  FUZZ_CHECK(again, "emitted options do not parse");
  FUZZ_CHECK(again->mss == opts->mss && again->window_scale == opts->window_scale &&
                 again->sack_permitted == opts->sack_permitted &&
                 again->timestamps == opts->timestamps,
             "options round trip changed MSS, window scale, SACK-permitted or timestamps");
  const auto sent = opts->sacks();
  const auto got = again->sacks();
  tcp_options no_sack = *opts;
  no_sack.sack_count = 0;
  const bool all_fit = sent.empty() || tcp_options_len(no_sack) + 4 + 8 * sent.size() <= 40;
  FUZZ_CHECK(got.size() <= sent.size() && std::equal(got.begin(), got.end(), sent.begin()) &&
                 (!all_fit || got.size() == sent.size()),
             "SACK blocks round trip: %zu sent, %zu back", sent.size(), got.size());

  std::array<std::byte, kTcpMaxOptionsLen> out2{};
  const auto n2 = emit_tcp_options(*again, out2);
  FUZZ_CHECK(n2 && *n2 == len && std::memcmp(out.data(), out2.data(), len) == 0,
             "emit(parse(emit(x))) differs from emit(x)");
  return 0;
}
