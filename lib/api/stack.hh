#pragma once
// The stack as an application starts it: the EAL from command-line arguments,
// the first DPDK port with one rx/tx queue per lcore, and one engine per lcore
// running its run-to-completion loop until SIGINT or SIGTERM.
//
// Start-up errors throw base::startup_error with a message that says what to
// fix; nothing after start-up throws.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/counters.hh"
#include "tcp/config.hh"
#include "wire/addr.hh"

struct rte_mempool;

namespace kbt::core {
class capture;
class engine;
struct engine_config;
class steering_fabric;
}  // namespace kbt::core
namespace kbt::base {
class rss_table;
}  // namespace kbt::base
namespace kbt::dev {
struct port_info;
}  // namespace kbt::dev
namespace kbt::tcp {
struct tcp_counters;
}  // namespace kbt::tcp

namespace kbt::api {

struct stack_config {
  std::string program = "kbt";  // prefix of every message and stats line
  wire::ipv4_prefix ip = {wire::ipv4_addr::from_octets(198, 18, 0, 2), 24};
  std::optional<wire::ipv4_addr> gateway;
  unsigned stats_interval_s = 0;       // 0: no periodic line
  // The mbuf pool of each lcore (2^n - 1 suits rte_mempool); 0: two per
  // connection (a request in flight and its answer) and 8192 for the rx ring
  // and what is in flight, at least 16383 (default_mbufs_per_core).
  unsigned mbufs_per_core = 0;
  // The port's IP MTU. TCP advertises MTU - 40 as its MSS, whatever tcp.mss
  // says: the two cannot disagree.
  std::uint16_t mtu = 1500;
  // How long a datagram's fragments wait for the rest (ip/reassembly.hh),
  // from the first: Linux's ipfrag_time, 30 s.
  std::uint64_t ip_frag_timeout_ns = 30'000'000'000ULL;
  // TCP on every core, listening on these ports.
  std::vector<std::uint16_t> tcp_listen;
  // TCP even with no listener (clients); listeners imply it. Unset: the
  // runner's default (a bare stack: off; run_app: on, see app.hh).
  std::optional<bool> tcp_on;
  std::uint32_t max_conns_per_core = 1024;
  // run_app's application timers on each core (api/app_timer.hh): the
  // pool's size; schedule_timer refuses past it.
  std::uint32_t app_timers_per_core = 1024;
  // Source ports of active opens, shared out among the cores.
  std::uint16_t local_port_first = 32768;
  std::uint16_t local_port_last = 60999;
  // Source addresses of active opens, taken in turn, each with the whole
  // local port range (ip/source_range.hh); they must lie in ip's subnet.
  // Empty: ip.addr alone.
  wire::ipv4_range source_ips;
  tcp::tcp_config tcp;  // syncookies, queues, TIME_WAIT bound, buffers
  // The RFC 6528 key that lasts one boot (core/boot_key.hh); empty:
  // core::kBootKeyPath. Unreadable and uncreatable: a key of this process
  // only, with one warning on stderr.
  std::string isn_key_file;
  // The application's turn in each loop iteration, on each core (docs/ARCHITECTURE.md,
  // "The per-core loop"): one plain call per iteration, not per packet.
  // It runs inside engine::poll (core::engine::app_hook), before TCP's
  // output and the iteration's tx burst.
  using poll_hook = void (*)(core::engine& engine, base::instant now, void* ctx);
  poll_hook on_poll = nullptr;
  void* poll_ctx = nullptr;
  // The application's own counters for the stats line: appends
  // " name=value" pairs to `line`. Runs on the stats thread: read what the
  // cores write with relaxed loads (base::counter does).
  using stats_hook = void (*)(std::string& line, const void* ctx);
  stats_hook app_stats = nullptr;
  const void* app_stats_ctx = nullptr;
  // A pcapng capture of every frame received and sent, into this file
  // (created or truncated), at most pcap_limit packets; empty: none.
  std::string pcap_path;
  std::uint64_t pcap_limit = 100000;
};

// Whether the engines run TCP: listeners imply it; else tcp_on, or
// `fallback` when it is unset.
inline bool tcp_enabled(const stack_config& c, bool fallback) noexcept {
  return !c.tcp_listen.empty() || c.tcp_on.value_or(fallback);
}

// mbufs_per_core when the configuration leaves it 0.
unsigned default_mbufs_per_core(std::uint32_t max_conns_per_core) noexcept;

// Stops the running stack as SIGINT would: every core's loop ends after
// its current iteration, run() (and so run_app) returns its usual exit code.
// Callable from a handler on any core, from any other thread, or from a
// signal handler (it sets one lock-free flag). A process runs one stack:
// the request stays in force.
void request_stop() noexcept;
// True once a stop was requested (request_stop, SIGINT or SIGTERM).
bool stop_requested() noexcept;

class stack {
 public:
  // `eal_args` starts with argv[0]. Throws base::startup_error.
  stack(const std::vector<std::string>& eal_args, const stack_config& config);
  ~stack();
  stack(const stack&) = delete;
  stack& operator=(const stack&) = delete;

  // Runs every engine until a stop signal or request_stop(); prints a `kbt stats:` line every
  // stats interval and once more at the end. Returns the process exit code.
  int run();
  // request_stop(), for a caller that holds the stack.
  static void stop() noexcept { request_stop(); }

  core::counters_snapshot totals() const noexcept;
  // mbufs of the cores' pools not in them now: in rx rings, queues, buffers.
  unsigned mbufs_in_use() const noexcept;
  unsigned cores() const noexcept { return static_cast<unsigned>(_engines.size()); }
  // For readers on other threads (telemetry): relaxed counters of core i.
  const core::core_counters& core_counters_of(unsigned i) const noexcept { return _counters[i]; }
  // TCP's counters of core i, or nullptr without TCP.
  const tcp::tcp_counters* tcp_counters_of(unsigned i) const noexcept;
  // TCP's counters summed over cores [first, last), as ("tcp_<name>", value)
  // in declaration order; empty without TCP. For stats lines and telemetry.
  std::vector<std::pair<std::string, std::uint64_t>> tcp_totals(unsigned first,
                                                                unsigned last) const;
  // Core i's engine, for set-up before run() (api/app.hh).
  core::engine& engine_of(unsigned i) noexcept { return *_engines[i]; }
  // The per-iteration application hook (replaces stack_config::on_poll);
  // before run() only.
  void set_poll_hook(stack_config::poll_hook hook, void* ctx) noexcept {
    _config.on_poll = hook;
    _config.poll_ctx = ctx;
  }

 private:
  static int lcore_main(void* self);
  void release() noexcept;
  // The constructor's steps, in order.
  void open_pcap_file();
  void create_pools(unsigned lcores);
  bool set_up_steering(const dev::port_info& info, std::uint16_t queues);
  core::engine_config engine_template(const dev::port_info& info) const;
  void start_engines(const core::engine_config& shared, std::uint16_t queues);
  void print_banner(const dev::port_info& info, bool rss_ok) const;
  void stats_loop();
  void print_stats(const char* when) const;
  void open_capture(std::uint16_t cores);
  void finish_capture();

  stack_config _config;
  bool _eal_started = false;
  std::atomic<int> _failed_workers{0};
  // Cores whose loop has begun; the last to begin prints "<program>: ready".
  std::atomic<unsigned> _cores_polling{0};
  std::uint16_t _port_id = 0;
  bool _port_open = false;
  std::vector<rte_mempool*> _pools;
  std::vector<core::core_counters> _counters;
  std::unique_ptr<base::rss_table> _rss;
  std::unique_ptr<core::steering_fabric> _steering;
  int _pcap_fd = -1;  // the --pcap file until the capture owns it
  std::unique_ptr<core::capture> _capture;
  std::vector<std::unique_ptr<core::engine>> _engines;
};

}  // namespace kbt::api
