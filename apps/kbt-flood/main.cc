// kbt-flood: a flood from spoofed sources (SYNs by default, --kind for the
// other TCP flags and IP fragments), for resilience tests of
// targets you own. Sends --rate SYNs a second to --target for --duration
// seconds, from random addresses of --sources, and prints what it sent each
// second; run kbt-load (or curl) beside it to see how real clients fare.
// Usage: kbt-flood [EAL arguments --] --target IP:PORT [flags]
#include <rte_lcore.h>

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "api/app.hh"
#include "api/eal_args.hh"
#include "common/app_options.hh"
#include "common/endpoint.hh"
#include "base/startup_error.hh"
#include "flood_handler.hh"

namespace {

using namespace kbt;

struct flood_flags {
  std::string target;
  std::string sources = "198.18.0.128/25";
  double rate = 10000;
  double duration = 10;
  double arp_timeout = 3;
  std::string kind = "syn";
  unsigned payload_max = 0;
};

void add_flood_options(CLI::App& app, flood_flags& f) {
  app.add_option("--target", f.target, "the listener to flood, IPV4:PORT")
      ->required()
      ->type_name("IP:PORT");
  app.add_option("--rate", f.rate, "SYNs per second over all cores (0: as fast as the port takes)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9))
      ->type_name("PPS");
  app.add_option("--duration", f.duration, "how long to flood, from the target's ARP answer")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1e6))
      ->type_name("SECONDS");
  app.add_option("--sources", f.sources,
                 "spoofed source addresses, a prefix; replies to them must go nowhere "
                 "you do not own (route them to a blackhole)")
      ->capture_default_str()
      ->type_name("PREFIX");
  app.add_option("--arp-timeout", f.arp_timeout, "give up when the target (or gateway) does not answer ARP")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0))
      ->type_name("SECONDS");
  app.add_option("--kind", f.kind,
                 "what to send: syn, ack, rst, fin, syn-ack, psh-ack (TCP segments of no "
                 "connection) or frag (first fragments of UDP datagrams never completed)")
      ->capture_default_str()
      ->check(CLI::IsMember({"syn", "ack", "rst", "fin", "syn-ack", "psh-ack", "frag"}))
      ->type_name("KIND");
  app.add_option("--payload-max", f.payload_max,
                 "random payload of 0 to this many bytes per packet (psh-ack: at least 1; "
                 "frag: rounded up to 8, at least 8)")
      ->capture_default_str()
      ->check(CLI::Range(0U, unsigned{flood::kMaxAttackPayload}))
      ->type_name("BYTES");
}

std::uint64_t to_ns(double seconds) { return static_cast<std::uint64_t>(seconds * 1e9); }

// The run's span: from the first core's first SYN to the last core's stop.
double elapsed_s(const flood::flood_run& run) {
  std::uint64_t first = UINT64_MAX, last = 0;
  for (const auto& c : run.cores) {
    const std::uint64_t f = c->first_ns.load(std::memory_order_relaxed);
    if (f != 0 && f < first) first = f;
    last = std::max(last, c->last_ns.load(std::memory_order_relaxed));
  }
  return first == UINT64_MAX || last <= first ? 0.0 : static_cast<double>(last - first) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string program = "kbt-flood";
  const auto cl = api::split_command_line(argc, argv);
  CLI::App app("kbt-flood: SYN flood from spoofed sources, for resilience tests of targets you own",
               program);
  app.footer(apps::eal_footer(program));
  apps::common_options common;
  apps::add_common_options(app, common);
  flood_flags flags;
  add_flood_options(app, flags);
  if (auto rc = apps::parse(app, cl.app)) return *rc;

  flood::flood_config cfg;
  std::string why;
  const auto target = apps::parse_endpoint(flags.target, why);
  if (!target) {
    apps::report_error(program, "--target '" + flags.target + "': " + why);
    return 2;
  }
  cfg.target = target->ip;
  cfg.port = target->port;
  const auto sources = wire::parse_ipv4_prefix(flags.sources);
  if (!sources) {
    apps::report_error(program, "--sources '" + flags.sources + "': expected IPV4/LENGTH");
    return 2;
  }
  cfg.sources = *sources;
  cfg.rate = flags.rate;
  cfg.duration_ns = to_ns(flags.duration);
  cfg.arp_timeout_ns = to_ns(flags.arp_timeout);
  cfg.kind = *flood::parse_attack_kind(flags.kind);  // CLI11 checked the name
  cfg.payload_max = static_cast<std::uint16_t>(flags.payload_max);

  flood::flood_run run;
  wire::ipv4_addr next_hop = cfg.target;
  try {
    api::stack_config config = apps::to_stack_config(common, program);
    cfg.own = config.ip.addr;
    if (cfg.target == cfg.own) {
      throw base::startup_error("--target " + flags.target + " is this stack's own address (--ip)");
    }
    if (!config.ip.contains(cfg.target) && !config.gateway) {
      throw base::startup_error("--target " + wire::to_string(cfg.target) + " is not in --ip " +
                               common.ip + " and there is no --gateway");
    }
    if (!config.ip.contains(cfg.target)) next_hop = *config.gateway;
    auto make = [&](api::core_context& ctx) {
      const unsigned cores = rte_lcore_count();
      while (run.cores.size() < cores) run.cores.push_back(std::make_unique<flood::core_tally>());
      return flood::flood_handler(ctx, cfg, run, cores);
    };
    const int rc = api::run_app<flood::flood_handler>(cl.eal, config, make);
    if (rc != 0) return rc;
  } catch (const std::exception& e) {  // base::startup_error among them
    apps::report_error(program, e.what());
    return 1;
  }

  const std::uint64_t sent = run.sent();
  const double secs = elapsed_s(run);
  std::printf("kbt-flood: sent %" PRIu64 " SYNs to %s from %s in %.2f s (%.0f/s), "
              "refused by the port %" PRIu64 ", no mbuf %" PRIu64 "\n",
              sent, flags.target.c_str(), flags.sources.c_str(), secs,
              secs > 0 ? static_cast<double>(sent) / secs : 0.0, run.refused(), run.no_mbuf());
  if (run.unresolved.load()) {
    char secs_text[32];
    std::snprintf(secs_text, sizeof secs_text, "%g", flags.arp_timeout);
    apps::report_error(program, "no ARP answer from " + wire::to_string(next_hop) + " within " +
                                    secs_text + " s: is " + wire::to_string(cfg.target) +
                                    " up and reachable?");
    return 1;
  }
  return 0;
}
