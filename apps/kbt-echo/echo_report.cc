#include "echo_report.hh"

#include <cstdio>

namespace kbt::apps {

std::string_view mode_name(echo_mode m) noexcept {
  switch (m) {
    case echo_mode::echo: return "echo";
    case echo_mode::discard: return "discard";
    case echo_mode::source: return "source";
  }
  return "?";
}

double gbit_per_s(std::uint64_t bytes, std::uint64_t ns) noexcept {
  // bits per nanosecond is Gbit/s.
  return ns == 0 ? 0.0 : static_cast<double>(bytes) * 8.0 / static_cast<double>(ns);
}

std::string format_summary(const session_summary& s) {
  char nums[96];
  std::snprintf(nums, sizeof nums, " seconds=%.6f gbit_s=%.3f", static_cast<double>(s.ns) / 1e9,
                gbit_per_s(s.bytes, s.ns));
  std::string line = "kbt-echo: ";
  line.append(s.client ? "client " : "").append(mode_name(s.mode));
  line.append(" ").append(wire::to_string(s.peer_ip)).append(":");
  line.append(std::to_string(s.peer_port)).append(" bytes=").append(std::to_string(s.bytes));
  line.append(nums).append(" reason=").append(tcp::to_string(s.reason));
  if (!s.sha256.empty()) line.append(" sha256=").append(s.sha256);
  return line;
}


}  // namespace kbt::apps
