#pragma once
// Start-up failures: thrown only before the per-core loops start, caught by
// the application's main(), printed as one line that says what to fix, and
// turned into a non-zero exit. Never thrown on the packet path.
#include <stdexcept>
#include <string>

namespace kbt::base {

class startup_error : public std::runtime_error {
 public:
  explicit startup_error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace kbt::base
