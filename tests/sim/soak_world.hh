#pragma once
// One soak world (issue "Robustness and conformance"): two kbt engines
// through impaired links drawn from a seed, a few connections in both
// directions driven through the application API (api/app.hh) with
// behaviour drawn from the same seed (transfer, half-close, abort, close,
// zero window, slow reader), run on the virtual clock to a bounded end.
//
// What a world checks, and why each holds:
// - every received byte is the sender's pattern at its offset (a stream is
//   a prefix of what was sent, whatever else happens);
// - the state of every TCB, after every poll, is one of the eleven, and the
//   per-state gauges count exactly the TCBs (and TIME_WAIT records) in it;
// - each connection ends as its two behaviours imply (outcome_of() in
//   soak_world.cc spells the table out);
// - everything ends inside the budget: both layers empty, TIME_WAIT
//   expired, no frame in flight, and every mbuf back in its pool.
#include <cstdint>
#include <string>
#include <vector>

#include "impaired_link.hh"
#include "tcp/tcp_layer.hh"

namespace kbt::sim {

// What the application on one end of a connection does.
struct end_plan {
  // How its side ends: FIN once everything is sent (normal), RST (abort),
  // or handing the connection back to the stack mid-stream (close: FIN
  // after what is queued, no more callbacks).
  enum class finish : std::uint8_t { normal, abort, close };
  enum class reader : std::uint8_t {
    eager,       // takes every byte as it comes
    pause_once,  // stops reading once (its window closes), then resumes
    slow,        // reads once per interval, paused in between
  };
  std::uint64_t send_bytes = 0;
  bool send_after_peer_fin = false;  // the other half of a half-close
  bool zero_copy = true;             // alloc_tx + send, else send_copy
  std::uint32_t chunk = 1460;        // most bytes per send call
  bool nodelay = false;
  finish how = finish::normal;
  // An abort or close happens at the first of these (after the handle
  // exists); the time one always comes, so the end is bounded.
  std::uint64_t act_after_ns = 0;
  std::uint64_t act_after_sent = UINT64_MAX;
  std::uint64_t act_after_received = UINT64_MAX;
  reader read = reader::eager;
  std::uint64_t pause_after_ns = 0;  // pause_once: when (or after pause_at_received bytes)
  std::uint64_t pause_at_received = UINT64_MAX;
  std::uint64_t pause_for_ns = 0;
  std::uint64_t slow_interval_ns = 0;
};

struct conn_plan {
  bool client_is_a = true;
  std::uint16_t port = 0;         // the server's listener, one per connection
  std::uint64_t start_ns = 0;     // after the world starts
  end_plan ends[2];               // [0] client, [1] server
  std::uint64_t stream_seed[2];   // pattern of what each end sends
};

struct world_plan {
  std::uint64_t seed = 0;
  link_config link[2];             // A->B, B->A
  tcp::tcp_config tcp[2];          // A, B
  tcp::cc_algorithm cc[2];
  std::uint64_t granularity_ns = 0;
  std::vector<conn_plan> conns;
  std::string describe() const;
};

// Everything is a function of the seed.
world_plan draw_plan(std::uint64_t seed);

// What a world did, summed over seeds for the closing line.
struct soak_stats {
  std::uint64_t worlds = 0;
  std::uint64_t connections = 0;
  std::uint64_t bytes = 0;  // delivered to applications, both ways
  std::uint64_t steps = 0;
  double virtual_s = 0;
  // Impairments the links applied, both directions.
  std::uint64_t frames = 0, lost = 0, duplicated = 0, reordered = 0, corrupted = 0,
                queue_dropped = 0;
  // How ends finished: on_closed reasons, and ends handed back by close().
  std::uint64_t normal = 0, reset = 0, timeout = 0, refused = 0, aborted = 0, released = 0;
  std::uint64_t never_accepted = 0;  // server ends whose client gave up first
  std::uint32_t states_seen = 0;     // bit per tcp_state seen on a TCB
  void add(const soak_stats& o);
  std::string format() const;
};

struct soak_outcome {
  std::string failure;  // empty: every invariant held
  bool leaked = false;  // mbufs still out at the end (the world's pools stay allocated)
  soak_stats stats;
};

struct soak_options {
  // Budgets of one world, generous against what a healthy world needs (a
  // few tens of virtual seconds).
  std::uint64_t virtual_ns = 900ULL * 1'000'000'000;
  std::uint64_t steps = 6'000'000;
};

soak_outcome run_soak_world(std::uint64_t seed, const soak_options& options = {});

}  // namespace kbt::sim
