// kbt-httpd: the HTTP/1.1 server of kbt. Every lcore listens on --port and
// serves a static body for GET / (and HEAD /), 404 elsewhere, with
// keep-alive and pipelining (http_handler.hh, http_session.hh).
// Usage: kbt-httpd [EAL arguments --] [--port N] [--body-size N]
//        [--idle-timeout S] [--header-timeout S] [--send-timeout S] [common flags]
#include <rte_lcore.h>

#include <array>
#include <cstdint>
#include <string>

#include "api/app.hh"
#include "api/eal_args.hh"
#include "common/app_options.hh"
#include "dev/startup_error.hh"
#include "http_handler.hh"

int main(int argc, char** argv) {
  using namespace kbt;
  const std::string program = "kbt-httpd";
  const auto cl = api::split_command_line(argc, argv);

  CLI::App app("kbt-httpd: HTTP/1.1 server on the kbt TCP/IP stack", program);
  app.footer(apps::eal_footer(program));
  apps::common_options common;
  unsigned port = 80;
  std::size_t body_size = 64;
  add_common_options(app, common);
  app.add_option("--port", port, "TCP port to listen on")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(1, 65535));
  app.add_option("--body-size", body_size, "bytes of the body of GET / (a letter pattern)")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(std::size_t{0}, std::size_t{16} << 20));
  // nginx's defaults: keepalive_timeout, client_header_timeout and
  // send_timeout are 60 s (75 s for keepalive there; 60 keeps them alike).
  double idle_timeout = 60;
  double header_timeout = 60;
  double send_timeout = 60;
  const auto add_timeout = [&app](const char* flag, double& seconds, const char* what) {
    app.add_option(flag, seconds, what)
        ->capture_default_str()
        ->type_name("SECONDS")
        ->check(CLI::Range(0.0, 86400.0));
  };
  add_timeout("--idle-timeout", idle_timeout,
              "close a keep-alive connection with no request for SECONDS (0: never)");
  add_timeout("--header-timeout", header_timeout,
              "close a connection whose request header is not complete SECONDS after it "
              "opened or the request began, or whose body stops for as long (0: never)");
  add_timeout("--send-timeout", send_timeout,
              "reset a connection whose peer takes none of a waiting response for SECONDS "
              "(0: never)");
  if (auto rc = apps::parse(app, cl.app)) return *rc;

  try {
    api::stack_config config = apps::to_stack_config(common, program);
    config.tcp_listen = {static_cast<std::uint16_t>(port)};
    const auto ns = [](double s) { return static_cast<std::uint64_t>(s * 1e9); };
    const httpd::httpd_options opts{
        body_size, config.max_conns_per_core,
        {.header_ns = ns(header_timeout), .idle_ns = ns(idle_timeout), .send_ns = ns(send_timeout)}};
    // One per possible core, read by the stats thread.
    static std::array<httpd::httpd_counters, RTE_MAX_LCORE> counters;
    config.app_stats = [](std::string& line, const void* ctx) {
      httpd::append_stats(line, static_cast<const httpd::httpd_counters*>(ctx), RTE_MAX_LCORE);
    };
    config.app_stats_ctx = counters.data();
    return api::run_app<httpd::http_handler>(cl.eal, config, [&opts](api::core_context& ctx) {
      return httpd::http_handler(opts, counters[ctx.core]);
    });
  } catch (const dev::startup_error& e) {
    apps::report_error(program, e.what());
    return 1;
  }
}
