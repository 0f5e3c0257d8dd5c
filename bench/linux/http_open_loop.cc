// linux-http-open-loop: the Linux side of the latency benchmark
// (bench/linux_side.sh latency): an open-loop HTTP/1.1 keep-alive client on
// kernel sockets, built on kbt-load's model so that both sides are measured
// the same way.
//
// - Slot g of N sends at start + g*T/N + k*T, T = N/rate (kbt-load's open
//   loop, wrk2's model). A slot whose response is late sends its next
//   request as soon as the response is in; latency runs from the request's
//   *scheduled* time, so the wait shows in the latency (coordinated
//   omission corrected).
// - Responses are parsed by kbt-load's parser and latencies recorded in
//   kbt-load's histogram (apps/kbt-load/), so the percentiles are computed
//   by the same code on both sides.
// - One thread busy-polls epoll (timeout 0), as kbt-load's per-core loop
//   polls its queue: no wake-up latency or timer slack on the sending side.
// - The N connections are opened before the clock starts; requests still in
//   flight at the end are not counted (as wrk and kbt-load do), only reported.
//
// Usage: linux-http-open-loop --addr IP:PORT --rate R --duration S
//                             [--connections N] [--path /] [--timeout S]
// Prints one JSON object on stdout; exits 1 when it cannot run at all.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "kbt-load/latency_histogram.hh"
#include "kbt-load/response_parser.hh"

namespace {

using kbt::load::http_response_parser;
using kbt::load::latency_histogram;
using kbt::load::parse_state;

constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

std::uint64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000U +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

struct options {
  std::string addr;
  std::string path = "/";
  unsigned connections = 100;
  double rate = 0;
  double duration = 10;
  double timeout = 2;
};

// Why a request did not count.
enum class error_kind : std::uint8_t {
  connect,  // a (re)connect failed
  read,     // the connection broke or closed while a response was due
  write,    // the request could not be written whole
  status,   // a complete response that was not 2xx/3xx
  parse,    // not an HTTP/1.x response the parser can follow
  timeout,  // no complete response within --timeout
};
constexpr const char* kErrorNames[] = {"connect", "read", "write", "status", "parse", "timeout"};
constexpr std::size_t kErrorKinds = std::size(kErrorNames);

struct slot {
  int fd = -1;
  bool waiting = false;         // a request is out
  std::uint64_t next_sched = 0;  // the next request's scheduled time
  std::uint64_t origin = 0;      // the outstanding request's scheduled time
  std::uint64_t sent_at = 0;     // when it was really written
  http_response_parser parser;
};

struct totals {
  std::uint64_t ok = 0;
  std::uint64_t errors[kErrorKinds] = {};
  std::uint64_t sent = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t max_behind_ns = 0;  // the latest a request left after its scheduled time
  latency_histogram latency;

  void fail(error_kind k) noexcept { ++errors[static_cast<std::size_t>(k)]; }
  std::uint64_t error_count() const noexcept {
    std::uint64_t n = 0;
    for (auto e : errors) n += e;
    return n;
  }
};

class client {
 public:
  client(const options& o, sockaddr_in to, int ep)
      : _o(o), _to(to), _ep(ep), _slots(o.connections),
        _interval_ns(static_cast<std::uint64_t>(o.connections * 1e9 / o.rate)),
        _timeout_ns(static_cast<std::uint64_t>(o.timeout * 1e9)) {
    _request = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.addr +
               "\r\nUser-Agent: linux-http-open-loop\r\nAccept: */*\r\n\r\n";
  }

  // Opens every connection; false (and a message) when one fails.
  bool connect_all() {
    for (std::size_t i = 0; i < _slots.size(); ++i) {
      if (!open(i)) {
        std::fprintf(stderr, "linux-http-open-loop: connect %s: %s\n", _o.addr.c_str(),
                     std::strerror(errno));
        return false;
      }
    }
    return true;
  }

  void run() {
    const std::uint64_t start = now_ns();
    _end = start + static_cast<std::uint64_t>(_o.duration * 1e9);
    // Spread the slots' schedules over one interval, as kbt-load does.
    for (std::size_t i = 0; i < _slots.size(); ++i) {
      _slots[i].next_sched = start + _interval_ns * i / _slots.size();
    }
    _next_due = start;
    epoll_event events[64];
    for (;;) {
      std::uint64_t t = now_ns();
      if (t >= _end) break;
      const int n = epoll_wait(_ep, events, 64, 0);
      for (int i = 0; i < n; ++i) readable(events[i].data.u32);
      t = now_ns();
      if (t >= _next_due) scan(t);
    }
    for (const slot& s : _slots) _in_flight += s.waiting ? 1 : 0;
    _elapsed_ns = now_ns() - start;
  }

  void print_json() const {
    const double secs = static_cast<double>(_o.duration);
    auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e3; };
    const auto& h = _t.latency;
    std::printf("{\"addr\":\"%s\",\"connections\":%u,\"rate\":%.1f,\"duration_s\":%.3f,"
                "\"elapsed_s\":%.3f,\"requests\":%llu,\"achieved_rate\":%.1f,\"sent\":%llu,"
                "\"in_flight_at_end\":%llu,\"reconnects\":%llu,\"errors\":%llu,\"errors_by_kind\":{",
                _o.addr.c_str(), _o.connections, _o.rate, secs,
                static_cast<double>(_elapsed_ns) / 1e9, ull(_t.ok),
                static_cast<double>(_t.ok) / secs, ull(_t.sent), ull(_in_flight),
                ull(_t.reconnects), ull(_t.error_count()));
    for (std::size_t k = 0; k < kErrorKinds; ++k) {
      std::printf("%s\"%s\":%llu", k == 0 ? "" : ",", kErrorNames[k], ull(_t.errors[k]));
    }
    std::printf("},\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p99_9_us\":%.1f,"
                "\"max_us\":%.1f,\"mean_us\":%.1f,\"max_behind_schedule_us\":%.1f}\n",
                us(h.value_at_percentile(50)), us(h.value_at_percentile(90)),
                us(h.value_at_percentile(99)), us(h.value_at_percentile(99.9)), us(h.max()),
                h.mean() / 1e3, us(_t.max_behind_ns));
  }

  std::uint64_t ok() const noexcept { return _t.ok; }

 private:
  using ull = unsigned long long;

  // A blocking connect (only at the start and after a broken connection),
  // then non-blocking with TCP_NODELAY, as wrk's sockets are.
  bool open(std::size_t i) {
    slot& s = _slots[i];
    s.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s.fd < 0) return false;
    const int one = 1;
    setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s.fd, reinterpret_cast<const sockaddr*>(&_to), sizeof _to) != 0) {
      close_slot(s);
      return false;
    }
    fcntl(s.fd, F_SETFL, fcntl(s.fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    if (epoll_ctl(_ep, EPOLL_CTL_ADD, s.fd, &ev) != 0) {
      close_slot(s);
      return false;
    }
    s.parser.reset();
    s.waiting = false;
    return true;
  }

  void close_slot(slot& s) noexcept {
    if (s.fd >= 0) close(s.fd);  // also leaves the epoll set
    s.fd = -1;
    s.waiting = false;
  }

  // The connection broke: count it, and connect again (the slot keeps its schedule).
  void broken(std::size_t i, error_kind why) {
    slot& s = _slots[i];
    if (s.waiting) _t.fail(why);
    close_slot(s);
    ++_t.reconnects;
    if (!open(i)) _t.fail(error_kind::connect);  // tried again at its next turn
    _next_due = 0;
  }

  void readable(std::uint32_t i) {
    slot& s = _slots[i];
    if (s.fd < 0) return;
    std::byte buf[16384];
    for (;;) {
      const ssize_t n = recv(s.fd, buf, sizeof buf, 0);
      if (n == 0) return broken(i, error_kind::read);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        return broken(i, error_kind::read);
      }
      std::span<const std::byte> piece(buf, static_cast<std::size_t>(n));
      while (!piece.empty()) {
        const auto r = s.parser.feed(piece);
        piece = piece.subspan(r.consumed);
        if (r.state == parse_state::error) return broken(i, error_kind::parse);
        if (r.state != parse_state::complete) continue;
        const std::uint64_t t = now_ns();
        if (!s.waiting) {  // a response nobody asked for
          _t.fail(error_kind::parse);
          return broken(i, error_kind::parse);
        }
        s.waiting = false;
        if (s.parser.status() >= 200 && s.parser.status() < 400) {
          ++_t.ok;
          _t.latency.record(t - s.origin);
        } else {
          _t.fail(error_kind::status);
        }
        const bool closes = s.parser.closes();
        s.parser.reset();
        if (closes) return broken(i, error_kind::read);
        _next_due = std::min(_next_due, s.next_sched);
      }
    }
  }

  void scan(std::uint64_t t) {
    _next_due = kNever;
    for (std::size_t i = 0; i < _slots.size(); ++i) {
      slot& s = _slots[i];
      if (s.fd < 0) {
        // A failed reconnect: try again at the slot's next turn, which is skipped.
        if (t >= s.next_sched) {
          s.next_sched += _interval_ns;
          if (!open(i)) _t.fail(error_kind::connect);
        }
      } else if (s.waiting) {
        if (t - s.sent_at >= _timeout_ns) {
          broken(i, error_kind::timeout);
          continue;
        }
        _next_due = std::min(_next_due, s.sent_at + _timeout_ns);
        continue;
      } else if (t >= s.next_sched) {
        send(s, t);
      }
      _next_due = std::min(_next_due, s.waiting ? s.sent_at + _timeout_ns : s.next_sched);
    }
  }

  void send(slot& s, std::uint64_t t) {
    const ssize_t n = ::send(s.fd, _request.data(), _request.size(), MSG_NOSIGNAL);
    s.origin = s.next_sched;
    s.next_sched += _interval_ns;
    if (n != static_cast<ssize_t>(_request.size())) {
      _t.fail(error_kind::write);
      return;
    }
    ++_t.sent;
    s.waiting = true;
    s.sent_at = t;
    _t.max_behind_ns = std::max(_t.max_behind_ns, t - s.origin);
  }

  const options& _o;
  sockaddr_in _to;
  int _ep;
  std::vector<slot> _slots;
  std::uint64_t _interval_ns;
  std::uint64_t _timeout_ns;
  std::string _request;
  std::uint64_t _end = 0;
  std::uint64_t _next_due = 0;
  std::uint64_t _in_flight = 0;
  std::uint64_t _elapsed_ns = 0;
  totals _t;
};

bool parse_addr(const std::string& text, sockaddr_in& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  out = {};
  out.sin_family = AF_INET;
  const std::string ip = text.substr(0, colon);
  unsigned long port = 0;
  try {
    port = std::stoul(text.substr(colon + 1));
  } catch (const std::exception&) {
    return false;
  }
  if (port == 0 || port > 65535) return false;
  out.sin_port = htons(static_cast<std::uint16_t>(port));
  return inet_pton(AF_INET, ip.c_str(), &out.sin_addr) == 1;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app("linux-http-open-loop: open-loop HTTP/1.1 keep-alive client on kernel sockets "
               "(kbt-load's model), for bench/linux_side.sh latency",
               "linux-http-open-loop");
  app.add_option("--addr", o.addr, "server, IPV4:PORT")->required()->type_name("IP:PORT");
  app.add_option("--rate", o.rate, "requests/s in total, at fixed intervals")
      ->required()
      ->check(CLI::Range(1.0, 1e8))
      ->type_name("R");
  app.add_option("--duration", o.duration, "seconds of load")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 1e5))
      ->type_name("SECONDS");
  app.add_option("--connections", o.connections, "keep-alive connections")
      ->capture_default_str()
      ->check(CLI::Range(1U, 60000U))
      ->type_name("N");
  app.add_option("--path", o.path, "request path")->capture_default_str();
  app.add_option("--timeout", o.timeout, "a response not complete within this is an error")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0))
      ->type_name("SECONDS");
  CLI11_PARSE(app, argc, argv);

  sockaddr_in to{};
  if (!parse_addr(o.addr, to)) {
    std::fprintf(stderr, "linux-http-open-loop: --addr '%s': want IPV4:PORT\n", o.addr.c_str());
    return 2;
  }
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    std::perror("linux-http-open-loop: epoll_create1");
    return 1;
  }
  client c(o, to, ep);
  if (!c.connect_all()) return 1;
  c.run();
  c.print_json();
  return 0;
}
