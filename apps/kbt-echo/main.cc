// kbt-echo: echo, discard or source on the kbt stack, for bulk tests
// against nc and for the benchmarks.
#include <CLI/CLI.hpp>

#include "api/app.hh"
#include "api/eal_args.hh"
#include "common/app_options.hh"
#include "dev/startup_error.hh"
#include "echo_handler.hh"

int main(int argc, char** argv) {
  using namespace kbt;
  const std::string program = "kbt-echo";
  const auto cl = api::split_command_line(argc, argv);
  CLI::App app("kbt-echo: echo, discard or source TCP server on the kbt stack", program);
  app.footer(apps::eal_footer(program));
  apps::common_options common;
  apps::add_common_options(app, common);
  std::string mode = "echo";
  unsigned port = 0;
  std::uint64_t bytes = 0;
  app.add_option("--mode", mode, "echo (send back), discard (count and SHA-256), source (send)")
      ->capture_default_str()
      ->check(CLI::IsMember({"echo", "discard", "source"}))
      ->type_name("MODE");
  app.add_option("--port", port, "TCP port (default: 7 echo, 9 discard, 19 source)")
      ->type_name("N")
      ->check(CLI::Range(1, 65535));
  app.add_option("--bytes", bytes, "source: bytes per connection, then FIN (0: until the peer closes)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 50))  // also refuses "-5"
      ->type_name("N");
  if (auto rc = apps::parse(app, cl.app)) return *rc;

  apps::echo_options opts;
  opts.mode = mode == "discard"  ? apps::echo_mode::discard
              : mode == "source" ? apps::echo_mode::source
                                 : apps::echo_mode::echo;
  opts.source_bytes = bytes;
  opts.max_conns = common.max_conns;
  if (port == 0) port = opts.mode == apps::echo_mode::echo ? 7 : opts.mode == apps::echo_mode::discard ? 9 : 19;
  try {
    api::stack_config config = apps::to_stack_config(common, program);
    config.tcp_listen = {static_cast<std::uint16_t>(port)};
    return api::run_app<apps::echo_handler>(
        cl.eal, config, [&](api::core_context& ctx) { return apps::echo_handler(ctx, opts); });
  } catch (const dev::startup_error& e) {
    apps::report_error(program, e.what());
    return 1;
  } catch (const std::exception& e) {
    apps::report_error(program, e.what());
    return 1;
  }
}
