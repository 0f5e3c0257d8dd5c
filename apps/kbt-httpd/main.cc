// kbt-httpd: the HTTP/1.1 server of kbt. Every lcore listens on --port and
// serves a static body for GET / (and HEAD /), 404 elsewhere, or with
// --root the files of a directory, with keep-alive and pipelining
// (http_handler.hh, http_session.hh).
// Usage: kbt-httpd [EAL arguments --] [--port N] [--body-size N] [--root DIR]
//        [--max-root-bytes N] [--max-uri-bytes N] [--max-header-bytes N]
//        [--idle-timeout S] [--header-timeout S] [--send-timeout S] [common flags]
#include <rte_lcore.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "api/app.hh"
#include "api/eal_args.hh"
#include "common/app_options.hh"
#include "base/startup_error.hh"
#include "http_handler.hh"
#include "static_files.hh"

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
  // nginx's large_client_header_buffers 4 8k: a request line past 8 KB
  // gets 414, a header past 4 x 8 KB is refused.
  std::size_t max_uri_bytes = 8192;
  std::size_t max_header_bytes = 32768;
  app.add_option("--max-uri-bytes", max_uri_bytes,
                 "answer 414 and close when a request target is longer than N bytes")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(std::size_t{16}, std::size_t{65536}));
  // http_parser itself refuses a header past 80 KB (400).
  app.add_option("--max-header-bytes", max_header_bytes,
                 "answer 431 and close when a request's target, field names and values "
                 "(4 bytes more per field line) pass N bytes")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(std::size_t{256}, std::size_t{65536}));
  std::string root;
  std::size_t max_root_bytes = std::size_t{256} << 20;
  app.add_option("--root", root,
                 "serve the files under DIR, read into memory at start-up (instead of the "
                 "generated body of GET /)")
      ->type_name("DIR");
  app.add_option("--max-root-bytes", max_root_bytes,
                 "refuse to start when --root's files and their headers (1 KB each) pass N bytes")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{16} << 30));
  if (auto rc = apps::parse(app, cl.app)) return *rc;

  try {
    api::stack_config config = apps::to_stack_config(common, program);
    config.tcp_listen = {static_cast<std::uint16_t>(port)};
    const auto ns = [](double s) { return static_cast<std::uint64_t>(s * 1e9); };
    // Read once, before the cores start; they share it read-only.
    static std::unique_ptr<httpd::static_files> files;
    if (!root.empty()) files = std::make_unique<httpd::static_files>(root, max_root_bytes);
    const httpd::httpd_options opts{
        body_size,
        config.max_conns_per_core,
        {.header_ns = ns(header_timeout), .idle_ns = ns(idle_timeout), .send_ns = ns(send_timeout)},
        max_uri_bytes,
        max_header_bytes,
        files.get()};
    // One per possible core, read by the stats thread.
    static std::array<httpd::httpd_counters, RTE_MAX_LCORE> counters;
    config.app_stats = [](std::string& line, const void* ctx) {
      httpd::append_stats(line, static_cast<const httpd::httpd_counters*>(ctx), RTE_MAX_LCORE);
    };
    config.app_stats_ctx = counters.data();
    return api::run_app<httpd::http_handler>(cl.eal, config, [&opts](api::core_context& ctx) {
      return httpd::http_handler(opts, counters[ctx.core]);
    });
  } catch (const base::startup_error& e) {
    apps::report_error(program, e.what());
    return 1;
  }
}
