#pragma once
// kbt-load's per-core client (api/app.hh): this core's share of the
// connections, each a slot that connects, sends the prebuilt request,
// reads the response (response_parser.hh) and records its latency, then
// sends the next one or, with --close, connects again. With --pipeline N a
// keep-alive connection has up to N requests outstanding (request_window.hh).
//
// Two loops (wrk2's model):
// - closed (rate 0): the next request goes as soon as the response is in
//   (--pipeline N: as soon as fewer than N are outstanding); latency runs
//   from the send (with --close, from the connect).
// - open (rate > 0): slot g of N sends at start + g*T/N + k*T, T = N/rate;
//   latency runs from the *scheduled* time, so a slow response that delays
//   the next send shows in that request's latency too (coordinated
//   omission corrected). The rate is across all connections; a request
//   whose time has come waits only while its connection has N outstanding.
// All connects and timeouts happen in on_poll, which looks at the slots
// whose time has come (slot_timers.hh), and no others. Nothing allocates
// after construction.
#include <cstdint>
#include <string>
#include <vector>

#include "api/app.hh"
#include "load_stats.hh"
#include "request_window.hh"
#include "response_parser.hh"
#include "slot_timers.hh"

namespace kbt::load {

// The run, as the flags give it; shared (read-only) by every core.
struct load_config {
  wire::ipv4_addr ip;
  std::uint16_t port = 80;
  std::string request;            // the bytes of one request, built once
  std::uint32_t connections = 0;  // in total, over all cores
  double rate = 0;                // requests/s in total; 0: closed loop
  bool close = false;             // one request per connection
  std::uint32_t pipeline = 1;     // requests outstanding per connection, at most (keep-alive)
  bool head = false;              // HEAD: responses have no body (RFC 9110 §9.3.2)
  double connect_rate = 0;        // new connections/s in total, at most; 0: no limit
  std::uint64_t duration_ns = 0;
  std::uint64_t start_delay_ns = 0;  // from the first poll to the start of the load
  std::uint64_t timeout_ns = 0;      // per connect and per response
  bool progress = true;              // core 0 prints a line each second (stderr)
};

class load_handler {
 public:
  // `first`: the global index of this core's first slot; `count`: its slots.
  load_handler(api::core_context& ctx, const load_config& cfg, run_state& run,
               std::uint32_t first, std::uint32_t count);

  void on_connected(api::connection c) noexcept;
  void on_data(api::connection c, api::rx_data& d) noexcept;
  void on_peer_fin(api::connection c) noexcept;
  void on_writable(api::connection c) noexcept;
  void on_closed(api::connection c, api::close_reason why) noexcept;
  void on_poll(api::core_context& ctx) noexcept;

 private:
  enum class slot_state : std::uint8_t {
    idle,        // no connection; connects at `due`
    connecting,  // SYN sent; gives up at `deadline`
    open,        // keep-alive, nothing outstanding; sends at `due`
    sending,     // the newest request started, part of it waits for send room (on_writable)
    waiting,     // requests sent; the oldest one's response is due by `deadline`, and
                 // with room in the window the next request goes at `due`
    draining,    // the response said close: waits for the server's FIN until `deadline`
  };
  struct slot {
    api::connection conn;
    slot_state state = slot_state::idle;
    std::uint64_t due = 0;       // idle, open; waiting with room in the window
    std::uint64_t deadline = 0;  // connecting, waiting, draining
    std::uint64_t origin = 0;    // --close: the request's latency starts at the connect
    std::uint64_t next_sched = 0;  // open loop: the next request's scheduled time
    std::uint32_t sent = 0;        // sending: bytes of the request the stack took
    http_response_parser parser;  // the oldest outstanding request's response
    request_window window;        // outstanding requests, oldest first
  };

  slot* slot_of(const api::connection& c) noexcept;
  std::uint64_t now() const noexcept { return base::ns_since_start(_ctx->now); }
  bool open_loop() const noexcept { return _interval_ns != 0; }
  // The time the slot's next request may start (open loop: its schedule).
  std::uint64_t next_start(const slot& s) const noexcept {
    return open_loop() ? s.next_sched : now();
  }
  // Takes the latency origin of the request about to start, and moves the schedule on.
  std::uint64_t take_origin(slot& s) noexcept;
  // The slot gets a look at `t` (or earlier, if one was due earlier).
  void wake_at(const slot& s, std::uint64_t t) noexcept {
    _timers.wake_at(static_cast<std::uint32_t>(&s - _slots.data()), t);
  }

  void start(std::uint64_t now_ns) noexcept;
  // What the slot's state asks for at its wake time, and its next wake.
  void visit(slot& s, std::uint64_t now_ns) noexcept;
  void finish(std::uint64_t now_ns) noexcept;
  void print_progress(std::uint64_t now_ns) noexcept;

  void open_connection(slot& s) noexcept;
  void ready_for_next(slot& s, api::connection c) noexcept;
  void send_request(slot& s, api::connection c) noexcept;
  // Sends requests while the window has room and their start times have come.
  void fill(slot& s, api::connection c) noexcept;
  // Hands the stack what it takes of the rest of the request.
  void push_request(slot& s, api::connection c) noexcept;
  void response_done(slot& s, api::connection c) noexcept;
  // Lets go of the connection; the slot connects again at `due`.
  void drop(slot& s, api::connection c, bool abort, std::uint64_t due) noexcept;
  void fail(slot& s, api::connection c, error_kind why, bool abort) noexcept;
  void count_failed(error_kind why, std::uint64_t n) noexcept;

  api::core_context* _ctx;
  const load_config* _cfg;
  run_state* _run;
  core_stats* _stats;
  std::vector<slot> _slots;
  slot_timers _timers;  // one per slot
  std::vector<std::uint64_t> _window_room;  // --pipeline entries per slot, made at start-up
  std::uint32_t _first;
  std::uint64_t _interval_ns = 0;  // open loop: between one slot's requests
  std::uint64_t _connect_gap_ns = 0;  // --connect-rate: between this core's connects
  std::uint64_t _next_connect = 0;    // --connect-rate: the earliest next connect
  std::uint64_t _load_start = 0;
  std::uint64_t _end = 0;
  bool _started = false;
  bool _finished = false;
  bool _drained = false;  // finished, and nothing left to transmit
  bool _stop_sent = false;
  // Core 0's progress line.
  std::uint64_t _next_progress = 0;
  std::uint64_t _last_progress_ns = 0;
  std::uint64_t _last_responses = 0;
};

}  // namespace kbt::load
