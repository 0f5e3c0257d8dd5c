// kbt-echo: echo, discard or source on the kbt stack, for bulk tests
// against nc and for the benchmarks. With --connect it is the client of one
// connection instead (source or discard for --duration seconds): two
// kbt-echo processes measure bulk throughput between two stacks.
#include <CLI/CLI.hpp>

#include "api/app.hh"
#include "api/eal_args.hh"
#include "common/app_options.hh"
#include "base/startup_error.hh"
#include "echo_client.hh"
#include "echo_handler.hh"

namespace {

struct client_flags {
  std::string connect;  // empty: a server
  double duration = 10;
  double timeout = 5;
};

void add_client_options(CLI::App& app, client_flags& f, CLI::Option* port) {
  auto* connect =
      app.add_option("--connect", f.connect,
                     "be a client: open one connection to IPV4:PORT and, in --mode source or "
                     "discard, send or take data for --duration, then close and print "
                     "bytes, seconds and gbit_s")
          ->type_name("IPV4:PORT")
          ->excludes(port);
  app.add_option("--duration", f.duration, "--connect: seconds from the handshake to our FIN")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1e6))
      ->type_name("SECONDS")
      ->needs(connect);
  app.add_option("--timeout", f.timeout, "--connect: give up when not connected within this")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0))
      ->type_name("SECONDS")
      ->needs(connect);
}

std::uint64_t to_ns(double seconds) { return static_cast<std::uint64_t>(seconds * 1e9); }

}  // namespace

int main(int argc, char** argv) {
  using namespace kbt;
  const std::string program = "kbt-echo";
  const auto cl = api::split_command_line(argc, argv);
  CLI::App app("kbt-echo: echo, discard or source TCP server (or --connect client) on the kbt stack",
               program);
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
  auto* port_opt = app.add_option("--port", port, "TCP port (default: 7 echo, 9 discard, 19 source)")
                       ->type_name("N")
                       ->check(CLI::Range(1, 65535));
  app.add_option("--bytes", bytes, "source: bytes per connection, then FIN; all of them also after the client's FIN, a "
                 "half-close (0: until the client's FIN)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 50))  // also refuses "-5"
      ->type_name("N");
  bool no_hash = false;
  app.add_flag("--no-hash", no_hash,
               "discard: count only; no SHA-256 of what arrives (the hash, a few Gbit/s on one "
               "core, would bound a throughput benchmark)");
  client_flags client;
  add_client_options(app, client, port_opt);
  if (auto rc = apps::parse(app, cl.app)) return *rc;

  apps::echo_options opts;
  opts.mode = mode == "discard"  ? apps::echo_mode::discard
              : mode == "source" ? apps::echo_mode::source
                                 : apps::echo_mode::echo;
  opts.source_bytes = bytes;
  opts.hash = !no_hash;
  opts.max_conns = common.max_conns;
  apps::client_options copts;
  if (!client.connect.empty()) {
    std::string why;
    const auto target = apps::parse_endpoint(client.connect, why);
    if (!target) {
      apps::report_error(program, "--connect '" + client.connect + "': " + why);
      return 2;
    }
    if (opts.mode == apps::echo_mode::echo) {
      apps::report_error(program, "--connect needs --mode source or discard");
      return 2;
    }
    copts.target = *target;
    copts.duration_ns = to_ns(client.duration);
    copts.connect_timeout_ns = to_ns(client.timeout);
  }
  if (port == 0) port = opts.mode == apps::echo_mode::echo ? 7 : opts.mode == apps::echo_mode::discard ? 9 : 19;
  try {
    api::stack_config config = apps::to_stack_config(common, program);
    if (client.connect.empty()) {
      config.tcp_listen = {static_cast<std::uint16_t>(port)};
      return api::run_app<apps::echo_handler>(
          cl.eal, config, [&](api::core_context& ctx) { return apps::echo_handler(ctx, opts); });
    }
    if (copts.target.ip == config.ip.addr) {
      throw base::startup_error("--connect " + client.connect + " is this stack's own address (--ip)");
    }
    if (!config.ip.contains(copts.target.ip) && !config.gateway) {
      throw base::startup_error("--connect " + client.connect + " is not in --ip " + common.ip +
                               " and no --gateway is given");
    }
    config.tcp_on = true;  // a client: no listener
    apps::client_result result;
    const int rc = api::run_app<apps::echo_client>(cl.eal, config, [&](api::core_context& ctx) {
      return apps::echo_client(ctx, opts, copts, result);
    });
    if (rc != 0) return rc;
    if (!result.error.empty()) {
      apps::report_error(program, result.error);
      return 1;
    }
    if (!result.summary) {
      apps::report_error(program, "stopped before the connection to " + client.connect + " closed");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {  // base::startup_error among them
    apps::report_error(program, e.what());
    return 1;
  }
}
