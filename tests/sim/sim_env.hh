#pragma once
// What the simulation tests share: the seed flags of the kbt-sim binary, a
// loop over seeds that stops at the first failing one and prints the command
// that replays it, and one mbuf pool for tests that need no world.
//
//   kbt-sim --seed=N    every seeded test runs exactly seed N
//   kbt-sim --seeds=N   multi-seed tests run seeds 1..N (default 200)
#include <gtest/gtest.h>
#include <rte_mempool.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace kbt::sim {

struct seed_flags {
  std::optional<std::uint64_t> only;  // --seed=N
  std::uint64_t count = 200;          // --seeds=N
  std::string program = "kbt-sim";   // argv[0], for replay lines
};

// Removes --seed= and --seeds= from argv (before gtest sees it) and records
// them. Returns an error message for a malformed value, else "".
std::string parse_seed_flags(int& argc, char** argv);
const seed_flags& flags() noexcept;

// The seeds a multi-seed test runs: 1..min(--seeds, cap), or only --seed.
// `cap` lets a costly test run fewer seeds than the rest.
std::vector<std::uint64_t> seeds_to_run(std::uint64_t cap = UINT64_MAX);
// The seed a single-seed test runs: --seed when given, else `fallback`.
std::uint64_t single_seed(std::uint64_t fallback) noexcept;

// "replay: <argv0> --gtest_filter=Suite.Name --seed=N" for the running test.
std::string replay_line(std::uint64_t seed);

// Runs body(seed) for each seed under a trace naming the replay command;
// stops at the first seed that fails and prints its replay line.
template <typename Body>
void for_each_seed(const std::vector<std::uint64_t>& seeds, Body&& body) {
  for (std::uint64_t seed : seeds) {
    const std::string replay = replay_line(seed);
    {
      SCOPED_TRACE(replay);
      body(seed);
    }
    if (testing::Test::HasFailure()) {
      std::printf("%s\n", replay.c_str());
      return;
    }
  }
}

// A pool for link tests (made in main once the EAL is up).
void set_shared_pool(rte_mempool* pool) noexcept;
rte_mempool* shared_pool() noexcept;

}  // namespace kbt::sim
