// kbt-test-api: a small run_app application for interop-api, which checks
// what only a running stack shows: tcp_on as the application set it, a stop
// requested from a handler or from another thread (run_app returns 0), and
// user data freed when the stack stops with connections open.
// Usage: kbt-test-api [EAL arguments --] [--ip ADDR/PREFIX] [--port N]
//        [--tcp on|off|default] [--stop-on-data] [--stop-from-thread-ms N]
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <thread>

#include "api/app.hh"
#include "api/eal_args.hh"
#include "common/app_options.hh"
#include "dev/startup_error.hh"

namespace {

using namespace kbt;

std::atomic<int> g_accepted{0};
std::atomic<int> g_freed{0};

void free_tag(void* p) {
  delete static_cast<int*>(p);
  g_freed.fetch_add(1);
}

struct probe {
  bool stop_on_data = false;

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
      return probe{stop_on_data};
    });
    if (stopper.joinable()) stopper.join();
    std::printf("kbt-test-api: run_app returned %d, user data freed %d of %d\n", rc, g_freed.load(),
                g_accepted.load());
    std::fflush(stdout);
    return rc;
  } catch (const dev::startup_error& e) {
    apps::report_error(program, e.what());
    return 1;
  }
}
