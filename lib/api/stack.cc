#include "api/stack.hh"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "base/clock.hh"
#include "api/telemetry.hh"
#include "core/boot_key.hh"
#include "core/capture.hh"
#include "core/engine.hh"
#include "core/steering.hh"
#include "dev/rss.hh"
#include "ip/source_range.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"
#include "dev/eal_runtime_dir.hh"
#include "dev/port.hh"
#include "base/startup_error.hh"
#include "dev/stop_signal.hh"
#include "tcp/counters.hh"

namespace kbt::api {
namespace {

void start_eal(const std::vector<std::string>& eal_args, const std::string& program) {
  // EAL's start-up chatter is at info level; show warnings and worse unless
  // the user asks for more with --log-level (parsed by rte_eal_init).
  rte_log_set_global_level(RTE_LOG_WARNING);
  // rte_eal_init may reorder argv, so hand it copies it can own.
  std::vector<std::string> storage = eal_args;
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  dev::arm_rmdir_at_exit();
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    // rte_errno is 0 when the EAL failed on its own resources (the lock on
    // another process's --file-prefix): its "EAL:" lines above say which.
    const std::string why = rte_errno != 0 ? std::string(" (") + rte_strerror(rte_errno) + ")" : "";
    throw base::startup_error("the DPDK EAL did not start" + why +
                             "; EAL arguments go before --, " + program +
                             "'s own after it (see --help and the EAL: lines above)");
  }
}

// Every core and every process of this boot shares one ISN key, so that a
// 4-tuple's ISN and TSval offset are the same function of time in each.
tcp::siphash_key boot_isn_key(const stack_config& config) {
  if (!config.tcp_on && config.tcp_listen.empty()) return {};
  const std::string path = config.isn_key_file.empty() ? core::kBootKeyPath : config.isn_key_file;
  core::boot_key k = core::load_or_create_boot_key(path);
  if (!k.error.empty()) {
    std::fprintf(stderr,
                 "%s: warning: %s; using a TCP ISN key of this process only, so a peer still "
                 "in TIME_WAIT from an earlier run may refuse the 4-tuples it reuses (RFC 6191)\n",
                 config.program.c_str(), k.error.c_str());
  }
  return k.key;
}

}  // namespace

void request_stop() noexcept { dev::request_stop(); }
bool stop_requested() noexcept { return dev::stop_requested(); }

unsigned default_mbufs_per_core(std::uint32_t max_conns_per_core) noexcept {
  constexpr std::uint64_t kFloor = 16383;
  const std::uint64_t want = 2 * std::uint64_t{max_conns_per_core} + 8192;
  return static_cast<unsigned>(std::max(kFloor, std::bit_ceil(want) - 1));
}

stack::stack(const std::vector<std::string>& eal_args, const stack_config& config)
    : _config(config) {
  if (!config.source_ips.empty()) {
    if (const std::string why = ip::check_source_range(config.source_ips, config.ip); !why.empty()) {
      throw base::startup_error("source addresses " + why);
    }
  }
  start_eal(eal_args, config.program);
  _eal_started = true;
  try {
    // Before the port, so that a bad path is the error a user sees first.
    open_pcap_file();
    _port_id = dev::first_port();
    const unsigned lcores = rte_lcore_count();
    const auto queues = static_cast<std::uint16_t>(lcores);
    create_pools(lcores);
    dev::port_config pc;
    pc.port_id = _port_id;
    pc.queues = queues;
    pc.mtu = config.mtu;
    const dev::port_info info = dev::open_port(pc, _pools);
    _port_open = true;

    _counters = std::vector<core::core_counters>(lcores);
    const bool rss_ok = lcores > 1 && set_up_steering(info, queues);
    if (_pcap_fd >= 0) open_capture(queues);
    start_engines(engine_template(info), queues);
    telemetry_attach(this);
    print_banner(info, rss_ok);
  } catch (...) {
    release();
    throw;
  }
}

void stack::open_pcap_file() {
  if (_config.pcap_path.empty()) return;
  _pcap_fd = ::open(_config.pcap_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (_pcap_fd < 0) {
    throw base::startup_error("--pcap " + _config.pcap_path + ": " + std::strerror(errno));
  }
}

void stack::create_pools(unsigned lcores) {
  const unsigned mbufs = _config.mbufs_per_core != 0
                             ? _config.mbufs_per_core
                             : default_mbufs_per_core(_config.max_conns_per_core);
  for (unsigned i = 0; i < lcores; ++i) {
    const std::string name = "kbt_pool_" + std::to_string(i);
    rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), mbufs, 256, 0,
                                                dev::mbuf_data_room(_config.mtu),
                                                static_cast<int>(rte_socket_id()));
    if (pool == nullptr) {
      throw base::startup_error("cannot create a pool of " + std::to_string(mbufs) + " mbufs (" +
                                rte_strerror(rte_errno) +
                                "): give the EAL more memory (-m), or fewer --mbufs");
    }
    _pools.push_back(pool);
  }
}

bool stack::set_up_steering(const dev::port_info& info, std::uint16_t queues) {
  // With the port's own RSS the NIC already spreads flows as rss_table says;
  // without it (TAP, af_packet) cores steer frames to the owner.
  bool rss_ok = false;
  if (info.offloads.rss) {
    try {
      _rss = std::make_unique<base::rss_table>(dev::rss_table_of_port(_port_id, queues));
      rss_ok = true;
    } catch (const base::startup_error&) {
      // A port that takes an RSS configuration but shows no table (TAP says
      // it has 0 entries) spreads by its own rule: cores steer.
      _rss.reset();
    }
  }
  if (!_rss) _rss = std::make_unique<base::rss_table>(queues);
  _steering = std::make_unique<core::steering_fabric>(queues);
  return rss_ok;
}

// What every core's engine shares, built once; start_engines adds each
// core's queue, core number and pool.
core::engine_config stack::engine_template(const dev::port_info& info) const {
  core::engine_config ec;
  ec.port_id = _port_id;
  ec.mac = info.mac;
  ec.ip = _config.ip;
  ec.sources = _config.source_ips;
  ec.gateway = _config.gateway;
  ec.mtu = _config.mtu;  // the port's (configure_port): what leaves whole, or in fragments
  ec.offloads = info.offloads;
  ec.tcp = tcp_enabled(_config, false);
  ec.reassembly.timeout_ns = _config.ip_frag_timeout_ns;
  ec.tcp_layer.tcp = _config.tcp;
  // RFC 9293 §3.7.1: the MSS we advertise is the port's MTU less the fixed
  // IPv4 and TCP headers (the stack's MTU is the one setting of both).
  ec.tcp_layer.tcp.mss =
      static_cast<std::uint16_t>(_config.mtu - wire::kIpv4MinHeaderLen - wire::kTcpMinHeaderLen);
  ec.tcp_layer.max_conns = _config.max_conns_per_core;
  ec.tcp_layer.port_first = _config.local_port_first;
  ec.tcp_layer.port_last = _config.local_port_last;
  ec.tcp_layer.isn_key = boot_isn_key(_config);
  ec.rss = _rss.get();
  ec.steering = _steering.get();
  ec.capture = _capture.get();
  return ec;
}

void stack::start_engines(const core::engine_config& shared, std::uint16_t queues) {
  for (std::uint16_t q = 0; q < queues; ++q) {
    core::engine_config ec = shared;
    ec.queue_id = q;
    ec.core = q;
    ec.pool = _pools[q];
    _engines.push_back(std::make_unique<core::engine>(ec, _counters[q]));
    for (std::uint16_t port : _config.tcp_listen) _engines.back()->tcp()->listen(port);
  }
}

void stack::print_banner(const dev::port_info& info, bool rss_ok) const {
  const unsigned lcores = static_cast<unsigned>(_engines.size());
  std::printf("%s: port %u (%s) mac %s ip %s/%u, %u core(s)%s\n", _config.program.c_str(),
              _port_id, info.driver.c_str(), wire::to_string(info.mac).c_str(),
              wire::to_string(_config.ip.addr).c_str(), _config.ip.length, lcores,
              lcores == 1 ? "" : rss_ok ? ", RSS" : ", software steering");
  if (!_config.source_ips.empty()) {
    std::printf("%s: source addresses %s-%s (%u), ports %u-%u each\n", _config.program.c_str(),
                wire::to_string(_config.source_ips.first).c_str(),
                wire::to_string(_config.source_ips.last()).c_str(), _config.source_ips.count,
                _config.local_port_first, _config.local_port_last);
  }
  std::fflush(stdout);
}

stack::~stack() { release(); }

void stack::release() noexcept {
  telemetry_detach(this);
  _engines.clear();
  _steering.reset();  // frees frames still in flight between cores, before the port goes
  _capture.reset();   // after the engines, which hold a pointer to it
  if (_pcap_fd >= 0) ::close(_pcap_fd);
  _pcap_fd = -1;
  if (_port_open) {
    dev::close_port(_port_id);
    _port_open = false;
  }
  for (rte_mempool* p : _pools) rte_mempool_free(p);
  _pools.clear();
  if (_eal_started) {
    // Only a primary made the runtime directory's files; a process that
    // shares another's prefix must leave them to it.
    const bool primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    if (primary) {
      dev::remove_eal_runtime_dir(runtime_dir);
      dev::rmdir_at_exit(runtime_dir);  // once telemetry has unlinked its socket
    }
  }
  _eal_started = false;
}

int stack::lcore_main(void* arg) {
  auto* self = static_cast<stack*>(arg);
  const int index = rte_lcore_index(static_cast<int>(rte_lcore_id()));
  if (index < 0 || static_cast<std::size_t>(index) >= self->_engines.size()) {
    self->_failed_workers.fetch_add(1, std::memory_order_relaxed);
    dev::request_stop();
    return -1;
  }
  core::engine& e = *self->_engines[static_cast<std::size_t>(index)];
  const base::tsc_clock clock;
  e.set_clock_origin(base::monotonic_ns());  // now 0 is this moment since boot
  if (index == 0) e.announce(clock.now());
  // One line once every core polls: what a script waits for before it sends
  // (the banner comes before the loops begin, a stats line a whole interval
  // after).
  if (self->_cores_polling.fetch_add(1, std::memory_order_acq_rel) + 1 == self->_engines.size()) {
    std::printf("%s: ready\n", self->_config.program.c_str());
    std::fflush(stdout);
  }
  const auto hook = self->_config.on_poll;
  void* const ctx = self->_config.poll_ctx;
  while (!dev::stop_requested()) {
    const base::instant now = clock.now();
    e.poll(now, hook, ctx);
  }
  return 0;
}

int stack::run() {
  dev::install_stop_signals();
  std::thread stats([this] { stats_loop(); });
  rte_eal_mp_remote_launch(&stack::lcore_main, this, CALL_MAIN);
  rte_eal_mp_wait_lcore();
  dev::request_stop();  // a worker that failed must also stop the stats thread
  stats.join();
  print_stats("final");
  finish_capture();
  return _failed_workers.load() == 0 ? 0 : 1;
}

const tcp::tcp_counters* stack::tcp_counters_of(unsigned i) const noexcept {
  core::engine& e = *_engines[i];
  return e.tcp() != nullptr ? &e.tcp()->counters() : nullptr;
}

unsigned stack::mbufs_in_use() const noexcept {
  unsigned n = 0;
  // Read from another thread while the cores work: a moment's figure.
  for (const rte_mempool* p : _pools) n += p->size - rte_mempool_avail_count(p);
  return n;
}

core::counters_snapshot stack::totals() const noexcept {
  core::counters_snapshot s;
  for (const auto& c : _counters) s.add(c);
  return s;
}

std::vector<std::pair<std::string, std::uint64_t>> stack::tcp_totals(unsigned first,
                                                                     unsigned last) const {
  std::vector<std::pair<std::string, std::uint64_t>> sum;
  for (unsigned i = first; i < last; ++i) {
    const tcp::tcp_counters* t = tcp_counters_of(i);
    if (t == nullptr) continue;
    struct ctx {
      std::vector<std::pair<std::string, std::uint64_t>>* sum;
      std::size_t next = 0;
    } c{&sum};
    tcp::for_each_counter(
        *t,
        [](void* p, const char* name, std::uint64_t v) {
          auto* x = static_cast<ctx*>(p);
          if (x->next == x->sum->size()) x->sum->emplace_back(std::string("tcp_") + name, 0);
          (*x->sum)[x->next++].second += v;
        },
        &c);
  }
  return sum;
}

// The TCP counters that are not zero follow the engine's: a line stays
// short on a quiet stack and shows what happened on a busy one.
void stack::print_stats(const char* when) const {
  std::string tcp;
  for (const auto& [name, v] : tcp_totals(0, cores())) {
    if (v != 0) tcp += ' ' + name + '=' + std::to_string(v);
  }
  if (_config.app_stats != nullptr) _config.app_stats(tcp, _config.app_stats_ctx);
  std::printf("kbt stats: %s mbufs_in_use=%u%s when=%s\n", totals().format().c_str(),
              mbufs_in_use(), tcp.c_str(), when);
  std::fflush(stdout);
}

void stack::open_capture(std::uint16_t cores) {
  core::capture_config cc;
  cc.port_id = _port_id;
  cc.cores = cores;
  cc.limit = _config.pcap_limit;
  // Room for the whole capture (up to 64k copies a core, 512 KB of
  // pointers): on a machine with no core to spare, the writer thread gets
  // the CPU only when the scheduler takes it from a polling core, and a
  // queue of 4,096 lost a tenth of a 30,000-packet capture of 3,000
  // connects (interop-source-ips). The copy pool already holds 2 x limit.
  cc.queue_capacity = static_cast<std::uint32_t>(
      std::clamp<std::uint64_t>(_config.pcap_limit, cc.queue_capacity, 65536));
  cc.app_name = _config.program;
  const int fd = _pcap_fd;
  _pcap_fd = -1;  // the capture closes it, also when it throws
  _capture = std::make_unique<core::capture>(fd, cc);
}

// The cores have stopped: what is queued goes to the file, which is closed.
void stack::finish_capture() {
  if (!_capture) return;
  _capture->stop();
  std::string line = _config.program + ": pcap " + _config.pcap_path + ": " +
                     std::to_string(_capture->written()) + " packets written, " +
                     std::to_string(_capture->not_captured()) + " not captured";
  if (_capture->write_error() != 0) {
    line += " (writing failed: " + std::string(std::strerror(_capture->write_error())) + ")";
  }
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void stack::stats_loop() {
  using namespace std::chrono;
  const auto interval = seconds(_config.stats_interval_s);
  auto next = steady_clock::now() + interval;
  // Short sleeps so a stop is noticed within 50 ms.
  while (!dev::stop_requested()) {
    std::this_thread::sleep_for(milliseconds(50));
    if (_config.stats_interval_s == 0 || steady_clock::now() < next) continue;
    print_stats("interval");
    next += interval;
  }
}

}  // namespace kbt::api
