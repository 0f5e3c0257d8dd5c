#pragma once
// kbt-load's --pipeline N flag (h2load's -m for HTTP/1.1): up to N requests
// outstanding on each keep-alive connection (request_window.hh).
//
// With --close a connection carries one request: the request says
// "Connection: close", and a client that sends close sends no further
// request on that connection (RFC 9112 §9.6), so N > 1 with --close is
// refused rather than sending requests no server will answer. (h2load has
// no such mode; wrk's pipelining script with Connection: close loses all
// but the first.)
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace kbt::load {

inline constexpr std::uint32_t kMaxPipeline = 256;

inline void add_pipeline_option(CLI::App& app, std::uint32_t& depth) {
  app.add_option("--pipeline", depth,
                 "requests in flight per connection (HTTP/1.1 pipelining, as h2load's -m): "
                 "with --rate a request whose time has come waits only while N are "
                 "outstanding; latency of each from its own send (or scheduled) time; "
                 "keep-alive only (with --close N must be 1)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{1}, kMaxPipeline))
      ->type_name("N");
}

// Empty when --pipeline fits the other flags; otherwise why not.
inline std::string pipeline_conflict(std::uint32_t depth, bool close) {
  if (depth <= 1 || !close) return {};
  return "--pipeline " + std::to_string(depth) +
         " needs keep-alive: with --close each connection carries one request (RFC 9112 §9.6)";
}

}  // namespace kbt::load
