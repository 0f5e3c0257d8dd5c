#pragma once
// kbt-echo's per-core handler: echo (what arrives goes back, zero-copy),
// discard (counted and hashed, then dropped), or source (a byte pattern
// sent until --bytes, zero-copy from one shared buffer). The same session
// serves accepted connections and, through echo_client, one it opened.
#include <sodium/crypto_hash_sha256.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "api/app.hh"
#include "echo_close.hh"
#include "echo_report.hh"

namespace kbt::apps {

// Byte i of what source mode sends: i mod 251, a cycle no power of two
// divides, so a lost or repeated segment shows in the hash.
inline constexpr std::uint32_t kPatternCycle = 251;

struct echo_options {
  echo_mode mode = echo_mode::echo;
  std::uint64_t source_bytes = 0;  // source: bytes per connection, also after the peer's FIN
                                   // (0: until the peer closes)
  bool hash = true;                // discard: SHA-256 of what arrives (bounds throughput)
  std::uint32_t max_conns = 1024;
};

class echo_handler {
 public:
  echo_handler(api::core_context& ctx, const echo_options& opts);
  ~echo_handler();
  echo_handler(echo_handler&&) noexcept;
  echo_handler(const echo_handler&) = delete;

  void on_accept(api::connection c) { start_session(c); }
  void on_connected(api::connection c) { start_session(c); }
  void on_data(api::connection c, api::rx_data& d);
  void on_peer_fin(api::connection c);
  void on_writable(api::connection c);
  void on_acked(api::connection c, std::uint64_t bytes);
  // Prints the summary line of a discard connection (its hash is the point).
  void on_closed(api::connection c, api::close_reason why);

  // Stops sourcing (source) and closes our side once what is queued or
  // held is out; reading goes on until the peer closes too.
  void finish(api::connection c);

 protected:
  // Frees the connection's session; what it counted, or nullopt if it had none.
  std::optional<session_summary> end_session(api::connection c, api::close_reason why);
  std::uint64_t now() const noexcept { return base::ns_since_start(_ctx->now); }

 private:
  // Per connection, from a pool made at start-up (index + 1 in user()).
  struct session {
    bool peer_fin = false;
    bool fin_sent = false;
    bool stop = false;        // finish() was called
    std::uint64_t bytes = 0;  // received (echo, discard) or queued (source)
    std::uint64_t acked = 0;  // source: acknowledged by the peer
    std::uint64_t start_ns = 0;  // the handshake
    std::uint64_t last_ns = 0;   // the last byte received or acknowledged
    rte_mbuf* pending = nullptr;  // echo: data the send buffer refused
    crypto_hash_sha256_state sha;
  };
  session* session_of(api::connection c);
  void start_session(api::connection c);
  void pump_source(api::connection c, session& s);
  void flush_echo(api::connection c, session& s);
  void finish_if_done(api::connection c, session& s);
  source_progress progress(const session& s) const noexcept;

  api::core_context* _ctx;
  echo_options _opts;
  std::vector<session> _sessions;
  std::vector<std::uint32_t> _free;
  // Source: cycle-aligned pattern buffers that every send points into.
  std::uint32_t _pattern_bytes;
  std::array<rte_mbuf*, 32> _patterns{};
  std::size_t _next_pattern = 0;
};

}  // namespace kbt::apps
