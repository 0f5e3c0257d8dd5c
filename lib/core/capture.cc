// rte_pcapng is an experimental API in DPDK 22.11: without this its
// declarations carry a deprecation attribute, an error under -Werror. It must
// come before the first DPDK header (rte_compat.h decides once).
#define ALLOW_EXPERIMENTAL_API 1

#include "core/capture.hh"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_pcapng.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <ctime>
#include <system_error>

#include "base/startup_error.hh"

namespace kbt::core {
namespace {

// Frames up to a VLAN-tagged 1500-byte MTU fit one copy mbuf; a longer one
// (TSO, jumbo) is copied whole into a chain.
constexpr std::uint32_t kCopyFrameLen = 1518 + 4;
// Copies one core hands over at once, and the writer writes at once.
constexpr std::size_t kBatch = 64;
// The copy pool: enough for every queue to fill only when the limit is high.
constexpr std::uint64_t kMaxPool = 8191;
constexpr std::uint64_t kMinPool = 255;
// How long the writer sleeps when every queue was empty.
constexpr auto kWriterIdle = std::chrono::milliseconds(1);

rte_pcapng_direction to_pcapng(capture_direction d) noexcept {
  return d == capture_direction::in ? RTE_PCAPNG_DIRECTION_IN : RTE_PCAPNG_DIRECTION_OUT;
}

// The Enhanced Packet Block that rte_pcapng_copy puts in front of the frame
// (pcapng spec §4.3): block type, block length, interface id, then the
// timestamp as two host-order 32-bit words, high first, in the units of the
// interface block's if_tsresol, which DPDK sets to 9 (nanoseconds).
constexpr std::size_t kEpbTimestampHigh = 12;
constexpr std::size_t kEpbTimestampLow = 16;

void stamp(rte_mbuf* copy, std::uint64_t ns) noexcept {
  auto* epb = rte_pktmbuf_mtod(copy, std::byte*);
  const auto high = static_cast<std::uint32_t>(ns >> 32);
  const auto low = static_cast<std::uint32_t>(ns);
  std::memcpy(epb + kEpbTimestampHigh, &high, sizeof high);
  std::memcpy(epb + kEpbTimestampLow, &low, sizeof low);
}

std::uint64_t realtime_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * base::kNsPerSec + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

capture::capture(int fd, const capture_config& config)
    : _config(config), _epoch_ns(realtime_ns()) {
  _file = rte_pcapng_fdopen(fd, nullptr, nullptr, config.app_name.c_str(), nullptr);
  if (_file == nullptr) {
    const std::string why = rte_strerror(rte_errno);
    ::close(fd);  // rte_pcapng_fdopen leaves it open when it fails
    throw base::startup_error("--pcap: cannot write the pcapng header (" + why + ")");
  }
  try {
    const std::uint64_t n = std::clamp<std::uint64_t>(2 * config.limit, kMinPool, kMaxPool);
    const unsigned cache = 32;
    const std::string name = "kbt_pcap";
    _pool = rte_pktmbuf_pool_create(name.c_str(), static_cast<unsigned>(n), cache, 0,
                                    static_cast<std::uint16_t>(rte_pcapng_mbuf_size(kCopyFrameLen)),
                                    static_cast<int>(rte_socket_id()));
    if (_pool == nullptr) {
      throw base::startup_error("--pcap: cannot create a pool of " + std::to_string(n) +
                               " capture mbufs (" + rte_strerror(rte_errno) +
                               "): give the EAL more memory (-m)");
    }
    // 22.11 converts the TSC it is given into a time against a base that
    // it sets up in the first rte_pcapng_copy and moves forward in any call
    // a second or more past it, unlocked; a TSC older than the base wraps
    // and puts that packet and all later ones ~240 years ahead (year 2265
    // at 2.45 GHz). So: set the base up here, on one thread, and give every
    // copy the same TSC, a millisecond past it. The library then only reads
    // its base, and take_burst() writes the real time over the copy's.
    _lib_tsc = rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000;
    rte_mbuf* probe = rte_pktmbuf_alloc(_pool);
    rte_mbuf* probe_copy = nullptr;
    if (probe != nullptr && rte_pktmbuf_append(probe, 64) != nullptr) {
      probe_copy = rte_pcapng_copy(config.port_id, 0, probe, _pool, UINT32_MAX, _lib_tsc,
                                   RTE_PCAPNG_DIRECTION_IN);
    }
    const bool probe_ok = probe_copy != nullptr;
    rte_pktmbuf_free(probe_copy);
    rte_pktmbuf_free(probe);
    if (!probe_ok) throw base::startup_error("--pcap: rte_pcapng_copy fails at start-up");
    for (std::uint16_t c = 0; c < config.cores; ++c) {
      _lanes.push_back(std::make_unique<lane>(config.queue_capacity));
    }
    _active.store(true, std::memory_order_relaxed);
    _writer = std::thread([this] { writer_loop(); });
  } catch (const std::system_error& e) {
    _active.store(false, std::memory_order_relaxed);
    rte_pcapng_close(_file);
    rte_mempool_free(_pool);
    throw base::startup_error(std::string("--pcap: cannot start the writer thread (") +
                             e.what() + ")");
  } catch (...) {
    rte_pcapng_close(_file);  // closes `fd` too
    rte_mempool_free(_pool);
    throw;
  }
}

capture::~capture() {
  stop();
  // Pushed after the writer's last look (only if a core was still running).
  for (auto& l : _lanes) {
    rte_mbuf* m = nullptr;
    while (l->q.pop(m)) rte_pktmbuf_free(m);
  }
  rte_mempool_free(_pool);
}

void capture::stop() noexcept {
  _active.store(false, std::memory_order_relaxed);
  if (_writer.joinable()) {
    _stop.store(true, std::memory_order_release);
    _writer.join();
  }
  if (_file != nullptr) {
    // An interface statistics block: what the capture got and what it lost.
    (void)rte_pcapng_write_stats(_file, _config.port_id, nullptr, 0, 0,
                                 written() + not_captured(), not_captured());
    rte_pcapng_close(_file);
    _file = nullptr;
  }
}

std::uint64_t capture::not_captured() const noexcept {
  std::uint64_t n = _write_failed;
  for (const auto& l : _lanes) n += l->missed.get();
  return n;
}

void capture::take_burst(std::uint16_t core, std::uint16_t queue,
                         std::span<rte_mbuf* const> frames, capture_direction dir) noexcept {
  // One read-modify-write per burst on the shared budget; the core that
  // spends the last of it turns the capture off for everyone.
  const std::uint64_t n = frames.size();
  const std::uint64_t before = _reserved.fetch_add(n, std::memory_order_relaxed);
  if (before + n >= _config.limit) _active.store(false, std::memory_order_relaxed);
  if (before >= _config.limit) return;
  const std::size_t granted = static_cast<std::size_t>(std::min(n, _config.limit - before));

  lane& l = *_lanes[core];
  // Our time, not the library's (see the constructor).
  const std::uint64_t ns = _epoch_ns + base::ns_since_start(_clock.now());
  const rte_pcapng_direction d = to_pcapng(dir);
  std::array<rte_mbuf*, kBatch> copies;
  for (std::size_t done = 0; done < granted;) {
    const std::size_t chunk = std::min(granted - done, kBatch);
    std::size_t k = 0;
    for (std::size_t i = 0; i < chunk; ++i) {
      rte_mbuf* c = rte_pcapng_copy(_config.port_id, queue, frames[done + i], _pool, UINT32_MAX,
                                    _lib_tsc, d);
      if (c == nullptr) continue;
      stamp(c, ns);
      copies[k++] = c;
    }
    l.missed.add(chunk - k);  // the pool was empty
    const std::size_t pushed = l.q.push(copies.data(), k);
    if (pushed < k) {
      rte_pktmbuf_free_bulk(&copies[pushed], static_cast<unsigned>(k - pushed));
      l.missed.add(k - pushed);  // the writer is behind
    }
    done += chunk;
  }
}

void capture::writer_loop() noexcept {
  for (;;) {
    const bool stopping = _stop.load(std::memory_order_acquire);
    // After a stop the cores no longer push: one empty round is the end.
    if (drain_once() == 0) {
      if (stopping) return;
      std::this_thread::sleep_for(kWriterIdle);
    }
  }
}

// One batch from each core's queue in turn, so a busy core cannot starve
// the others.
std::size_t capture::drain_once() noexcept {
  std::size_t total = 0;
  std::array<rte_mbuf*, kBatch> batch;
  for (auto& l : _lanes) {
    const std::size_t n = l->q.pop(batch.data(), batch.size());
    if (n == 0) continue;
    write_batch(batch.data(), n);
    total += n;
  }
  return total;
}

void capture::write_batch(rte_mbuf** batch, std::size_t n) noexcept {
  if (_write_errno == 0) {
    const ssize_t r = rte_pcapng_write_packets(_file, batch, static_cast<std::uint16_t>(n));
    if (r >= 0) {
      _written.store(_written.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    } else {
      // A full disk or the like: keep the file as it is and stop capturing.
      _write_errno = errno != 0 ? errno : EIO;
      _active.store(false, std::memory_order_relaxed);
      _write_failed += n;
    }
  } else {
    _write_failed += n;
  }
  // Unlike what rte_pcapng.h says, 22.11's rte_pcapng_write_packets does not
  // free the mbufs it wrote.
  rte_pktmbuf_free_bulk(batch, static_cast<unsigned>(n));
}

}  // namespace kbt::core
