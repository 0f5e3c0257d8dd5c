#include "report.hh"

#include <algorithm>
#include <cstdio>

namespace kbt::load {
namespace {

using ull = unsigned long long;

double per_second(std::uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1e3; }

struct percentile_row {
  const char* text;  // as the text report prints it
  const char* json;  // its JSON key
  double p;
};
constexpr percentile_row kPercentiles[] = {
    {"50%", "p50", 50.0}, {"90%", "p90", 90.0}, {"99%", "p99", 99.0}, {"99.9%", "p99_9", 99.9}};

std::string json_escape(const std::string& in) {
  std::string out;
  for (char c : in) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

run_summary merge(const run_state& run) {
  run_summary s;
  for (const auto& cp : run.cores) {
    const core_stats& c = *cp;
    s.responses += c.responses.get();
    s.ok += c.ok;
    s.non2xx += c.non2xx;
    s.statuses.merge(c.statuses);
    s.connects += c.connects;
    s.syn_retransmitted += c.syn_retransmitted;
    s.connect_deferred += c.connect_deferred;
    s.body_bytes += c.body_bytes;
    s.errors += c.errors.get();
    for (std::size_t k = 0; k < kErrorKinds; ++k) s.errors_by_kind[k] += c.errors_by_kind[k];
    s.pending_connects += c.pending_connects_at_end;
    s.pending_requests += c.pending_requests_at_end;
    s.seconds = std::max(s.seconds, static_cast<double>(c.elapsed_ns) / 1e9);
    s.latency.merge(c.latency);
  }
  return s;
}

void print_text(const run_summary& s, const report_context& r) {
  const load_config& cfg = *r.config;
  std::printf("kbt-load: %s, %u connection(s) on %u core(s), %s%s\n", r.url.c_str(),
              cfg.connections, r.cores, cfg.rate > 0 ? "open loop" : "closed loop",
              cfg.close ? ", Connection: close" : ", keep-alive");
  if (cfg.pipeline > 1) std::printf("  pipeline        %u requests per connection\n", cfg.pipeline);
  if (cfg.rate > 0) std::printf("  target rate     %.0f requests/s\n", cfg.rate);
  std::printf("  requests        %llu in %.2fs (%llu 2xx/3xx, %llu non-2xx)\n", ull(s.responses),
              s.seconds, ull(s.ok), ull(s.non2xx));
  if (s.responses > 0) std::printf("  statuses        %s\n", s.statuses.to_text().c_str());
  std::printf("  requests/s      %.1f\n", per_second(s.responses, s.seconds));
  std::printf("  connects        %llu", ull(s.connects));
  if (cfg.close) std::printf(" (%.1f connections/s)", per_second(s.connects, s.seconds));
  if (s.syn_retransmitted > 0) {
    std::printf(", %llu after a SYN retransmission", ull(s.syn_retransmitted));
  }
  std::printf("\n  body            %llu bytes (%.2f MB/s)\n", ull(s.body_bytes),
              per_second(s.body_bytes, s.seconds) / 1e6);
  std::printf("  errors          %llu", ull(s.errors));
  for (std::size_t k = 0; k < kErrorKinds; ++k) {
    std::printf("%s%s %llu", k == 0 ? " (" : ", ", kErrorNames[k], ull(s.errors_by_kind[k]));
  }
  std::printf(")\n");
  if (s.pending_connects + s.pending_requests > 0) {
    std::printf("  in flight at end %llu connect(s), %llu request(s) (not counted)\n",
                ull(s.pending_connects), ull(s.pending_requests));
  }
  std::printf("  latency (us)   ");
  for (const auto& p : kPercentiles) {
    std::printf(" %s %.1f", p.text, us(s.latency.value_at_percentile(p.p)));
  }
  std::printf(" max %.1f mean %.1f\n", us(s.latency.max()), s.latency.mean() / 1e3);
  std::fflush(stdout);
}

void print_json(const run_summary& s, const report_context& r) {
  const load_config& cfg = *r.config;
  std::printf("{\"url\":\"%s\",\"connections\":%u,\"cores\":%u,\"rate\":%.1f,\"close\":%s,",
              json_escape(r.url).c_str(), cfg.connections, r.cores, cfg.rate,
              cfg.close ? "true" : "false");
  std::printf("\"pipeline\":%u,", cfg.pipeline);
  std::printf("\"duration_s\":%.3f,\"requests\":%llu,\"ok\":%llu,\"non2xx\":%llu,", s.seconds,
              ull(s.responses), ull(s.ok), ull(s.non2xx));
  std::printf("\"statuses\":%s,", s.statuses.to_json().c_str());
  std::printf("\"requests_per_s\":%.1f,\"connects\":%llu,\"connects_per_s\":%.1f,",
              per_second(s.responses, s.seconds), ull(s.connects),
              per_second(s.connects, s.seconds));
  std::printf("\"syn_retransmitted\":%llu,", ull(s.syn_retransmitted));
  std::printf("\"connect_deferred\":%llu,\"body_bytes\":%llu,", ull(s.connect_deferred),
              ull(s.body_bytes));
  std::printf("\"errors\":{\"total\":%llu", ull(s.errors));
  for (std::size_t k = 0; k < kErrorKinds; ++k) {
    std::printf(",\"%s\":%llu", kErrorNames[k], ull(s.errors_by_kind[k]));
  }
  std::printf("},\"in_flight_at_end\":{\"connects\":%llu,\"requests\":%llu},",
              ull(s.pending_connects), ull(s.pending_requests));
  std::printf("\"latency_us\":{");
  for (const auto& p : kPercentiles) {
    std::printf("\"%s\":%.1f,", p.json, us(s.latency.value_at_percentile(p.p)));
  }
  std::printf("\"max\":%.1f,\"mean\":%.1f}}\n", us(s.latency.max()), s.latency.mean() / 1e3);
  std::fflush(stdout);
}

std::string verdict(const run_summary& s, const report_context& r) {
  const load_config& cfg = *r.config;
  const std::string target =
      wire::to_string(cfg.ip) + ":" + std::to_string(static_cast<unsigned>(cfg.port));
  if (s.errors > 0 || s.non2xx > 0) {
    std::string line = std::to_string(s.errors + s.non2xx) + " request(s) failed (";
    for (std::size_t k = 0; k < kErrorKinds; ++k) {
      line += std::string(kErrorNames[k]) + " " + std::to_string(s.errors_by_kind[k]) + ", ";
    }
    line += "non-2xx " + std::to_string(s.non2xx) + ")";
    if (s.responses == 0 && s.errors_by_kind[static_cast<std::size_t>(error_kind::connect)] > 0) {
      line += ": nothing connected; is a server listening on " + target + "?";
    }
    return line;
  }
  if (s.responses == 0) {
    if (s.connects == 0) {
      return "nothing completed: no connection to " + target + " in " +
             std::to_string(static_cast<int>(s.seconds)) + "s (unreachable?)";
    }
    return "nothing completed: connected, but no response within the run";
  }
  return {};
}

}  // namespace kbt::load
