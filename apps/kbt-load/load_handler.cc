#include "load_handler.hh"

#include <algorithm>
#include <cstdio>

#include "dev/stop_signal.hh"

namespace kbt::load {
namespace {

constexpr std::uint64_t kSec = 1'000'000'000;
// After a failed connect or a broken connection, before the slot tries again.
constexpr std::uint64_t kRetryNs = 100'000'000;
// connect() found no TCB or port free (--close churn): try again soon.
constexpr std::uint64_t kDeferNs = 1'000'000;
// Core 0 stops the stack when every core has finished, or this long after its end.
constexpr std::uint64_t kStopGraceNs = 2 * kSec;

}  // namespace

load_handler::load_handler(api::core_context& ctx, const load_config& cfg, run_state& run,
                           std::uint32_t first, std::uint32_t count)
    : _ctx(&ctx), _cfg(&cfg), _run(&run), _stats(run.cores.at(ctx.core).get()), _slots(count),
      _timers(count), _first(first) {
  const std::uint32_t depth = std::max<std::uint32_t>(1, cfg.pipeline);
  _window_room.resize(std::size_t{count} * depth);
  for (std::size_t i = 0; i < _slots.size(); ++i) {
    _slots[i].parser.set_no_body(cfg.head);
    _slots[i].window = request_window(std::span(_window_room).subspan(i * depth, depth));
  }
  if (cfg.connect_rate > 0) {
    // Each core takes its share of the rate.
    const double gap = static_cast<double>(run.core_count) * 1e9 / cfg.connect_rate;
    _connect_gap_ns = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(gap));
  }
  if (cfg.rate > 0) {
    const double t = static_cast<double>(cfg.connections) * 1e9 / cfg.rate;
    _interval_ns = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(t));
  }
}

load_handler::slot* load_handler::slot_of(const api::connection& c) noexcept {
  const auto i = reinterpret_cast<std::uintptr_t>(c.user());
  return i == 0 ? nullptr : &_slots[i - 1];
}

std::uint64_t load_handler::take_origin(slot& s) noexcept {
  if (!open_loop()) return now();
  const std::uint64_t origin = s.next_sched;
  s.next_sched += _interval_ns;
  return origin;
}

// ---- the poll: start, scheduled work, the end

void load_handler::on_poll(api::core_context& ctx) noexcept {
  const std::uint64_t t = base::ns_since_start(ctx.now);
  if (!_started) start(t);
  if (_finished) {
    // This core is done once the RSTs of its aborts have all gone (some may
    // wait for tx room): the server must not be left holding connections.
    if (!_drained && ctx.engine->tx_idle()) {
      _drained = true;
      _run->finished.fetch_add(1, std::memory_order_acq_rel);
    }
    // Core 0 ends the run once every core has closed its connections.
    if (ctx.core == 0 && !_stop_sent &&
        (_run->finished.load(std::memory_order_acquire) == _run->core_count ||
         t >= _end + kStopGraceNs)) {
      _stop_sent = true;
      dev::request_stop();
    }
    return;
  }
  if (t < _load_start) return;
  _stats->elapsed_ns = t - _load_start;
  if (ctx.core == 0) {
    if (t >= _end) _run->time_up.store(true, std::memory_order_release);
    if (_cfg->progress && t >= _next_progress) print_progress(t);
  }
  if (t >= _end || _run->time_up.load(std::memory_order_acquire)) {
    finish(t);
    return;
  }
  _timers.run_due(t, [this, t](std::uint32_t i) { visit(_slots[i], t); });
}

void load_handler::start(std::uint64_t now_ns) noexcept {
  _started = true;
  _load_start = now_ns + _cfg->start_delay_ns;
  _end = _load_start + _cfg->duration_ns;
  _next_progress = _load_start + kSec;
  _last_progress_ns = _load_start;
  // Open loop: the slots' schedules are spread over one interval. Keep-alive
  // connections all open at the start, as wrk2's do, and wait for their
  // first scheduled request; with --close each request is a connect, so
  // those follow the schedule.
  const std::uint64_t spread = open_loop() ? _interval_ns : 0;
  for (std::size_t i = 0; i < _slots.size(); ++i) {
    const auto g = static_cast<double>(_first + i);
    const auto offset =
        static_cast<std::uint64_t>(static_cast<double>(spread) * g / _cfg->connections);
    _slots[i].due = _cfg->close ? _load_start + offset : _load_start;
    _slots[i].next_sched = _load_start + offset;
    wake_at(_slots[i], _slots[i].due);
  }
}

void load_handler::visit(slot& s, std::uint64_t now_ns) noexcept {
  switch (s.state) {
    case slot_state::idle:
      if (now_ns >= s.due) open_connection(s);
      break;
    case slot_state::connecting:
      if (now_ns >= s.deadline) fail(s, s.conn, error_kind::connect, true);
      break;
    case slot_state::open:
      if (now_ns >= s.due) fill(s, s.conn);
      break;
    case slot_state::sending:
      if (now_ns >= s.deadline) fail(s, s.conn, error_kind::timeout, true);
      break;
    case slot_state::waiting:
      if (now_ns >= s.deadline) {
        fail(s, s.conn, error_kind::timeout, true);
      } else if (!s.window.full() && now_ns >= s.due) {
        fill(s, s.conn);  // --pipeline with --rate: the next one's time has come
      }
      break;
    case slot_state::draining:
      // The server said close but did not: not a failed request.
      if (now_ns >= s.deadline) drop(s, s.conn, true, next_start(s));
      break;
  }
  const bool by_due = s.state == slot_state::idle || s.state == slot_state::open;
  wake_at(s, by_due ? s.due : s.deadline);
  if (s.state == slot_state::waiting && !s.window.full()) wake_at(s, s.due);
}

void load_handler::finish(std::uint64_t now_ns) noexcept {
  _finished = true;
  _timers.cancel_all();
  _stats->elapsed_ns = std::min(now_ns, _end) - _load_start;
  // What is still in flight is not counted (as wrk does), only reported.
  for (slot& s : _slots) {
    if (s.state == slot_state::connecting) ++_stats->pending_connects_at_end;
    if (s.state == slot_state::waiting || s.state == slot_state::sending) {
      _stats->pending_requests_at_end += s.window.size();
    }
    s.window.clear();
    if (s.state != slot_state::idle) {
      s.conn.set_user(nullptr);
      s.conn.abort();  // RST: the server forgets us at once
      s.conn = {};
    }
    s.state = slot_state::idle;
  }
}

void load_handler::print_progress(std::uint64_t now_ns) noexcept {
  std::uint64_t responses = 0;
  std::uint64_t errors = 0;
  for (const auto& c : _run->cores) {
    responses += c->responses.get();
    errors += c->errors.get();
  }
  const double dt = static_cast<double>(now_ns - _last_progress_ns) / 1e9;
  const double rps = dt > 0 ? static_cast<double>(responses - _last_responses) / dt : 0.0;
  std::fprintf(stderr, "kbt-load: t=%llus requests=%llu rps=%.0f errors=%llu\n",
               static_cast<unsigned long long>((now_ns - _load_start + kSec / 2) / kSec),
               static_cast<unsigned long long>(responses), rps,
               static_cast<unsigned long long>(errors));
  _last_progress_ns = now_ns;
  _last_responses = responses;
  _next_progress += kSec;
}

// ---- one slot's life

void load_handler::open_connection(slot& s) noexcept {
  if (_connect_gap_ns != 0) {
    // --connect-rate: a ramp, as a new connection may start only every gap.
    if (now() < _next_connect) {
      s.due = _next_connect;
      return;
    }
    _next_connect = std::max(now(), _next_connect) + _connect_gap_ns;
  }
  const auto index = static_cast<std::uintptr_t>(&s - _slots.data()) + 1;
  api::connection c = api::connect(*_ctx, _cfg->ip, _cfg->port, reinterpret_cast<void*>(index));
  if (!c.valid()) {
    ++_stats->connect_deferred;  // no TCB or source port free now
    s.due = now() + kDeferNs;
    return;
  }
  // With --close the request's time starts at the connect.
  s.origin = _cfg->close ? take_origin(s) : 0;
  s.conn = c;
  s.state = slot_state::connecting;
  s.deadline = now() + _cfg->timeout_ns;
}

void load_handler::on_connected(api::connection c) noexcept {
  slot* s = slot_of(c);
  if (s == nullptr) return;
  ++_stats->connects;
  // Not an error, but it cost a SYN timeout: never hidden (a peer's
  // TIME_WAIT refusing a reused tuple looks like this).
  if (c.syn_retransmits() > 0) ++_stats->syn_retransmitted;
  c.set_nodelay(true);
  s->state = slot_state::open;
  if (_cfg->close) {
    send_request(*s, c);  // its time started at the connect
    return;
  }
  ready_for_next(*s, c);
}

void load_handler::ready_for_next(slot& s, api::connection c) noexcept {
  s.state = slot_state::open;
  fill(s, c);
}

void load_handler::fill(slot& s, api::connection c) noexcept {
  // Bounded by the window: each pass sends one request or leaves.
  while ((s.state == slot_state::open || s.state == slot_state::waiting) && !s.window.full()) {
    s.due = next_start(s);
    if (s.due > now()) {
      wake_at(s, s.due);  // open loop: not its time yet
      return;
    }
    send_request(s, c);
  }
}

void load_handler::send_request(slot& s, api::connection c) noexcept {
  // --close: the request's time started at the connect.
  const std::uint64_t origin = _cfg->close ? s.origin : take_origin(s);
  if (s.window.empty()) {
    // The timeout covers the whole exchange, a wait for send room included;
    // with requests pipelined, it runs for the oldest one (response_done).
    s.parser.reset();
    s.deadline = now() + _cfg->timeout_ns;
    wake_at(s, s.deadline);
  }
  s.window.push(origin);
  s.sent = 0;
  push_request(s, c);
}

void load_handler::push_request(slot& s, api::connection c) noexcept {
  const std::string& r = _cfg->request;
  s.sent += static_cast<std::uint32_t>(
      c.send_copy({reinterpret_cast<const std::byte*>(r.data()) + s.sent, r.size() - s.sent}));
  if (s.sent == r.size()) {
    s.state = slot_state::waiting;
    return;
  }
  if (!c.valid()) {
    fail(s, c, error_kind::closed, true);
    return;
  }
  // The core's send memory is spent for now (lib/tcp/memory.cc): the rest
  // goes when the stack says there is room. Counted in the latency.
  s.state = slot_state::sending;
}

void load_handler::on_writable(api::connection c) noexcept {
  slot* s = slot_of(c);
  if (s == nullptr || s->state != slot_state::sending) return;
  push_request(*s, c);
  fill(*s, c);  // --pipeline: the window may have room for more
}

void load_handler::on_data(api::connection c, api::rx_data& d) noexcept {
  slot* s = slot_of(c);
  if (s == nullptr) return;
  for (std::span<const std::byte> piece : d) {
    while (!piece.empty()) {
      if (s->state != slot_state::waiting && s->state != slot_state::sending) {
        fail(*s, c, error_kind::parse, true);  // bytes nobody asked for
        return;
      }
      const feed_result r = s->parser.feed(piece);
      piece = piece.subspan(r.consumed);
      if (r.state == parse_state::error) {
        fail(*s, c, error_kind::parse, true);
        return;
      }
      if (r.state == parse_state::complete) response_done(*s, c);
    }
  }
}

void load_handler::response_done(slot& s, api::connection c) noexcept {
  const int status = s.parser.status();
  _stats->latency.record(now() - s.window.pop());
  _stats->statuses.add(status);
  if (status >= 200 && status < 400) {
    ++_stats->ok;
  } else {
    ++_stats->non2xx;
  }
  _stats->body_bytes += s.parser.body_bytes();
  _stats->responses.add();
  const bool closes = s.parser.closes() || _cfg->close;
  s.parser.reset();
  if (closes) {
    // RFC 9112 §9.6: nothing after a response that closes is answered; the
    // requests pipelined behind it failed, and count so.
    if (!s.window.empty()) count_failed(error_kind::closed, s.window.size());
    s.window.clear();
    // Let the server close first, so the TIME_WAIT (and its port) is its.
    s.state = slot_state::draining;
    s.deadline = now() + _cfg->timeout_ns;
    wake_at(s, s.deadline);
    return;
  }
  if (s.window.empty()) {
    ready_for_next(s, c);
    return;
  }
  // --pipeline: the next response is due within --timeout of this one, and
  // the window has room for one more request.
  s.deadline = now() + _cfg->timeout_ns;
  wake_at(s, s.deadline);
  fill(s, c);
}

void load_handler::on_peer_fin(api::connection c) noexcept {
  slot* s = slot_of(c);
  if (s == nullptr) return;
  if (s->state == slot_state::waiting || s->state == slot_state::sending) {
    // A body that runs until the close ends here; anything else was cut short.
    if (!s->parser.finish_at_eof()) {
      fail(*s, c, error_kind::closed, false);
      return;
    }
    response_done(*s, c);
  }
  // Idle keep-alive or draining: the server is done with us; connect again.
  drop(*s, c, false, next_start(*s));
}

void load_handler::on_closed(api::connection c, api::close_reason why) noexcept {
  slot* s = slot_of(c);
  if (s == nullptr) return;
  switch (s->state) {
    case slot_state::connecting:
      fail(*s, c, error_kind::connect, false);
      return;
    case slot_state::sending:
    case slot_state::waiting:
      fail(*s, c, why == api::close_reason::reset ? error_kind::reset : error_kind::closed, false);
      return;
    case slot_state::idle:
    case slot_state::open:
    case slot_state::draining:
      // No request outstanding: the connection's end costs nothing.
      drop(*s, c, false, why == api::close_reason::normal ? next_start(*s) : now() + kRetryNs);
      return;
  }
}

void load_handler::drop(slot& s, api::connection c, bool abort, std::uint64_t due) noexcept {
  c.set_user(nullptr);  // no callbacks for it reach a slot again
  if (abort) {
    c.abort();
  } else {
    c.close();
  }
  s.conn = {};
  s.state = slot_state::idle;
  s.parser.reset();
  s.window.clear();
  s.due = due;
  wake_at(s, due);
}

void load_handler::count_failed(error_kind why, std::uint64_t n) noexcept {
  _stats->errors_by_kind[static_cast<std::size_t>(why)] += n;
  _stats->errors.add(n);
}

void load_handler::fail(slot& s, api::connection c, error_kind why, bool abort) noexcept {
  // Each outstanding request failed (--pipeline: up to N); a connect, one.
  count_failed(why, std::max<std::uint64_t>(1, s.window.size()));
  // Open loop: the failed request's turn is over; the schedule goes on.
  drop(s, c, abort, std::max(now() + kRetryNs, next_start(s)));
}

}  // namespace kbt::load
