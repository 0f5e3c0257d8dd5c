#include "echo_client.hh"

#include <cstdio>

#include "dev/stop_signal.hh"

namespace kbt::apps {
namespace {

// After our FIN, how long the close may take before the run gives up.
constexpr std::uint64_t kCloseGraceNs = 10'000'000'000;
// After the close, before the stack stops: time for our last ACK to reach
// the peer (over memif it would vanish with our side of the link), so the
// peer closes too instead of retransmitting its FIN to nobody.
constexpr std::uint64_t kLingerNs = 200'000'000;

std::string seconds_text(std::uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(ns) / 1e9);
  return buf;
}

}  // namespace

echo_client::echo_client(api::core_context& ctx, const echo_options& opts,
                         const client_options& client, client_result& result)
    : echo_handler(ctx, opts), _client(client), _result(&result) {}

void echo_client::on_connected(api::connection c) {
  echo_handler::on_connected(c);
  _connected = true;
  _end = now() + _client.duration_ns;
}

void echo_client::on_poll(api::core_context& ctx) {
  if (ctx.core != 0 || _stopping) return;
  const std::uint64_t t = base::ns_since_start(ctx.now);
  if (_closed) {
    if (t >= _stop_at) {
      _stopping = true;
      dev::request_stop();
    }
    return;
  }
  if (!_opened) {
    _opened = true;
    _connect_by = t + _client.connect_timeout_ns;
    _conn = api::connect(ctx, _client.target.ip, _client.target.port);
    if (!_conn.valid()) fail("cannot open a connection to " + peer() + " (no free port or TCB)");
    return;
  }
  if (!_connected) {
    if (t >= _connect_by) {
      _conn.abort();
      fail("no connection to " + peer() + " within " + seconds_text(_client.connect_timeout_ns));
    }
    return;
  }
  if (!_finishing && t >= _end) {
    _finishing = true;
    finish(_conn);
  } else if (_finishing && t >= _end + kCloseGraceNs && _conn.valid()) {
    _conn.abort();
    fail("the connection to " + peer() + " did not close within " + seconds_text(kCloseGraceNs) +
         " of our FIN");
  }
}

void echo_client::on_closed(api::connection c, api::close_reason why) {
  auto summary = end_session(c, why);
  if (!_stopping) {
    if (!summary) {
      fail("connection to " + peer() + " " + std::string(tcp::to_string(why)) +
           (why == api::close_reason::refused ? " (nothing listens there)" : ""));
    } else if (why != api::close_reason::normal) {
      fail("the connection ended early: " + std::string(tcp::to_string(why)));
    }
  }
  if (summary) {
    summary->client = true;
    std::printf("%s\n", format_summary(*summary).c_str());
    std::fflush(stdout);
    _result->summary = std::move(summary);
  }
  _closed = true;
  _stop_at = now() + kLingerNs;
}

std::string echo_client::peer() const {
  return wire::to_string(_client.target.ip) + ":" + std::to_string(_client.target.port);
}

void echo_client::fail(const std::string& why) {
  if (_result->error.empty()) _result->error = why;
  _stopping = true;
  dev::request_stop();
}

}  // namespace kbt::apps
