#pragma once
// kbt-echo --connect: one connection to IP:PORT from core 0, in source or
// discard mode (echo_handler's sessions), for --duration seconds from the
// handshake; then our FIN, and the stack stops shortly after the connection
// closed.
// The summary of that connection is left in client_result for main.
#include <cstdint>
#include <optional>
#include <string>

#include "common/endpoint.hh"
#include "echo_handler.hh"

namespace kbt::apps {

struct client_options {
  endpoint target;
  std::uint64_t duration_ns = 0;
  std::uint64_t connect_timeout_ns = 0;  // from the first poll to the handshake
};

// Written by core 0's handler, read by main after the stack stopped.
struct client_result {
  std::optional<session_summary> summary;  // set when the connection closed
  std::string error;                       // set when the run failed
};

class echo_client : public echo_handler {
 public:
  echo_client(api::core_context& ctx, const echo_options& opts, const client_options& client,
              client_result& result);

  void on_connected(api::connection c);
  void on_closed(api::connection c, api::close_reason why);
  void on_poll(api::core_context& ctx);

 private:
  void fail(const std::string& why);
  std::string peer() const;  // "IP:PORT", for messages

  client_options _client;
  client_result* _result;
  api::connection _conn;
  bool _opened = false;     // connect() was called
  bool _connected = false;  // the handshake completed
  bool _finishing = false;  // finish() was called
  bool _closed = false;     // on_closed came; the stack stops at _stop_at
  bool _stopping = false;   // request_stop() was called
  std::uint64_t _connect_by = 0;
  std::uint64_t _end = 0;
  std::uint64_t _stop_at = 0;
};

}  // namespace kbt::apps
