#pragma once
// kbt-echo's per-core handler: echo (what arrives goes back, zero-copy),
// discard (counted and hashed, then dropped), or source (a byte pattern
// sent until --bytes, zero-copy from one shared buffer).
#include <sodium/crypto_hash_sha256.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "api/app.hh"

namespace kbt::apps {

enum class echo_mode : std::uint8_t { echo, discard, source };

// Byte i of what source mode sends: i mod 251, a cycle no power of two
// divides, so a lost or repeated segment shows in the hash.
inline constexpr std::uint32_t kPatternCycle = 251;

struct echo_options {
  echo_mode mode = echo_mode::echo;
  std::uint64_t source_bytes = 0;  // source: bytes per connection (0: until the peer closes)
  std::uint32_t max_conns = 1024;
};

class echo_handler {
 public:
  echo_handler(api::core_context& ctx, const echo_options& opts);
  ~echo_handler();
  echo_handler(echo_handler&&) noexcept;
  echo_handler(const echo_handler&) = delete;

  void on_accept(api::connection c);
  void on_data(api::connection c, api::rx_data& d);
  void on_peer_fin(api::connection c);
  void on_writable(api::connection c);
  void on_acked(api::connection c, std::uint64_t bytes);
  void on_closed(api::connection c, api::close_reason why);

 private:
  // Per connection, from a pool made at start-up (index + 1 in user()).
  struct session {
    bool peer_fin = false;
    bool fin_sent = false;
    std::uint64_t bytes = 0;  // received (echo, discard) or sent (source)
    rte_mbuf* pending = nullptr;  // echo: data the send buffer refused
    crypto_hash_sha256_state sha;
  };
  session* session_of(api::connection c);
  void pump_source(api::connection c, session& s);
  void flush_echo(api::connection c, session& s);
  void finish_if_done(api::connection c, session& s);

  api::core_context* _ctx;
  echo_options _opts;
  std::vector<session> _sessions;
  std::vector<std::uint32_t> _free;
  // Source: cycle-aligned pattern buffers that every send points into.
  std::array<rte_mbuf*, 32> _patterns{};
  std::size_t _next_pattern = 0;
};

}  // namespace kbt::apps
