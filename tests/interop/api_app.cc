// kbt-test-api: a small run_app application for interop-api, which checks
// what only a running stack shows: tcp_on as the application set it, a stop
// requested from a handler or from another thread (run_app returns 0), user
// data freed when the stack stops with connections open, and, driven by
// commands a Linux client sends: listening and closing a listener at run
// time ("listen N", "unlisten N"), an application timer that shuts a
// connection down ("close-after MS"), and on_writable after refused sends
// ("source BYTES": a letter pattern sent as fast as the window allows).
// Anything else is echoed; every command is echoed too.
// Usage: kbt-test-api [EAL arguments --] [--ip ADDR/PREFIX] [--port N]
//        [--tcp on|off|default] [--stop-on-data] [--stop-from-thread-ms N]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string_view>
#include <thread>

#include "api/app.hh"
#include "api/eal_args.hh"
#include "common/app_options.hh"
#include "base/startup_error.hh"

namespace {

using namespace kbt;

std::atomic<int> g_accepted{0};
std::atomic<int> g_freed{0};

void free_tag(void* p) {
  delete static_cast<int*>(p);
  g_freed.fetch_add(1);
}

std::atomic<int> g_short_sends{0};  // send_copy calls that took less than offered
std::atomic<int> g_writable{0};     // on_writable calls

// The number after `word ` at the start of `text`, if it is there.
bool command(std::string_view text, std::string_view word, unsigned& value) {
  if (!text.starts_with(word) || text.size() <= word.size() || text[word.size()] != ' ') {
    return false;
  }
  const char* first = text.data() + word.size() + 1;
  return std::from_chars(first, text.data() + text.size(), value).ec == std::errc{};
}

void shut_down_later(api::core_context&, void* arg) {
  static_cast<api::connection*>(arg)->shutdown();
}

// 'a'..'z' repeated, long enough that any offset leaves a whole chunk.
constexpr std::size_t kChunk = 16384;
const std::array<std::byte, kChunk + 26> kPattern = [] {
  std::array<std::byte, kChunk + 26> p{};
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::byte>('a' + i % 26);
  return p;
}();

struct probe {
  bool stop_on_data = false;
  api::core_context* ctx = nullptr;
  // "close-after": the connections a timer will shut down (a few suffice).
  std::array<api::connection, 16> timed{};
  std::size_t timed_count = 0;
  // "source": one connection at a time.
  api::connection source{};
  std::uint64_t source_total = 0;
  std::uint64_t source_sent = 0;

  // Sends until the pattern is out or a send is short; on_writable resumes.
  void fill() {
    while (source_sent < source_total) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, source_total - source_sent));
      const std::span<const std::byte> bytes(kPattern.data() + source_sent % 26, want);
      const std::size_t n = source.send_copy(bytes);
      source_sent += n;
      if (n < want) {
        g_short_sends.fetch_add(1);
        return;
      }
    }
    source.shutdown();
  }
  void on_writable(api::connection c) {
    g_writable.fetch_add(1);
    if (c.valid() && c.user() == source.user()) fill();
  }
  bool run_command(api::connection c, std::string_view text) {
    unsigned n = 0;
    if (command(text, "listen", n)) {
      std::printf("kbt-test-api: listen %u: %s\n", n,
                  api::listen(*ctx, static_cast<std::uint16_t>(n)) ? "yes" : "no");
    } else if (command(text, "unlisten", n)) {
      std::printf("kbt-test-api: unlisten %u: %s\n", n,
                  api::stop_listening(*ctx, static_cast<std::uint16_t>(n)) ? "yes" : "no");
    } else if (command(text, "close-after", n) && timed_count < timed.size()) {
      timed[timed_count] = c;
      const bool ok = api::schedule_timer(*ctx, n, &shut_down_later, &timed[timed_count]) != 0;
      ++timed_count;
      std::printf("kbt-test-api: close-after %u: %s\n", n, ok ? "scheduled" : "refused");
    } else if (command(text, "source", n)) {
      (void)c.send_copy(std::as_bytes(std::span(text.data(), text.size())));
      source = c;
      source_total = n;
      source_sent = 0;
      fill();
      return true;  // the echo went first
    } else {
      return false;
    }
    std::fflush(stdout);
    return false;
  }

  void on_accept(api::connection c) {
    c.set_user(new int(g_accepted.fetch_add(1)), &free_tag);
  }
  // Echoes; "stop" asks the stack to stop, from this handler.
  void on_data(api::connection c, api::rx_data& d) {
    for (auto s : d) {
      const std::string_view text(reinterpret_cast<const char*>(s.data()), s.size());
      if (stop_on_data && text.find("stop") != std::string_view::npos) {
        std::printf("kbt-test-api: stop requested from a handler\n");
        std::fflush(stdout);
        api::request_stop();
      }
      if (run_command(c, text)) continue;
      (void)c.send_copy(s);
    }
  }
  // Connections stay open until the peer's FIN is answered by the stop.
};

}  // namespace

int main(int argc, char** argv) {
  const std::string program = "kbt-test-api";
  const auto cl = api::split_command_line(argc, argv);
  CLI::App app("kbt-test-api: run_app's stop, tcp_on and user data, for interop tests", program);
  app.footer(apps::eal_footer(program));
  apps::common_options common;
  apps::add_common_options(app, common);
  unsigned port = 0;
  std::string tcp = "default";
  bool stop_on_data = false;
  unsigned stop_ms = 0;
  app.add_option("--port", port, "TCP port to listen on (0: none)")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(0, 65535));
  app.add_option("--tcp", tcp, "stack_config::tcp_on: on, off, or default (unset)")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off", "default"}));
  app.add_flag("--stop-on-data", stop_on_data, "request a stop when a connection sends \"stop\"");
  app.add_option("--stop-from-thread-ms", stop_ms, "request a stop from another thread after N ms (0: never)")
      ->type_name("N");
  if (auto rc = apps::parse(app, cl.app)) return *rc;
  try {
    api::stack_config config = apps::to_stack_config(common, program);
    if (port != 0) config.tcp_listen = {static_cast<std::uint16_t>(port)};
    if (tcp != "default") config.tcp_on = tcp == "on";
    // Started once the stack is up (the factory runs after the port
    // opened, before the loops), so the delay counts from there.
    std::thread stopper;
    const auto start_stopper = [&stopper, stop_ms] {
      if (stop_ms == 0 || stopper.joinable()) return;
      stopper = std::thread([stop_ms] {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(stop_ms);
        while (!api::stop_requested() && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (api::stop_requested()) return;  // someone else's stop
        std::printf("kbt-test-api: stop requested from another thread\n");
        std::fflush(stdout);
        api::stack::stop();
      });
    };
    const int rc = api::run_app<probe>(cl.eal, config, [&](api::core_context& ctx) {
      std::printf("kbt-test-api: core %u tcp=%s\n", ctx.core, ctx.tcp != nullptr ? "on" : "off");
      std::fflush(stdout);
      start_stopper();
      probe p;
      p.stop_on_data = stop_on_data;
      p.ctx = &ctx;
      return p;
    });
    if (stopper.joinable()) stopper.join();
    std::printf("kbt-test-api: run_app returned %d, user data freed %d of %d\n", rc, g_freed.load(),
                g_accepted.load());
    std::printf("kbt-test-api: short sends %d, on_writable %d\n", g_short_sends.load(),
                g_writable.load());
    std::fflush(stdout);
    return rc;
  } catch (const base::startup_error& e) {
    apps::report_error(program, e.what());
    return 1;
  }
}
