// The soak (issue "Robustness and conformance"): random worlds, one per
// seed, each with random impairments and random application behaviour
// (soak_world.hh), every invariant checked in every world.
//
//   kbt-sim --gtest_filter=Soak.*                        seeds from 1 for 5 s
//   kbt-sim --gtest_filter=Soak.* --soak-seconds=120     seeds from 1 for 120 s
//   kbt-sim --gtest_filter=Soak.* --soak-seeds=501:500   seeds 501..1000
//   kbt-sim --gtest_filter=Soak.* --soak-seeds=501 --soak-seconds=60
//   kbt-sim --gtest_filter=Soak.* --seed=N               seed N alone, plan printed
// Both soak flags together: the range, cut short when the time is up. One
// line at the end sums up (scripts/soak.sh reads it); a failing seed prints
// its replay line.
#include <gtest/gtest.h>

#include <chrono>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "sim_env.hh"
#include "soak_world.hh"

namespace kbt::sim {
namespace {

// Inside the plain `sim` test: a taste, so that suite does not grow much.
constexpr double kDefaultSeconds = 5;
// Failures past this many print only their replay line.
constexpr std::uint64_t kDetailedFailures = 3;
// A world that fails with mbufs out keeps its pools (sim_world.hh), ~40 MB
// of EAL memory each: stop before that memory runs out.
constexpr std::uint64_t kMaxLeakingWorlds = 5;
constexpr std::uint64_t kMaxFailures = 200;

struct soak_flags {
  std::uint64_t first = 1;
  std::uint64_t count = 0;  // 0: no end but the time
  double seconds = 0;       // 0: no time limit
  soak_options options;
  std::string error;
};

std::optional<std::uint64_t> to_u64(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// kbt-sim's main knows only --seed and --seeds (sim_env.hh); gtest leaves
// flags it does not know in argv, and keeps a copy of it for us. The last
// of a repeated flag wins, so `meson test --test-args` can override the
// seconds meson.build passes.
soak_flags parse_soak_flags() {
  soak_flags f;
  bool have_seeds = false, have_seconds = false;
  for (const std::string& arg : testing::internal::GetArgvs()) {
    const std::string_view a = arg;
    if (a.starts_with("--soak-seeds=")) {
      const std::string_view v = a.substr(13);
      const std::size_t colon = v.find(':');
      const auto first = to_u64(v.substr(0, colon));
      const auto count = colon == std::string_view::npos ? std::optional<std::uint64_t>(0)
                                                         : to_u64(v.substr(colon + 1));
      if (!first || !count || *first == 0) {
        f.error = "--soak-seeds wants FIRST[:COUNT], FIRST > 0: " + arg;
        return f;
      }
      f.first = *first;
      f.count = *count;
      have_seeds = true;
    } else if (a.starts_with("--soak-seconds=")) {
      const auto s = to_u64(a.substr(15));
      if (!s || *s == 0) {
        f.error = "--soak-seconds wants a positive integer: " + arg;
        return f;
      }
      f.seconds = static_cast<double>(*s);
      have_seconds = true;
    }
  }
  if (!have_seconds && (!have_seeds || f.count == 0)) f.seconds = kDefaultSeconds;
  return f;
}

TEST(Soak, RandomWorldsKeepEveryInvariant) {
  const soak_flags f = parse_soak_flags();
  ASSERT_EQ(f.error, "");
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };

  const std::optional<std::uint64_t> only = flags().only;
  if (only) std::printf("%s", draw_plan(*only).describe().c_str());
  const std::uint64_t first = only.value_or(f.first);
  soak_stats total;
  std::uint64_t run = 0, failed = 0, leaking = 0;
  std::uint64_t slowest_seed = 0;
  double slowest_s = 0, last_progress = 0;
  std::uint64_t seed = first;
  for (;; ++seed) {
    if (only ? seed != *only : f.count != 0 && seed - first >= f.count) break;
    if (!only && f.seconds > 0 && run > 0 && elapsed() >= f.seconds) break;
    const double before = elapsed();
    const soak_outcome o = run_soak_world(seed, f.options);
    const double took = elapsed() - before;
    if (took > slowest_s) {
      slowest_s = took;
      slowest_seed = seed;
    }
    ++run;
    total.add(o.stats);
    if (!o.failure.empty()) {
      ++failed;
      const std::string replay = replay_line(seed);
      if (failed <= kDetailedFailures) {
        ADD_FAILURE() << "seed " << seed << ": " << o.failure << replay;
      } else {
        ADD_FAILURE() << "seed " << seed << ": "
                      << o.failure.substr(0, o.failure.find('\n')) << "\n" << replay;
      }
      std::printf("%s\n", replay.c_str());
      if (o.leaked) ++leaking;
      if (leaking >= kMaxLeakingWorlds || failed >= kMaxFailures) {
        std::printf("soak: stopping after %llu failing seeds (%llu kept mbufs)\n",
                    static_cast<unsigned long long>(failed),
                    static_cast<unsigned long long>(leaking));
        ++seed;
        break;
      }
    }
    if (elapsed() - last_progress >= 60) {
      last_progress = elapsed();
      std::printf("soak: %llu seeds so far, up to %llu, %llu failed, %.0f s\n",
                  static_cast<unsigned long long>(run), static_cast<unsigned long long>(seed),
                  static_cast<unsigned long long>(failed), last_progress);
      std::fflush(stdout);
    }
  }
  const double wall = elapsed();
  std::printf("soak summary: seeds=%llu first=%llu last=%llu failed=%llu wall=%.1fs "
              "per_seed=%.1fms slowest=%llu(%.0fms) %s\n",
              static_cast<unsigned long long>(run), static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(seed - 1), static_cast<unsigned long long>(failed),
              wall, run == 0 ? 0.0 : 1000 * wall / static_cast<double>(run),
              static_cast<unsigned long long>(slowest_seed), 1000 * slowest_s,
              total.format().c_str());
  std::fflush(stdout);
}

}  // namespace
}  // namespace kbt::sim
