#include "sim_env.hh"

#include <charconv>
#include <cstring>
#include <string_view>

namespace kbt::sim {
namespace {

seed_flags g_flags;
rte_mempool* g_pool = nullptr;

std::optional<std::uint64_t> parse_u64(std::string_view text) noexcept {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::string parse_seed_flags(int& argc, char** argv) {
  if (argc > 0 && argv[0] != nullptr) g_flags.program = argv[0];
  int kept = argc > 0 ? 1 : 0;
  for (int i = kept; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--seed=")) {
      g_flags.only = parse_u64(arg.substr(std::strlen("--seed=")));
      if (!g_flags.only) return "--seed wants a non-negative integer: " + std::string(arg);
    } else if (arg.starts_with("--seeds=")) {
      const auto n = parse_u64(arg.substr(std::strlen("--seeds=")));
      if (!n || *n == 0) return "--seeds wants a positive integer: " + std::string(arg);
      g_flags.count = *n;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  return {};
}

const seed_flags& flags() noexcept { return g_flags; }

std::vector<std::uint64_t> seeds_to_run(std::uint64_t cap) {
  if (g_flags.only) return {*g_flags.only};
  std::vector<std::uint64_t> seeds;
  const std::uint64_t n = std::min(g_flags.count, cap);
  for (std::uint64_t s = 1; s <= n; ++s) seeds.push_back(s);
  return seeds;
}

std::uint64_t single_seed(std::uint64_t fallback) noexcept {
  return g_flags.only.value_or(fallback);
}

std::string replay_line(std::uint64_t seed) {
  std::string test = "*";
  if (const auto* info = testing::UnitTest::GetInstance()->current_test_info()) {
    test = std::string(info->test_suite_name()) + "." + info->name();
  }
  return "replay: " + g_flags.program + " --gtest_filter=" + test +
         " --seed=" + std::to_string(seed);
}

void set_shared_pool(rte_mempool* pool) noexcept { g_pool = pool; }
rte_mempool* shared_pool() noexcept { return g_pool; }

}  // namespace kbt::sim
