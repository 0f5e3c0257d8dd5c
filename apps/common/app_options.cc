#include "app_options.hh"

#include <cstdio>

#include "base/startup_error.hh"
#include "tcp/config.hh"

namespace kbt::apps {

void add_common_options(CLI::App& app, common_options& opts) {
  app.add_option("--ip", opts.ip, "this stack's address and prefix")
      ->capture_default_str()
      ->type_name("ADDR/PREFIX");
  app.add_option("--gateway", opts.gateway, "next hop for destinations off the subnet")
      ->type_name("ADDR");
  app.add_option("--stats-interval", opts.stats_interval_s,
                 "print a one-line summary every SECONDS (0 = off)")
      ->capture_default_str()
      ->type_name("SECONDS");
  app.add_option("--syncookies", opts.syncookies,
                 "SYN cookies (RFC 4987): never; auto, when a listener's SYN queue is full; "
                 "always")
      ->capture_default_str()
      ->check(CLI::IsMember({"never", "auto", "always"}))
      ->type_name("MODE");
  app.add_option("--max-conns", opts.max_conns,
                 "connections (TCBs) per core, allocated at start-up")
      ->capture_default_str()
      ->check(CLI::Range(1U, 1U << 24))
      ->type_name("N");
  app.add_option("--pcap", opts.pcap,
                 "write what the stack receives and sends to FILE (pcapng, for tcpdump "
                 "or Wireshark); the file is created or truncated")
      ->type_name("FILE");
  app.add_option("--pcap-limit", opts.pcap_limit,
                 "stop the --pcap capture after this many packets")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
      ->type_name("PACKETS");
  // 576: RFC 791's minimum datagram every host takes; 9000: jumbo frames,
  // the largest MSS (8960) the SYN cookie table encodes.
  app.add_option("--mtu", opts.mtu,
                 "IP MTU of the port; the MSS advertised is MTU - 40 (frames longer than a "
                 "buffer go as chains)")
      ->capture_default_str()
      ->check(CLI::Range(576, 9000))
      ->type_name("BYTES");
  // The window a connection offers and the data it may have in flight: one
  // fast connection needs bandwidth x round-trip time of it.
  app.add_option("--tcp-buffer", opts.tcp_buffer,
                 "receive and send buffer of each TCP connection (the most it advertises and "
                 "the most it has in flight)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{16} << 10, std::uint32_t{64} << 20))
      ->type_name("BYTES");
  // Everything a core holds comes from its pool: a connection with a
  // request in flight holds at least one, so the default grows with them.
  app.add_option("--mbufs", opts.mbufs,
                 "mbufs in each core's pool (0: two per --max-conns connection and 8192 "
                 "more, at least 16383); the EAL's memory (-m) must hold them")
      ->capture_default_str()
      ->check(CLI::Range(0U, 1U << 26))
      ->type_name("N");
  app.add_option("--local-ports", opts.local_ports,
                 "source ports of the connections this stack opens, as Linux's "
                 "ip_local_port_range (more than 28k connections to one server need more)")
      ->capture_default_str()
      ->type_name("FIRST-LAST");
  // Exactly the two names: "reno" (Linux's name for the same, which
  // tcp::parse_cc_algorithm takes) would suggest plain Reno, which kbt
  // does not run.
  app.add_option("--cc", opts.cc,
                 "congestion control of every connection: newreno (RFC 5681, RFC 6582) or "
                 "cubic (RFC 9438)")
      ->capture_default_str()
      ->check(CLI::IsMember({"newreno", "cubic"}))
      ->type_name("ALGORITHM");
  // RFC 791 §3.2 leaves the reassembly timer to the host; Linux's
  // ipfrag_time is 30 s.
  app.add_option("--ip-frag-timeout", opts.ip_frag_timeout_s,
                 "how long the fragments of an IPv4 datagram wait for the rest before they "
                 "are dropped, from the first (Linux's ipfrag_time)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0))
      ->type_name("SECONDS");
}

std::string eal_footer(const std::string& program) {
  return "DPDK EAL arguments come first, then --, then the options above:\n"
         "  " + program + " -l 0-1 --vdev=net_tap0,iface=kbt0 -- --ip 198.18.0.2/24\n"
         "With no EAL arguments it runs on one core on a TAP device named kbt0:\n"
         "  --no-huge -m 512 --no-shconf --no-pci -l 0 --vdev=net_tap0,iface=kbt0\n";
}

std::optional<int> parse(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    report_error(app.get_name(), std::string(e.what()) + " (see --help)");
    return 2;
  }
  return std::nullopt;
}

api::stack_config to_stack_config(const common_options& opts, const std::string& program) {
  api::stack_config c;
  c.program = program;
  const auto prefix = wire::parse_ipv4_prefix(opts.ip);
  if (!prefix || prefix->addr.is_zero() || prefix->length == 0) {
    throw base::startup_error("--ip '" + opts.ip + "' is not an address with a prefix, e.g. 198.18.0.2/24");
  }
  c.ip = *prefix;
  if (!opts.gateway.empty()) {
    const auto gw = wire::parse_ipv4(opts.gateway);
    if (!gw) throw base::startup_error("--gateway '" + opts.gateway + "' is not an IPv4 address");
    if (!prefix->contains(*gw)) {
      throw base::startup_error("--gateway " + opts.gateway + " is not inside --ip " + opts.ip);
    }
    c.gateway = *gw;
  }
  c.stats_interval_s = opts.stats_interval_s;
  c.max_conns_per_core = opts.max_conns;
  c.mbufs_per_core = opts.mbufs;
  {
    unsigned first = 0, last = 0;
    char dash = 0, extra = 0;
    if (std::sscanf(opts.local_ports.c_str(), "%u%c%u%c", &first, &dash, &last, &extra) != 3 ||
        dash != '-' || first == 0 || first > last || last > 65535) {
      throw base::startup_error("--local-ports '" + opts.local_ports +
                               "' is not FIRST-LAST with 1 <= FIRST <= LAST <= 65535");
    }
    c.local_port_first = static_cast<std::uint16_t>(first);
    c.local_port_last = static_cast<std::uint16_t>(last);
  }
  // The stack opens the file right after the EAL: an unwritable path fails
  // there, naming --pcap.
  c.pcap_path = opts.pcap;
  c.pcap_limit = opts.pcap_limit;
  c.mtu = opts.mtu;  // the stack advertises MSS = MTU - 40
  c.ip_frag_timeout_ns = static_cast<std::uint64_t>(opts.ip_frag_timeout_s * 1e9);
  c.tcp.rcv_buffer = opts.tcp_buffer;
  c.tcp.snd_buffer = opts.tcp_buffer;
  c.tcp.syncookies = opts.syncookies == "never"    ? tcp::syncookies_mode::never
                     : opts.syncookies == "always" ? tcp::syncookies_mode::always
                                                   : tcp::syncookies_mode::automatic;
  // The parser's IsMember check takes the same two names; a value set
  // past the parser is refused here.
  if (opts.cc != "newreno" && opts.cc != "cubic") {
    throw base::startup_error("--cc '" + opts.cc + "' is not newreno or cubic");
  }
  c.tcp.cc = opts.cc == "newreno" ? tcp::cc_algorithm::newreno : tcp::cc_algorithm::cubic;
  return c;
}

void report_error(const std::string& program, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program.c_str(), message.c_str());
}

}  // namespace kbt::apps
