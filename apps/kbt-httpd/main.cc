// kbt-httpd: the HTTP server of kbt. For now it starts the engine on a DPDK
// port and answers ARP and ping; TCP and HTTP come with the engine issues.
#include <cstdio>

#include "api/eal_args.hh"
#include "api/stack.hh"
#include "common/app_options.hh"
#include "dev/startup_error.hh"

int main(int argc, char** argv) {
  using namespace kbt;
  const std::string program = "kbt-httpd";
  const auto cl = api::split_command_line(argc, argv);

  CLI::App app("kbt-httpd: HTTP/1.1 server on the kbt TCP/IP stack", program);
  app.footer(apps::eal_footer(program));
  apps::common_options common;
  unsigned port = 80;
  add_common_options(app, common);
  app.add_option("--port", port, "TCP port to listen on")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(1, 65535));
  if (auto rc = apps::parse(app, cl.app)) return *rc;

  try {
    const api::stack_config config = apps::to_stack_config(common, program);
    api::stack stack(cl.eal, config);
    return stack.run();
  } catch (const dev::startup_error& e) {
    apps::report_error(program, e.what());
    return 1;
  }
}
