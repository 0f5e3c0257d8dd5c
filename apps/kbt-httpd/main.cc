// kbt-httpd: the HTTP/1.1 server of kbt. Every lcore listens on --port and
// serves a static body for GET / (and HEAD /), 404 elsewhere, with
// keep-alive and pipelining (http_handler.hh, http_session.hh).
// Usage: kbt-httpd [EAL arguments --] [--port N] [--body-size N] [common flags]
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
  if (auto rc = apps::parse(app, cl.app)) return *rc;

  try {
    api::stack_config config = apps::to_stack_config(common, program);
    config.tcp_listen = {static_cast<std::uint16_t>(port)};
    const httpd::httpd_options opts{body_size, config.max_conns_per_core};
    return api::run_app<httpd::http_handler>(
        cl.eal, config, [&opts](api::core_context&) { return httpd::http_handler(opts); });
  } catch (const dev::startup_error& e) {
    apps::report_error(program, e.what());
    return 1;
  }
}
