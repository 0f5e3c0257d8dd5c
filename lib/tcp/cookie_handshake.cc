#include "tcp/cookie_handshake.hh"

#include <algorithm>

namespace kbt::tcp {

using wire::tcp_flag::kAck;
using wire::tcp_flag::kSyn;

void cookie_handshake::send_synack(const four_tuple& t, const wire::tcp_repr& syn,
                                   std::uint32_t ts_offset, base::instant now) noexcept {
  const wire::seq32 iss = entry_iss(t, syn, now);
  wire::tcp_options o;
  o.mss = _config.mss;
  if (_config.timestamps && syn.options.timestamps.has_value()) {
    const bool ws = _config.window_scaling && syn.options.window_scale.has_value();
    const bool sack = _config.sack && syn.options.sack_permitted;
    std::optional<std::uint8_t> peer_ws;
    if (ws) {
      peer_ws = std::min<std::uint8_t>(*syn.options.window_scale, syn_cookie_jar::kMaxWscale);
      o.window_scale = rcv_wscale_for(_config);
    }
    o.sack_permitted = sack;
    const std::uint32_t ts_now = _ts.tsval(now, ts_offset);
    o.timestamps = wire::tcp_timestamps{syn_cookie_jar::encode_ts(ts_now, peer_ws, sack),
                                        syn.options.timestamps->tsval};
  }
  const auto window =
      static_cast<std::uint16_t>(std::min<std::uint32_t>(_config.rcv_buffer, 0xffff));
  _out.send(t, iss, syn.seq + 1, kSyn | kAck, window, o);
  _last_sent = now;
  _counters.syncookies_sent.add();
}

std::optional<std::uint16_t> cookie_handshake::check_ack(const four_tuple& t,
                                                         const wire::tcp_repr& ack,
                                                         base::instant now) noexcept {
  const auto mss = _jar.check(t, ack.seq, ack.ack, now);
  if (!mss) _counters.syncookies_invalid.add();
  return mss;
}

std::optional<cookie_grant> cookie_handshake::grant(const wire::tcp_repr& ack,
                                                    std::uint16_t mss) noexcept {
  cookie_grant g;
  g.mss = mss;
  g.ts_ok = _config.timestamps && ack.options.timestamps.has_value();
  if (!g.ts_ok) return g;
  const auto opts = syn_cookie_jar::decode_ts(ack.options.timestamps->tsecr);
  if (!opts) {
    _counters.syncookies_invalid.add();
    return std::nullopt;
  }
  g.ws_ok = opts->wscale.has_value() && _config.window_scaling;
  g.sack_ok = opts->sack_permitted && _config.sack;
  g.snd_wscale = g.ws_ok ? *opts->wscale : 0;
  return g;
}

}  // namespace kbt::tcp
