// Micro-benchmark of kbt-load's HTTP response parser on kbt-httpd's own
// keep-alive response (64-byte body), the per-response cost on the client's
// core in the keep-alive and connections-per-second workloads.
#include "kbt-httpd/responses.hh"
#include "kbt-load/response_parser.hh"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <span>

namespace {

using kbt::load::feed_result;
using kbt::load::http_response_parser;
using kbt::load::parse_state;

// Feeds one response in pieces of `state.range(0)` bytes (0: whole), as
// segments bring it, and resets the parser for the next, as kbt-load does.
void BM_ParseKeepAliveResponse(benchmark::State& state) {
  const kbt::httpd::response_table table(64);
  const std::span<const std::byte> wire = table.get(kbt::httpd::status::ok, false, true);
  const std::size_t step = state.range(0) == 0 ? wire.size() : static_cast<std::size_t>(state.range(0));
  http_response_parser p;
  std::uint64_t complete = 0;
  for (auto _ : state) {
    std::span<const std::byte> left = wire;
    while (!left.empty()) {
      std::span<const std::byte> piece = left.first(std::min(step, left.size()));
      left = left.subspan(piece.size());
      while (!piece.empty()) {
        const feed_result r = p.feed(piece);
        piece = piece.subspan(r.consumed);
        if (r.state != parse_state::need_more) {
          complete += r.state == parse_state::complete ? 1 : 0;
          p.reset();
        }
      }
    }
  }
  if (complete != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("a response did not parse");
  state.SetItemsProcessed(static_cast<std::int64_t>(complete));
  state.SetBytesProcessed(static_cast<std::int64_t>(complete * wire.size()));
}
BENCHMARK(BM_ParseKeepAliveResponse)->Arg(0)->Arg(100);

}  // namespace
