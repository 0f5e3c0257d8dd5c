#include "echo_handler.hh"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace kbt::apps {
namespace {

// The shared source buffer: as many whole pattern cycles as one mbuf of the
// pool holds (2008 bytes in a default mbuf, 8785 at --mtu 9000), so chunk
// after chunk continues the pattern. Larger chunks mean fewer indirect mbufs
// per segment: their reference counting was a third of the sender's core.
std::uint32_t pattern_bytes(rte_mempool* pool) {
  const std::uint32_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
  return std::min<std::uint32_t>(room, UINT16_MAX) / kPatternCycle * kPatternCycle;
}

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

}  // namespace

echo_handler::echo_handler(api::core_context& ctx, const echo_options& opts)
    : _ctx(&ctx), _opts(opts), _sessions(opts.max_conns), _pattern_bytes(pattern_bytes(ctx.pool)) {
  _free.reserve(opts.max_conns);
  for (std::uint32_t i = opts.max_conns; i > 0; --i) _free.push_back(i - 1);
  if (opts.mode == echo_mode::source) {
    // Several copies: each indirect mbuf holds a reference, and one
    // buffer's 16-bit reference count would overflow with many connections.
    for (auto& pattern : _patterns) {
      pattern = rte_pktmbuf_alloc(ctx.pool);
      auto* p = pattern != nullptr
                    ? reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(pattern, _pattern_bytes))
                    : nullptr;
      if (p == nullptr) throw std::runtime_error("no mbuf for the source pattern");
      for (std::uint32_t i = 0; i < _pattern_bytes; ++i) {
        p[i] = static_cast<std::uint8_t>(i % kPatternCycle);
      }
    }
  }
}

echo_handler::echo_handler(echo_handler&& o) noexcept
    : _ctx(o._ctx), _opts(o._opts), _sessions(std::move(o._sessions)), _free(std::move(o._free)),
      _pattern_bytes(o._pattern_bytes), _patterns(std::exchange(o._patterns, {})),
      _next_pattern(o._next_pattern) {}

echo_handler::~echo_handler() {
  for (auto& s : _sessions) rte_pktmbuf_free(s.pending);
  for (rte_mbuf* p : _patterns) rte_pktmbuf_free(p);
}

echo_handler::session* echo_handler::session_of(api::connection c) {
  const auto i = reinterpret_cast<std::uintptr_t>(c.user());
  return i == 0 ? nullptr : &_sessions[i - 1];
}

void echo_handler::start_session(api::connection c) {
  if (_free.empty()) {
    c.abort();  // more connections than --max-conns sessions: refuse loudly
    return;
  }
  const std::uint32_t i = _free.back();
  _free.pop_back();
  session& s = _sessions[i];
  s = session{};
  s.start_ns = now();
  s.last_ns = s.start_ns;
  crypto_hash_sha256_init(&s.sha);
  c.set_user(reinterpret_cast<void*>(std::uintptr_t{i} + 1));
  if (_opts.mode == echo_mode::source) pump_source(c, s);
}

void echo_handler::on_data(api::connection c, api::rx_data& d) {
  session* s = session_of(c);
  if (s == nullptr) return;
  s->bytes += d.size();
  s->last_ns = now();
  switch (_opts.mode) {
    case echo_mode::discard:
      if (!_opts.hash) break;
      for (auto span : d) {
        crypto_hash_sha256_update(&s->sha, reinterpret_cast<const unsigned char*>(span.data()),
                                  span.size());
      }
      break;
    case echo_mode::echo: {
      // The received mbufs go straight back out: no copy.
      rte_mbuf* m = d.take();
      if (s->pending == nullptr) {
        s->pending = m;
      } else if (rte_pktmbuf_chain(s->pending, m) != 0) {
        // Too many segments to hold: echo would lose bytes, so say so.
        rte_pktmbuf_free(m);
        c.abort();
        return;
      }
      flush_echo(c, *s);
      break;
    }
    case echo_mode::source:
      break;  // what the peer sends to a source is ignored
  }
}

void echo_handler::flush_echo(api::connection c, session& s) {
  if (s.pending == nullptr) return;
  api::tx_buffer b(s.pending);
  s.pending = nullptr;
  if (c.send(b) == 0) {
    // No room: hold it and stop reading, so our window closes and the peer
    // waits, instead of data piling up here.
    s.pending = b.release();
    c.pause_reading();
    return;
  }
  c.resume_reading();
  finish_if_done(c, s);
}

void echo_handler::pump_source(api::connection c, session& s) {
  for (int guard = 0; guard < 1024; ++guard) {
    // The peer's FIN does not end a source with --bytes (echo_close.hh).
    const std::uint64_t left = source_left(progress(s), _pattern_bytes);
    if (left == 0) break;
    const auto n = static_cast<std::uint16_t>(std::min<std::uint64_t>(left, _pattern_bytes));
    if (c.send_space() < n) break;
    rte_mbuf* m = rte_pktmbuf_alloc(_ctx->pool);
    if (m == nullptr) break;
    // Indirect: the payload is a shared pattern buffer, never copied.
    rte_pktmbuf_attach(m, _patterns[_next_pattern++ % _patterns.size()]);
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(_pattern_bytes - n));
    api::tx_buffer b(m);
    if (c.send(b) == 0) break;  // the buffer frees the indirect mbuf
    s.bytes += n;
  }
  finish_if_done(c, s);
}

source_progress echo_handler::progress(const session& s) const noexcept {
  return {.limit = _opts.source_bytes, .queued = s.bytes, .peer_fin = s.peer_fin, .stop = s.stop};
}

void echo_handler::finish_if_done(api::connection c, session& s) {
  if (s.fin_sent) return;
  const bool done = _opts.mode == echo_mode::source
                        ? source_done(progress(s))
                        : echo_done(s.peer_fin, s.stop, s.pending != nullptr, c.unread_bytes());
  if (!done) return;
  s.fin_sent = true;
  c.shutdown();
}

void echo_handler::on_peer_fin(api::connection c) {
  session* s = session_of(c);
  if (s == nullptr) return;
  s->peer_fin = true;
  finish_if_done(c, *s);
}

void echo_handler::on_writable(api::connection c) {
  session* s = session_of(c);
  if (s == nullptr) return;
  if (_opts.mode == echo_mode::echo) flush_echo(c, *s);
  if (_opts.mode == echo_mode::source) pump_source(c, *s);
}

void echo_handler::on_acked(api::connection c, std::uint64_t bytes) {
  if (session* s = session_of(c); s != nullptr) {
    s->acked += bytes;
    s->last_ns = now();
  }
  on_writable(c);
}

void echo_handler::finish(api::connection c) {
  session* s = session_of(c);
  if (s == nullptr) return;
  s->stop = true;
  finish_if_done(c, *s);
}

void echo_handler::on_closed(api::connection c, api::close_reason why) {
  const auto summary = end_session(c, why);
  if (summary && _opts.mode == echo_mode::discard) {
    std::printf("%s\n", format_summary(*summary).c_str());
    std::fflush(stdout);
  }
}

std::optional<session_summary> echo_handler::end_session(api::connection c,
                                                         api::close_reason why) {
  session* s = session_of(c);
  if (s == nullptr) return std::nullopt;
  session_summary out;
  out.mode = _opts.mode;
  out.peer_ip = c.tuple().remote_ip;
  out.peer_port = c.tuple().remote_port;
  out.bytes = _opts.mode == echo_mode::source ? s->acked : s->bytes;
  out.ns = s->last_ns - s->start_ns;
  out.reason = why;
  if (_opts.mode == echo_mode::discard && _opts.hash) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&s->sha, digest);
    out.sha256 = hex(digest, sizeof digest);
  }
  rte_pktmbuf_free(s->pending);
  s->pending = nullptr;
  _free.push_back(static_cast<std::uint32_t>(s - _sessions.data()));
  c.set_user(nullptr);
  return out;
}

}  // namespace kbt::apps
