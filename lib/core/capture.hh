#pragma once
// A pcapng capture of what the cores receive and send (--pcap FILE).
//
// A core copies the frames of a burst with rte_pcapng_copy into a pool made
// for the capture and pushes the copies on its own spsc queue; one writer
// thread drains the queues into the file with rte_pcapng_write_packets. The
// cores never block or make a system call: when a queue is full or the pool
// is empty the frame is not captured, and counted. The capture stops after
// `limit` packets in total, shared by the cores through one budget that a
// core draws from once per burst.
#include <rte_mbuf.h>

#include <boost/lockfree/spsc_queue.hpp>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hh"
#include "core/counters.hh"

struct rte_mempool;
struct rte_pcapng;

namespace kbt::core {

enum class capture_direction : std::uint8_t { in, out };

struct capture_config {
  std::uint16_t port_id = 0;     // the port the cores' queues belong to
  std::uint16_t cores = 1;       // one queue per core
  std::uint64_t limit = 100000;  // packets in total; then the capture stops
  std::uint32_t queue_capacity = 4096;  // copies waiting per core for the writer
  std::string app_name = "kbt";  // recorded in the file's section header
};

class capture {
 public:
  // Takes `fd`, a file open for writing (closed here, also when this throws);
  // writes the pcapng section header and an interface block per port (so the
  // port must exist), and makes the copy pool. Throws base::startup_error.
  capture(int fd, const capture_config& config);
  // stop(), then frees what is still queued, and the pool.
  ~capture();
  capture(const capture&) = delete;
  capture& operator=(const capture&) = delete;

  // Starts the writer thread and the cores' captures.
  void start();
  // Stops the cores' captures; the writer writes what is queued, then the
  // file is closed. Call it after the cores stopped. Idempotent.
  void stop() noexcept;

  // Core `core` only, on frames it received or is about to hand to the port:
  // copies as many as the limit still allows. The mbufs stay the caller's.
  void take(std::uint16_t core, std::uint16_t queue, std::span<rte_mbuf* const> frames,
            capture_direction dir) noexcept {
    if (!_active.load(std::memory_order_relaxed) || frames.empty()) return;
    take_burst(core, queue, frames, dir);
  }

  // After stop(): packets in the file, and those lost to a full queue, an
  // empty pool or a failed write.
  [[nodiscard]] std::uint64_t written() const noexcept {
    return _written.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t not_captured() const noexcept;
  // errno of the first failed write, 0 if none.
  [[nodiscard]] int write_error() const noexcept { return _write_errno; }

 private:
  using ring = boost::lockfree::spsc_queue<rte_mbuf*>;
  // Written by its core (push, missed) and the writer (pop) only.
  struct alignas(64) lane {
    explicit lane(std::uint32_t capacity) : q(capacity) {}
    ring q;
    counter missed;
  };

  void take_burst(std::uint16_t core, std::uint16_t queue, std::span<rte_mbuf* const> frames,
                  capture_direction dir) noexcept;
  void writer_loop() noexcept;
  std::size_t drain_once() noexcept;
  void write_batch(rte_mbuf** batch, std::size_t n) noexcept;

  capture_config _config;
  // Packet times: wall clock at start-up plus the TSC since (see take_burst).
  base::tsc_clock _clock;
  std::uint64_t _epoch_ns = 0;
  std::uint64_t _lib_tsc = 0;  // the TSC every rte_pcapng_copy is given
  rte_pcapng* _file = nullptr;
  rte_mempool* _pool = nullptr;
  std::vector<std::unique_ptr<lane>> _lanes;
  std::thread _writer;
  // Read by every core per burst; written once when the budget runs out.
  alignas(64) std::atomic<bool> _active{false};
  // The budget: packets handed out so far (may pass `limit` by a burst).
  alignas(64) std::atomic<std::uint64_t> _reserved{0};
  alignas(64) std::atomic<bool> _stop{false};
  std::atomic<std::uint64_t> _written{0};
  std::uint64_t _write_failed = 0;  // the writer's, read after it joined
  int _write_errno = 0;
};

}  // namespace kbt::core
