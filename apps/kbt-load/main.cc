// kbt-load: a wrk-style HTTP/1.1 load generator on the kbt stack. Keeps
// --connections connections to --url busy for --duration seconds, closed
// loop or at a fixed --rate (open loop, wrk2's latency correction), with
// keep-alive or one request per connection (--close), then prints the
// requests, errors and latency percentiles, as text or one JSON object.
// Usage: kbt-load [EAL arguments --] --url http://IP[:PORT]/path [flags]
#include <rte_lcore.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "api/app.hh"
#include "api/eal_args.hh"
#include "common/app_options.hh"
#include "base/startup_error.hh"
#include "histogram_output.hh"
#include "ip/source_range.hh"
#include "load_handler.hh"
#include "pipeline_option.hh"
#include "report.hh"
#include "url.hh"

namespace {

// kbt-load's own flags, as given.
struct load_flags {
  std::string url;
  std::uint32_t connections = 10;
  double duration = 10;
  double rate = 0;
  double timeout = 10;
  double start_delay = 0;
  bool close = false;
  std::uint32_t pipeline = 1;
  bool json = false;
  std::string method = "GET";
  std::vector<std::string> headers;  // -H 'Name: value', as given
  std::string body_file;
  std::string histogram;  // --histogram FILE
  double connect_rate = 0;
  std::string source_ips;  // --source-ips FIRST-LAST, as given
};

void add_load_options(CLI::App& app, load_flags& f) {
  app.add_option("--url", f.url, "target, http://IPV4[:PORT]/path (no DNS)")
      ->required()
      ->type_name("URL");
  app.add_option("--connections", f.connections, "connections in total, split evenly over the cores")
      ->capture_default_str()
      ->check(CLI::Range(1U, 1U << 24))
      ->type_name("N");
  app.add_option("--duration", f.duration, "how long the load runs")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1e6))
      ->type_name("SECONDS");
  app.add_option("--rate", f.rate,
                 "requests/s in total, at fixed intervals, latency from the scheduled time "
                 "(0: closed loop, as fast as responses come)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9))
      ->type_name("R");
  app.add_option("--timeout", f.timeout, "a connect or a response not done within this is an error")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0))
      ->type_name("SECONDS");
  app.add_option("--start-delay", f.start_delay,
                 "wait this long after the stack is up before the load starts")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0))
      ->type_name("SECONDS");
  app.add_flag("--close", f.close, "one request per connection (Connection: close): connections/s");
  kbt::load::add_pipeline_option(app, f.pipeline);
  app.add_flag("--json", f.json, "print the result as one JSON object on stdout (its fields: README, kbt-load's --json object)");
  app.add_option("-H,--header", f.headers,
                 "add a request header 'Name: value' (repeatable); a Host, User-Agent or Accept "
                 "given here replaces the default one, as with wrk and curl")
      ->type_name("'NAME: VALUE'");
  app.add_option("--method", f.method, "the request method (HEAD responses are read without body)")
      ->capture_default_str()
      ->type_name("METHOD");
  app.add_option("--body-file", f.body_file,
                 "send this file's bytes as each request's body, with Content-Length")
      ->type_name("FILE");
  app.add_option("--connect-rate", f.connect_rate,
                 "open at most R new connections/s in total (a ramp; 0: all at once)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9))
      ->type_name("R");
  app.add_option("--source-ips", f.source_ips,
                 "open the connections from these addresses of --ip's subnet in turn, each with "
                 "the whole --local-ports range: past one address's ~64k connections to one "
                 "server (at most 256 addresses; default: --ip's address alone)")
      ->type_name("FIRST-LAST");
  app.add_option("--histogram", f.histogram,
                 "write the latency histogram to FILE as HdrHistogram's percentile distribution "
                 "(Value in ms, Percentile, TotalCount, 1/(1-Percentile); Mean, StdDeviation, Max, "
                 "Total count)")
      ->type_name("FILE");
}

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower_ascii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) { return lower_ascii(c); });
  return s;
}

// RFC 9110 §5.6.2: a method and a field name are tokens.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

std::uint64_t to_ns(double seconds) { return static_cast<std::uint64_t>(seconds * 1e9); }

// The bytes of one request, or nullopt and `error` set when a flag is bad.
std::optional<std::string> build_request(const kbt::load::http_target& t, const load_flags& f,
                                         std::string& error) {
  if (!is_token(f.method)) {
    error = "--method '" + f.method + "': not an HTTP method token";
    return std::nullopt;
  }
  std::string given;  // the -H lines, each checked
  bool host = false, agent = false, accept = false;
  for (const std::string& h : f.headers) {
    const std::size_t colon = h.find(':');
    const std::string name = colon == std::string::npos ? h : h.substr(0, colon);
    if (colon == std::string::npos || !is_token(name) ||
        h.find_first_of("\r\n") != std::string::npos) {
      error = "-H '" + h + "': want 'Name: value' (a token, a colon, no CR or LF)";
      return std::nullopt;
    }
    const std::string lname = lower_ascii(name);
    if (lname == "content-length" && !f.body_file.empty()) {
      error = "-H '" + h + "': --body-file sets Content-Length";
      return std::nullopt;
    }
    host = host || lname == "host";
    agent = agent || lname == "user-agent";
    accept = accept || lname == "accept";
    given += h + "\r\n";
  }
  std::string body;
  if (!f.body_file.empty()) {
    std::ifstream in(f.body_file, std::ios::binary);
    if (!in) {
      error = "--body-file '" + f.body_file + "': cannot be read";
      return std::nullopt;
    }
    std::ostringstream all;
    all << in.rdbuf();
    body = all.str();
  }
  std::string r = f.method + " " + t.path + " HTTP/1.1\r\n";
  if (!host) r += "Host: " + t.host + "\r\n";
  if (!agent) r += "User-Agent: kbt-load\r\n";
  if (!accept) r += "Accept: */*\r\n";
  r += given;
  if (!f.body_file.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (f.close) r += "Connection: close\r\n";
  return r + "\r\n" + body;
}

kbt::load::load_config to_load_config(const kbt::load::http_target& t, const load_flags& f,
                                      std::string request) {
  kbt::load::load_config cfg;
  cfg.ip = t.ip;
  cfg.port = t.port;
  cfg.request = std::move(request);  // built once; every request copies these bytes
  cfg.head = f.method == "HEAD";
  cfg.connect_rate = f.connect_rate;
  cfg.connections = f.connections;
  cfg.rate = f.rate;
  cfg.close = f.close;
  cfg.pipeline = f.pipeline;
  cfg.duration_ns = to_ns(f.duration);
  cfg.start_delay_ns = to_ns(f.start_delay);
  cfg.timeout_ns = to_ns(f.timeout);
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kbt;
  const std::string program = "kbt-load";
  const auto cl = api::split_command_line(argc, argv);

  CLI::App app("kbt-load: HTTP/1.1 load generator on the kbt TCP/IP stack", program);
  app.footer(apps::eal_footer(program));
  apps::common_options common;
  apps::add_common_options(app, common);
  load_flags flags;
  add_load_options(app, flags);
  if (auto rc = apps::parse(app, cl.app)) return *rc;

  std::string url_error;
  const auto target = load::parse_url(flags.url, url_error);
  if (!target) {
    apps::report_error(program, "--url '" + flags.url + "': " + url_error);
    return 2;
  }
  if (const std::string why = load::pipeline_conflict(flags.pipeline, flags.close); !why.empty()) {
    apps::report_error(program, why);
    return 2;
  }
  std::string request_error;
  auto request = build_request(*target, flags, request_error);
  if (!request) {
    apps::report_error(program, request_error);
    return 2;
  }
  std::optional<wire::ipv4_range> sources;
  if (!flags.source_ips.empty()) {
    std::string why;
    sources = kbt::ip::parse_ipv4_range(flags.source_ips, why);
    if (!sources) {
      apps::report_error(program, "--source-ips " + why);
      return 2;
    }
  }
  const load::load_config cfg = to_load_config(*target, flags, std::move(*request));
  // Opened before the run, so that a path that cannot be written fails at once.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> histogram(nullptr, &std::fclose);
  if (!flags.histogram.empty()) {
    histogram.reset(std::fopen(flags.histogram.c_str(), "w"));
    if (!histogram) {
      apps::report_error(program, "--histogram '" + flags.histogram + "': cannot be written");
      return 2;
    }
  }

  // The cores' stats live here, not in the handlers, to be read after the run.
  load::run_state run;
  try {
    api::stack_config config = apps::to_stack_config(common, program);
    config.tcp_on = true;  // a client: no listener
    if (sources) {
      if (const std::string why = kbt::ip::check_source_range(*sources, config.ip, target->ip);
          !why.empty()) {
        apps::report_error(program, "--source-ips " + why);
        return 2;
      }
      config.source_ips = *sources;
    }
    const std::uint32_t max_conns = config.max_conns_per_core;
    // Called once per core, in order, once the EAL is up: the first call
    // learns the number of cores (run_app does not pass it).
    auto make = [&](api::core_context& ctx) {
      if (run.cores.empty()) {
        run.core_count = rte_lcore_count();
        for (unsigned i = 0; i < run.core_count; ++i) {
          run.cores.push_back(std::make_unique<load::core_stats>());
        }
      }
      const std::uint32_t n = run.core_count;
      const std::uint32_t base = flags.connections / n;
      const std::uint32_t extra = flags.connections % n;
      const std::uint32_t count = base + (ctx.core < extra ? 1 : 0);
      const std::uint32_t first = ctx.core * base + std::min<std::uint32_t>(ctx.core, extra);
      // --close leaves connections closing behind it: room for as many again.
      const std::uint32_t most = base + (extra > 0 ? 1 : 0);
      const std::uint32_t need = flags.close ? 2 * most : most;
      if (need > max_conns) {
        throw base::startup_error("--connections " + std::to_string(flags.connections) + " over " +
                                 std::to_string(n) + " core(s) needs --max-conns " +
                                 std::to_string(need) + " or more");
      }
      return load::load_handler(ctx, cfg, run, first, count);
    };
    const int rc = api::run_app<load::load_handler>(cl.eal, config, make);
    if (rc != 0) return rc;
  } catch (const std::exception& e) {  // base::startup_error among them
    apps::report_error(program, e.what());
    return 1;
  }

  const auto summary = std::make_unique<load::run_summary>(load::merge(run));
  const load::report_context rc{flags.url, &cfg, run.core_count};
  if (flags.json) {
    load::print_json(*summary, rc);
  } else {
    load::print_text(*summary, rc);
  }
  if (histogram && !load::write_percentile_distribution(summary->latency, histogram.get())) {
    apps::report_error(program, "--histogram '" + flags.histogram + "': write failed");
    return 1;
  }
  if (const std::string why = load::verdict(*summary, rc); !why.empty()) {
    apps::report_error(program, why);
    return 1;
  }
  return 0;
}
